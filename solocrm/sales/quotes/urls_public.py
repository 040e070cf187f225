"""The public quote links (/q/<token>/), outside /sales/ so a customer's link stays short."""

from django.urls import path

from solocrm.sales.quotes import views_public as views_public_quotes

app_name = "public_quotes"
urlpatterns = [
    path("<str:token>/", views_public_quotes.show, name="show"),
]
