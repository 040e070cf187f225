"""Root URL configuration. Every app owns its own urls.py; the API lives under /api/v1/."""

from django.contrib import admin
from django.urls import include, path

from solocrm.api import api_urls

urlpatterns = [
    path("", include("solocrm.web.urls")),
    path("", include("solocrm.users.urls")),
    path("contacts/", include("solocrm.contacts.urls")),
    path("sales/", include("solocrm.sales.urls")),
    path("q/", include("solocrm.sales.urls_public_quotes")),
    path("analytics/", include("solocrm.analytics.urls")),
    path("f/", include("solocrm.sales.urls_public")),  # public lead forms, no log-in
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api_urls()),
]
