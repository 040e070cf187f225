from django.urls import path

from solocrm.sales.quotes import views, views_attachments

urlpatterns = [
    path("quotes/", views.quote_list, name="quote_list"),
    path("deals/<uuid:deal_id>/quotes/new/", views.quote_create, name="quote_create"),
    path("quotes/<uuid:public_id>/", views.quote_detail, name="quote_detail"),
    path("quotes/<uuid:public_id>/edit/", views.quote_edit, name="quote_edit"),
    path("quotes/<uuid:public_id>/preview/", views.quote_preview, name="quote_preview"),
    path("quotes/<uuid:public_id>/lines/add/", views.quote_line_add, name="quote_line_add"),
    path("quotes/<uuid:public_id>/lines/<int:line_id>/", views.quote_line_edit, name="quote_line_edit"),
    path(
        "quotes/<uuid:public_id>/lines/<int:line_id>/remove/",
        views.quote_line_remove,
        name="quote_line_remove",
    ),
    path("quotes/<uuid:public_id>/lines/<int:line_id>/move/", views.quote_line_move, name="quote_line_move"),
    path("quotes/<uuid:public_id>/products/", views.quote_product_search, name="quote_product_search"),
    path("quotes/<uuid:public_id>/print/", views.quote_print, name="quote_print"),
    path("quotes/<uuid:public_id>/pdf/", views.quote_pdf, name="quote_pdf"),
    path("quotes/<uuid:public_id>/send/", views.quote_send, name="quote_send"),
    path("quotes/<uuid:public_id>/revise/", views.quote_revise, name="quote_revise"),
    path("quotes/<uuid:public_id>/withdraw/", views.quote_withdraw, name="quote_withdraw"),
    path("quotes/<uuid:public_id>/delete/", views.quote_delete, name="quote_delete"),
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
]
