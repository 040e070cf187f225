"""The public help centre, open to anybody without a log-in (included from solocrm.urls at
``help/``). ``help/ask/`` belongs to the help form (support.helpdesk): every page here lives
under a prefix of its own so the two never overlap."""

from django.urls import path

from solocrm.support.kb import views_public

app_name = "help"
urlpatterns = [
    path("", views_public.home, name="home"),
    path("search/", views_public.search, name="search"),
    # Any text, not <slug:…>: a malformed address gets the same "not found" as an unknown one.
    path("categories/<str:slug>/", views_public.category, name="category"),
    path("articles/<str:slug>/", views_public.article, name="article"),
    path("articles/<str:slug>/helpful/", views_public.vote, name="vote"),
]
