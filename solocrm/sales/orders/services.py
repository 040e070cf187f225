from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from solocrm.contacts.services import Conflict, apply_changes, save_validated
from solocrm.lib.normalize import MAX_MONEY
from solocrm.sales.orders.models import Order, OrderLine, Product
from solocrm.sales.orders.stamps import orders_changed
from solocrm.users.models import AuditLog

CENT = Decimal("0.01")


@transaction.atomic
def create_product(data: dict[str, Any], *, actor=None) -> Product:
    product = Product(**data)
    save_validated(product)
    AuditLog.record(actor, "product.create", product, summary=str(product))
    return product


@transaction.atomic
def update_product(product: Product, data: dict[str, Any], *, actor=None) -> Product:
    changes = apply_changes(product, data)
    save_validated(product)
    if changes:
        AuditLog.record(actor, "product.update", product, summary=str(product), changes=changes)
    return product


@transaction.atomic
def delete_product(product: Product, *, actor=None) -> None:
    """Delete a product; order lines keep their name, SKU and price."""
    AuditLog.record(actor, "product.delete", product, summary=str(product))
    product.delete()


def _check_external_id_free(source: str, external_id: str, exclude: Order | None = None) -> None:
    """The same (source, external id) twice is the same order imported twice."""
    if not external_id:
        return
    others = Order.objects.filter(source=source, external_id=external_id)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if other := others.first():
        raise Conflict(
            _("order %(uuid)s already has the external id “%(external_id)s” from source “%(source)s”")
            % {"uuid": other.uuid, "external_id": external_id, "source": source}
        )


def build_line(data: dict[str, Any]) -> OrderLine:
    """An unsaved order line; name and SKU default to the product's, total is quantity × price."""
    line = OrderLine(**data)
    if line.product is not None:
        line.name = line.name or line.product.name
        line.sku = line.sku or line.product.sku
    line.total = (line.quantity * line.unit_price).quantize(CENT)
    if abs(line.total) > MAX_MONEY:
        raise ValueError(_("line total is out of range"))
    return line


def _replace_lines(order: Order, lines: list[dict[str, Any]]) -> Decimal:
    """Swap the order's lines for ``lines``; returns their sum."""
    built = [build_line(line) for line in lines]
    order.lines.all().delete()
    for line in built:
        line.order = order
        line.full_clean(exclude=["order"])
    OrderLine.objects.bulk_create(built)
    total = sum((line.total for line in built), Decimal("0.00"))
    if total > MAX_MONEY:
        raise ValueError(_("order total is out of range"))
    return total


@transaction.atomic
def create_order(data: dict[str, Any], *, lines: list[dict[str, Any]] | None = None, actor=None) -> Order:
    """Create an order with its lines. ``total`` is what the customer paid (shipping and tax
    included); when it is not given, it is the sum of the lines.

    Raises Conflict when an order with the same source and external id exists."""
    data = dict(data)
    total = data.pop("total", None)
    _check_external_id_free(data.get("source", ""), data.get("external_id", ""))
    order = Order(**data)
    save_validated(order)
    lines_total = _replace_lines(order, lines or [])
    order.total = total if total is not None else lines_total
    order.save(update_fields=["total"])
    AuditLog.record(actor, "order.create", order, summary=str(order))
    orders_changed()
    return order


@transaction.atomic
def update_order(
    order: Order, data: dict[str, Any], *, lines: list[dict[str, Any]] | None = None, actor=None
) -> Order:
    """Change the fields in ``data``; when ``lines`` is given they replace the order's lines and,
    unless ``data`` has a ``total``, the total becomes their sum."""
    data = dict(data)
    if "source" in data or "external_id" in data:
        _check_external_id_free(
            data.get("source", order.source), data.get("external_id", order.external_id), exclude=order
        )
    if lines is not None:
        lines_total = _replace_lines(order, lines)
        if data.get("total") is None:
            data["total"] = lines_total
    elif "total" in data and data["total"] is None:
        del data["total"]  # "no total" on a partial update means "leave it"
    changes = apply_changes(order, data)
    if lines is not None:
        changes["lines"] = len(lines)
    save_validated(order)
    if changes:
        AuditLog.record(actor, "order.update", order, summary=str(order), changes=changes)
        orders_changed()
    return order


@transaction.atomic
def delete_order(order: Order, *, actor=None) -> None:
    AuditLog.record(actor, "order.delete", order, summary=str(order))
    order.delete()
    orders_changed()
