"""The support app's pages under /support/ (namespace "support"): each part adds its own."""

from django.urls import include, path

app_name = "support"

urlpatterns = [
    path("", include("solocrm.support.tickets.urls")),
    path("", include("solocrm.support.helpdesk.urls")),  # reports/
]
