"""REST endpoints for products and orders (with their lines)."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from django.db import models
from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import model_validator

from solocrm.contacts.models import Contact
from solocrm.lib import access
from solocrm.lib.api import (
    Currency,
    LongText,
    Money,
    Pagination,
    RequiredText,
    Text,
    When,
    WriteSchema,
    partial,
    ref,
    resolve,
    responses,
)
from solocrm.lib.roles import Action
from solocrm.sales.choices import OrderStatus, SalesChannel
from solocrm.sales.orders import services
from solocrm.sales.orders.filters import OrderFilter, ProductFilter
from solocrm.sales.orders.models import Order, OrderLine, Product

router = Router()


class ProductIn(WriteSchema):
    name: RequiredText(200)
    sku: Text(100) = ""
    description: LongText = ""
    price: Money = Decimal("0.00")
    currency: Currency = Field("", validate_default=True)
    active: bool = True
    external_id: Text(100) = ""


ProductPatch = partial(ProductIn)


class ProductOut(Schema):
    uuid: uuid.UUID
    name: str
    sku: str
    description: str
    price: Decimal
    currency: str
    active: bool
    external_id: str
    created_at: datetime
    updated_at: datetime


@router.get("/products", response=responses({200: list[ProductOut]}), tags=["products"])
@paginate(Pagination)
def list_products(request: HttpRequest, filters: Query[ProductFilter]):
    return filters.apply(Product.objects.all())


@router.post("/products", response=responses({201: ProductOut}), tags=["products"])
def create_product(request: HttpRequest, payload: ProductIn):
    return Status(201, services.create_product(payload.model_dump(), actor=request.user))


@router.get("/products/{uuid}", response=responses({200: ProductOut}), tags=["products"])
def get_product(request: HttpRequest, uuid: str):
    return access.get_for(request.user, Product, uuid)


@router.put("/products/{uuid}", response=responses({200: ProductOut}), tags=["products"])
def replace_product(request: HttpRequest, uuid: str, payload: ProductIn):
    product = access.get_for(request.user, Product, uuid, Action.EDIT)
    return services.update_product(product, payload.model_dump(), actor=request.user)


@router.patch("/products/{uuid}", response=responses({200: ProductOut}), tags=["products"])
def update_product(request: HttpRequest, uuid: str, payload: ProductPatch):
    product = access.get_for(request.user, Product, uuid, Action.EDIT)
    return services.update_product(product, payload.model_dump(exclude_unset=True), actor=request.user)


@router.delete("/products/{uuid}", response=responses({204: None}), tags=["products"])
def delete_product(request: HttpRequest, uuid: str):
    """Delete a product; order lines keep its name, SKU and price (owner only)."""
    product = access.get_for(request.user, Product, uuid, Action.DELETE)
    services.delete_product(product, actor=request.user)
    return Status(204, None)


Quantity = Annotated[Decimal, Field(gt=0, le=10**9, max_digits=12, decimal_places=3)]


class OrderLineIn(WriteSchema):
    product: uuid.UUID | None = Field(None, description="Product (public id)")
    name: Text(200) = Field("", description="Default: the product's name")
    sku: Text(100) = Field("", description="Default: the product's SKU")
    quantity: Quantity = Decimal("1")
    unit_price: Money = Decimal("0.00")

    @model_validator(mode="after")
    def _named(self) -> "OrderLineIn":
        if not self.name.strip() and self.product is None:
            raise ValueError(_("a line needs a name or a product"))
        return self


class OrderIn(WriteSchema):
    number: Text(100) = ""
    external_id: Text(100) = Field("", description="Id in the source system; unique per source")
    source: Text(40) = Field("", description="Source system (shopify, stripe…)")
    contact: uuid.UUID | None = Field(None, description="Contact (public id)")
    status: OrderStatus = OrderStatus.PAID
    channel: SalesChannel | None = None
    currency: Currency = Field("", validate_default=True)
    total: Money | None = Field(None, description="What the customer paid; default: the sum of the lines")
    ordered_at: When | None = Field(None, description="Default: now")
    notes: LongText = ""
    lines: Annotated[list[OrderLineIn], Field(max_length=500)] = []


OrderPatch = partial(OrderIn)


class OrderLineOut(Schema):
    product: uuid.UUID | None
    name: str
    sku: str
    quantity: Decimal
    unit_price: Decimal
    total: Decimal

    @staticmethod
    def resolve_product(obj: OrderLine) -> uuid.UUID | None:
        return ref(obj.product)


class OrderOut(Schema):
    uuid: uuid.UUID
    number: str
    external_id: str
    source: str
    contact: uuid.UUID | None
    status: str
    channel: str
    currency: str
    total: Decimal
    ordered_at: datetime
    notes: str
    lines: list[OrderLineOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_contact(obj: Order) -> uuid.UUID | None:
        return ref(obj.contact)


def _orders() -> models.QuerySet:
    lines = OrderLine.objects.select_related("product").order_by("id")
    return Order.objects.select_related("contact").prefetch_related(Prefetch("lines", queryset=lines))


def _order_data(request: HttpRequest, data: dict[str, Any]) -> tuple[dict[str, Any], list | None]:
    """Body values as the services take them: objects instead of UUIDs, lines apart."""
    if "contact" in data:
        data["contact"] = resolve(request.user, Contact, data["contact"], "contact")
    if "channel" in data:
        data["channel"] = data["channel"] or ""
    if data.get("ordered_at", False) is None:
        del data["ordered_at"]  # keep the model's default (now) or the current value
    lines = data.pop("lines", None)
    for i, line in enumerate(lines or []):
        line["product"] = resolve(request.user, Product, line["product"], "lines", i, "product")
    return data, lines


@router.get("/orders", response=responses({200: list[OrderOut]}), tags=["orders"])
@paginate(Pagination)
def list_orders(request: HttpRequest, filters: Query[OrderFilter]):
    """Orders, newest first, each with its lines."""
    return filters.apply(_orders())


@router.post("/orders", response=responses({201: OrderOut}), tags=["orders"])
def create_order(request: HttpRequest, payload: OrderIn):
    """Create an order with its lines. The same ``source`` + ``external_id`` twice is a 409."""
    data, lines = _order_data(request, payload.model_dump())
    order = services.create_order(data, lines=lines, actor=request.user)
    return Status(201, _orders().get(pk=order.pk))


@router.get("/orders/{uuid}", response=responses({200: OrderOut}), tags=["orders"])
def get_order(request: HttpRequest, uuid: str):
    return access.get_for(request.user, _orders(), uuid)


@router.put("/orders/{uuid}", response=responses({200: OrderOut}), tags=["orders"])
def replace_order(request: HttpRequest, uuid: str, payload: OrderIn):
    """Replace every field and all lines."""
    order = access.get_for(request.user, Order, uuid, Action.EDIT)
    data, lines = _order_data(request, payload.model_dump())
    services.update_order(order, data, lines=lines, actor=request.user)
    return _orders().get(pk=order.pk)


@router.patch("/orders/{uuid}", response=responses({200: OrderOut}), tags=["orders"])
def update_order(request: HttpRequest, uuid: str, payload: OrderPatch):
    """Change the fields given; ``lines``, when given, replace all lines."""
    order = access.get_for(request.user, Order, uuid, Action.EDIT)
    data, lines = _order_data(request, payload.model_dump(exclude_unset=True))
    services.update_order(order, data, lines=lines, actor=request.user)
    return _orders().get(pk=order.pk)


@router.delete("/orders/{uuid}", response=responses({204: None}), tags=["orders"])
def delete_order(request: HttpRequest, uuid: str):
    order = access.get_for(request.user, Order, uuid, Action.DELETE)
    services.delete_order(order, actor=request.user)
    return Status(204, None)
