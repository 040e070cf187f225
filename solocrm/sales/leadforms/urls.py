from django.urls import path

from solocrm.sales.leadforms import views

urlpatterns = [
    path("leads/", views.lead_list, name="lead_list"),
    path("leads/<uuid:public_id>/convert/", views.lead_convert, name="lead_convert"),
    path("forms/", views.leadform_list, name="leadform_list"),
    path("forms/new/", views.leadform_create, name="leadform_create"),
    path("forms/<uuid:public_id>/", views.leadform_detail, name="leadform_detail"),
    path("forms/<uuid:public_id>/edit/", views.leadform_edit, name="leadform_edit"),
    path("forms/<uuid:public_id>/delete/", views.leadform_delete, name="leadform_delete"),
]
