from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("refresh/", views.refresh, name="refresh"),
    path("refresh/status/", views.refresh_status, name="refresh_status"),
    path("segments/", views.segments, name="segments"),
    path("segments/<slug:code>/", views.segment_detail, name="segment_detail"),
    path("clv/", views.clv, name="clv"),
    path("churn/", views.churn, name="churn"),
    path("personas/", views.personas, name="personas"),
    path("personas/<int:persona_id>/", views.persona_detail, name="persona_detail"),
    path("cohorts/", views.cohorts, name="cohorts"),
    path("satisfaction/", views.satisfaction, name="satisfaction"),
    path("recommendations/", views.recommendations, name="recommendations"),
    path("forecast/", views.forecast, name="forecast"),
    path("marketing/", views.marketing, name="marketing"),
    path("models/", views.models, name="models"),
    path("export/<slug:name>.csv", views.export, name="export"),
]
