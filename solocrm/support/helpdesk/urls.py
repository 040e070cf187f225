"""The help desk's signed-in pages, in the support app's URLs (solocrm.support.urls: /support/,
namespace "support")."""

from django.urls import path

from . import views

urlpatterns = [
    path("reports/", views.reports_page, name="reports"),
]
