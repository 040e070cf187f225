"""The one filter definition of the products and orders lists (web, API and CLI export)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from django.db.models import Q
from pydantic import Field

from solocrm.lib.filters import ListFilter, date_range, every_word
from solocrm.sales.choices import OrderStatus, SalesChannel

MONEY_LIMIT = Decimal("999999999999.99")  # DecimalField(max_digits=14, decimal_places=2)


def money_filter() -> Any:
    return Field(None, ge=0, le=MONEY_LIMIT, decimal_places=2)


class ProductFilter(ListFilter):
    orderings = {
        "name": ("name", "id"),
        "-name": ("-name", "-id"),
        "price": ("price", "id"),
        "-price": ("-price", "-id"),
        "created": ("created_at", "id"),
        "-created": ("-created_at", "-id"),
    }
    default_ordering = "name"

    q: str | None = Field(None, max_length=200, description="Search in name and SKU")
    active: bool | None = Field(None, description="Only products on sale (or withdrawn ones)")
    currency: str | None = Field(None, max_length=3, description="Currency code")
    min_price: Decimal | None = money_filter()
    max_price: Decimal | None = money_filter()
    ordering: Literal["name", "-name", "price", "-price", "created", "-created"] | None = None

    def filter_q(self, value: str | None) -> Q:
        return every_word(value, "name__icontains", "sku__icontains")

    def filter_currency(self, value: str | None) -> Q:
        return Q(currency=value.upper()) if value else Q()

    def filter_min_price(self, value: Decimal | None) -> Q:
        return Q(price__gte=value) if value is not None else Q()

    def filter_max_price(self, value: Decimal | None) -> Q:
        return Q(price__lte=value) if value is not None else Q()


class OrderFilter(ListFilter):
    orderings = {
        "-ordered": ("-ordered_at", "-id"),
        "ordered": ("ordered_at", "id"),
        "-total": ("-total", "-id"),
        "total": ("total", "id"),
    }
    default_ordering = "-ordered"

    q: str | None = Field(None, max_length=100, description="Order number or external id (contains)")
    status: OrderStatus | None = None
    channel: SalesChannel | None = None
    contact: UUID | None = Field(None, description="Contact (public id)")
    source: str | None = Field(None, max_length=40, description="Source system (shopify, stripe…)")
    currency: str | None = Field(None, max_length=3, description="Currency code")
    ordered_after: date | None = Field(None, description="Ordered on or after this day")
    ordered_before: date | None = Field(None, description="Ordered on or before this day")
    min_total: Decimal | None = money_filter()
    max_total: Decimal | None = money_filter()
    ordering: Literal["-ordered", "ordered", "-total", "total"] | None = None

    def filter_q(self, value: str | None) -> Q:
        value = (value or "").strip()
        return Q(number__icontains=value) | Q(external_id__icontains=value) if value else Q()

    def filter_contact(self, value: UUID | None) -> Q:
        return Q(contact__uuid=value) if value else Q()

    def filter_currency(self, value: str | None) -> Q:
        return Q(currency=value.upper()) if value else Q()

    def filter_ordered_after(self, value: date | None) -> Q:
        return date_range("ordered_at", value, None)

    def filter_ordered_before(self, value: date | None) -> Q:
        return date_range("ordered_at", None, value)

    def filter_min_total(self, value: Decimal | None) -> Q:
        return Q(total__gte=value) if value is not None else Q()

    def filter_max_total(self, value: Decimal | None) -> Q:
        return Q(total__lte=value) if value is not None else Q()
