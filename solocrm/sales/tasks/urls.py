from django.urls import path

from solocrm.sales.tasks import views

urlpatterns = [
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<uuid:public_id>/", views.task_edit, name="task_edit"),
    path("tasks/<uuid:public_id>/toggle/", views.task_toggle, name="task_toggle"),
    path("tasks/<uuid:public_id>/snooze/", views.task_snooze, name="task_snooze"),
    path("tasks/<uuid:public_id>/delete/", views.task_delete, name="task_delete"),
    path("log/", views.log_activity, name="log_activity"),
    path("contacts/<uuid:public_id>/tasks/", views.contact_add_task, name="contact_add_task"),
]
