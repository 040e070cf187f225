"""The user's calendar and reminder preferences, under /account/ (namespace "account")."""

from django.urls import path

from solocrm.sales.tasks import views

app_name = "account"
urlpatterns = [
    path("preferences/", views.preferences, name="preferences"),
    path("preferences/calendar-reset/", views.reset_calendar, name="reset_calendar"),
]
