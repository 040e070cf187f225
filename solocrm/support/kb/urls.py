"""The knowledge base's staff pages (included from solocrm.urls at ``support/kb/``)."""

from django.urls import path

from solocrm.support.kb import views

app_name = "kb"
urlpatterns = [
    path("", views.article_list, name="list"),
    path("new/", views.article_create, name="create"),
    path("preview/", views.preview, name="preview"),
    path("links/", views.links, name="links"),
    path("categories/", views.category_list, name="categories"),
    path("categories/<uuid:public_id>/", views.category_edit, name="category_edit"),
    path("categories/<uuid:public_id>/delete/", views.category_delete, name="category_delete"),
    path("help-centre/", views.help_center_settings, name="settings"),
    path("<uuid:public_id>/", views.article_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.article_edit, name="edit"),
    path("<uuid:public_id>/delete/", views.article_delete, name="delete"),
]
