from django.urls import path

from . import views

app_name = "sales"
urlpatterns = [
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<uuid:public_id>/toggle/", views.task_toggle, name="task_toggle"),
]
