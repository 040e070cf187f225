from django.urls import path

from . import views

urlpatterns = [
    path("", views.queue, name="queue"),
    path("bulk/", views.bulk, name="bulk"),
    path("new/", views.ticket_create, name="ticket_create"),
    path("canned/", views.canned_list, name="canned_list"),
    path("canned/<uuid:public_id>/", views.canned_edit, name="canned_edit"),
    path("canned/<uuid:public_id>/delete/", views.canned_delete, name="canned_delete"),
    path("sla/", views.sla_policy, name="sla_policy"),
    path("<uuid:public_id>/", views.ticket_detail, name="ticket"),
    path("<uuid:public_id>/reply/", views.ticket_reply, name="ticket_reply"),
    path("<uuid:public_id>/note/", views.ticket_note, name="ticket_note"),
    path("<uuid:public_id>/update/", views.ticket_update, name="ticket_update"),
    path("<uuid:public_id>/link/", views.ticket_link, name="ticket_link"),
    path("<uuid:public_id>/merge/", views.ticket_merge, name="ticket_merge"),
]
