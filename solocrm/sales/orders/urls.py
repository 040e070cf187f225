from django.urls import path

from solocrm.sales.orders import views

urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<uuid:public_id>/edit/", views.product_edit, name="product_edit"),
    path("products/<uuid:public_id>/active/", views.product_toggle_active, name="product_toggle_active"),
    path("products/<uuid:public_id>/delete/", views.product_delete, name="product_delete"),
]
