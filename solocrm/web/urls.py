from django.urls import path

from . import settings_views, views, views_search

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("today/snooze/", views.snooze_item, name="today_snooze"),
    path("demo/", views.load_demo, name="load_demo"),
    path("setup/", views.setup, name="setup"),
    path("settings/", settings_views.settings_page, name="settings"),
    path("settings/test-email/", settings_views.test_email, name="settings_test_email"),
    path("settings/logo/", settings_views.logo, name="settings_logo"),
    path("search/", views_search.search_page, name="search"),
    path("search/palette/", views_search.search_palette, name="search_palette"),
]
