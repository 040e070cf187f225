"""The help desk's pages for strangers, no log-in (included from solocrm.urls at ``help/ask/``):
the help form, its article suggestions, and the CSAT answer page of the e-mailed links."""

from django.urls import path

from . import views_public

app_name = "helpdesk_public"
urlpatterns = [
    path("", views_public.ask, name="ask"),
    path("suggestions/", views_public.suggestions, name="suggestions"),
    # Any text, not a typed converter: a malformed token gets the same page as a forged one.
    path("rate/<str:token>/", views_public.csat, name="csat"),
]
