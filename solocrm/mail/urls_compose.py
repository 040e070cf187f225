"""Writing e-mail: /mail/compose/ (included from solocrm/urls.py, namespace ``mail_compose``)."""

from django.urls import path

from . import compose_views as views

app_name = "mail_compose"

urlpatterns = [
    path("", views.compose, name="compose"),
    path("preview/", views.preview, name="preview"),
    path("sent/", views.sent, name="sent"),
    path("sent/<uuid:public_id>/cancel/", views.cancel, name="cancel"),
    path("sent/<uuid:public_id>/send-again/", views.send_again, name="send_again"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_create, name="template_create"),
    path("templates/<uuid:public_id>/", views.template_edit, name="template_edit"),
    path("templates/<uuid:public_id>/delete/", views.template_delete, name="template_delete"),
    path("signature/", views.signature, name="signature"),
]
