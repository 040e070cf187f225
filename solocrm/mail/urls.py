from django.urls import path

from . import settings_views, views

app_name = "mail"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("threads/<uuid:public_id>/", views.thread, name="thread"),
    path("messages/<uuid:public_id>/", views.message, name="message"),
    path("attachments/<uuid:public_id>/", views.attachment, name="attachment"),
    path("accounts/", settings_views.account_list, name="account_list"),
    path("accounts/new/", settings_views.account_add, name="account_add"),
    path("accounts/<uuid:public_id>/", settings_views.account_edit, name="account_edit"),
    path("accounts/<uuid:public_id>/delete/", settings_views.account_delete, name="account_delete"),
    path("accounts/<uuid:public_id>/sync/", settings_views.account_sync, name="account_sync"),
]
