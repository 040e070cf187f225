from django.urls import path

from . import views, views_attachments, views_deals, views_leads, views_products, views_quotes

app_name = "sales"
urlpatterns = [
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<uuid:public_id>/", views.task_edit, name="task_edit"),
    path("tasks/<uuid:public_id>/toggle/", views.task_toggle, name="task_toggle"),
    path("tasks/<uuid:public_id>/snooze/", views.task_snooze, name="task_snooze"),
    path("tasks/<uuid:public_id>/delete/", views.task_delete, name="task_delete"),
    path("log/", views.log_activity, name="log_activity"),
    # products, quotes and attachments
    path("products/", views_products.product_list, name="product_list"),
    path("products/new/", views_products.product_create, name="product_create"),
    path("products/<uuid:public_id>/edit/", views_products.product_edit, name="product_edit"),
    path(
        "products/<uuid:public_id>/active/",
        views_products.product_toggle_active,
        name="product_toggle_active",
    ),
    path("products/<uuid:public_id>/delete/", views_products.product_delete, name="product_delete"),
    path("quotes/", views_quotes.quote_list, name="quote_list"),
    path("deals/<uuid:deal_id>/quotes/new/", views_quotes.quote_create, name="quote_create"),
    path("quotes/<uuid:public_id>/", views_quotes.quote_detail, name="quote_detail"),
    path("quotes/<uuid:public_id>/edit/", views_quotes.quote_edit, name="quote_edit"),
    path("quotes/<uuid:public_id>/preview/", views_quotes.quote_preview, name="quote_preview"),
    path("quotes/<uuid:public_id>/print/", views_quotes.quote_print, name="quote_print"),
    path("quotes/<uuid:public_id>/pdf/", views_quotes.quote_pdf, name="quote_pdf"),
    path("quotes/<uuid:public_id>/send/", views_quotes.quote_send, name="quote_send"),
    path("quotes/<uuid:public_id>/revise/", views_quotes.quote_revise, name="quote_revise"),
    path("quotes/<uuid:public_id>/withdraw/", views_quotes.quote_withdraw, name="quote_withdraw"),
    path("quotes/<uuid:public_id>/delete/", views_quotes.quote_delete, name="quote_delete"),
    path(
        "attachments/<str:kind>/<uuid:owner_id>/",
        views_attachments.attachment_upload,
        name="attachment_upload",
    ),
    path(
        "attachments/<uuid:public_id>/download/",
        views_attachments.attachment_download,
        name="attachment_download",
    ),
    path(
        "attachments/<uuid:public_id>/delete/", views_attachments.attachment_delete, name="attachment_delete"
    ),
    # leads and lead forms
    path("leads/", views_leads.lead_list, name="lead_list"),
    path("leads/<uuid:public_id>/convert/", views_leads.lead_convert, name="lead_convert"),
    path("forms/", views_leads.leadform_list, name="leadform_list"),
    path("forms/new/", views_leads.leadform_create, name="leadform_create"),
    path("forms/<uuid:public_id>/", views_leads.leadform_detail, name="leadform_detail"),
    path("forms/<uuid:public_id>/edit/", views_leads.leadform_edit, name="leadform_edit"),
    path("forms/<uuid:public_id>/delete/", views_leads.leadform_delete, name="leadform_delete"),
    # deals pipeline, board and forecast
    path("pipeline/", views_deals.board, name="board"),
    path("pipeline/settings/", views_deals.pipeline_settings, name="pipeline_settings"),
    path("pipeline/new/", views_deals.pipeline_create, name="pipeline_create"),
    path("pipeline/<uuid:public_id>/stages/", views_deals.stage_add, name="stage_add"),
    path("stages/<uuid:public_id>/", views_deals.stage_edit, name="stage_edit"),
    path("stages/<uuid:public_id>/move/", views_deals.stage_move, name="stage_move"),
    path("stages/<uuid:public_id>/delete/", views_deals.stage_delete, name="stage_delete"),
    path("deals/", views_deals.deal_list, name="deal_list"),
    path("deals/export.csv", views_deals.deal_export, name="deal_export"),
    path("deals/new/", views_deals.deal_create, name="deal_create"),
    path("deals/<uuid:public_id>/", views_deals.deal_detail, name="deal_detail"),
    path("deals/<uuid:public_id>/edit/", views_deals.deal_edit, name="deal_edit"),
    path("deals/<uuid:public_id>/move/", views_deals.deal_move, name="deal_move"),
    path("deals/<uuid:public_id>/delete/", views_deals.deal_delete, name="deal_delete"),
    path("forecast/", views_deals.forecast_page, name="forecast"),
]
