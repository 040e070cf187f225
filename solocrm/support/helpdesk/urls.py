"""The help desk's signed-in pages (included from solocrm.urls at ``support/``)."""

from django.urls import path

from . import views

app_name = "helpdesk"
urlpatterns = [
    path("reports/", views.reports_page, name="reports"),
]
