"""The public lead forms, open to anybody without a log-in: the hosted page and the variant
meant for an <iframe> on the owner's website (included from solocrm.urls at ``f/``)."""

from django.urls import path

from solocrm.sales.leadforms import views_public as views_public_forms

app_name = "public_forms"
urlpatterns = [
    # Any text, not <uuid:…>: a malformed id gets the same "not available" page as an unknown one.
    path("<str:public_id>/", views_public_forms.hosted_form, name="form"),
    path("<str:public_id>/embed/", views_public_forms.embedded_form, name="embed"),
]
