from django.urls import path

from . import views, views_dedupe

app_name = "contacts"
urlpatterns = [
    path("", views.contact_list, name="list"),
    path("new/", views.contact_create, name="create"),
    path("<uuid:public_id>/", views.contact_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.contact_edit, name="edit"),
    path("<uuid:public_id>/delete/", views.contact_delete, name="delete"),
    path("<uuid:public_id>/timeline/", views.contact_timeline, name="timeline"),
    path("<uuid:public_id>/notes/", views.contact_add_note, name="add_note"),
    path("<uuid:public_id>/composer/", views.contact_composer, name="composer"),
    path("<uuid:public_id>/field/<slug:key>/", views.contact_edit_field, name="edit_field"),
    path("companies/", views.company_list, name="company_list"),
    path("companies/new/", views.company_create, name="company_create"),
    path("companies/<uuid:public_id>/", views.company_detail, name="company_detail"),
    path("companies/<uuid:public_id>/edit/", views.company_edit, name="company_edit"),
    path("import/", views.import_upload, name="import_upload"),
    path("import/<uuid:public_id>/", views.import_preview, name="import_preview"),
    path("import/<uuid:public_id>/progress/", views.import_progress, name="import_progress"),
    path("import/<uuid:public_id>/report/", views.import_report, name="import_report"),
    path("import/<uuid:public_id>/rejected.csv", views.import_rejected, name="import_rejected"),
    # merge views (dedupe) go below
    path("duplicates/", views_dedupe.duplicates, name="duplicates"),
    path("duplicates/preview/", views_dedupe.merge_preview, name="merge_preview"),
    path("duplicates/merge/", views_dedupe.merge, name="merge"),
]
