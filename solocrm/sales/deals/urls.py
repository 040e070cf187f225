from django.urls import path

from solocrm.sales.deals import views

urlpatterns = [
    path("pipeline/", views.board, name="board"),
    path("pipeline/settings/", views.pipeline_settings, name="pipeline_settings"),
    path("pipeline/new/", views.pipeline_create, name="pipeline_create"),
    path("pipeline/<uuid:public_id>/stages/", views.stage_add, name="stage_add"),
    path("stages/<uuid:public_id>/", views.stage_edit, name="stage_edit"),
    path("stages/<uuid:public_id>/move/", views.stage_move, name="stage_move"),
    path("stages/<uuid:public_id>/delete/", views.stage_delete, name="stage_delete"),
    path("deals/", views.deal_list, name="deal_list"),
    path("deals/export.csv", views.deal_export, name="deal_export"),
    path("deals/new/", views.deal_create, name="deal_create"),
    path("deals/<uuid:public_id>/", views.deal_detail, name="deal_detail"),
    path("deals/<uuid:public_id>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<uuid:public_id>/move/", views.deal_move, name="deal_move"),
    path("deals/<uuid:public_id>/delete/", views.deal_delete, name="deal_delete"),
    path("forecast/", views.forecast_page, name="forecast"),
]
