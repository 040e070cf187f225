from django.urls import path

from . import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("today/snooze/", views.snooze_item, name="today_snooze"),
    path("demo/", views.load_demo, name="load_demo"),
    path("setup/", views.setup, name="setup"),
]
