"""Orders with their lines, from a generic CSV, a Shopify orders export (one row per line item,
order columns filled on the first row only) or a Stripe payments export (one row per payment).

An order is identified by (source, external id): the export's order id, else its order number,
else a hash of the row, so importing the same file twice never duplicates an order. Its customer
is found by e-mail, phone, customer id or billing name, or created."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from solocrm.contacts.choices import LifecycleStage
from solocrm.contacts.importing import values as v
from solocrm.contacts.importing.base import Context, IdSet, Item, Kind, parse_into
from solocrm.contacts.importing.runner import register_kind
from solocrm.contacts.models import Contact
from solocrm.lib.normalize import normalize_currency, parse_money, split_full_name
from solocrm.sales.choices import OrderStatus, SalesChannel
from solocrm.sales.orders.models import Order, OrderLine, Product
from solocrm.sales.orders.stamps import orders_changed

ORDER_TEXT = (
    ("order_number", 100),
    ("external_id", 100),
    ("customer_name", 200),
    ("customer_id", 100),
    ("city", 100),
    ("country", 60),
    ("line_name", 200),
    ("line_sku", 100),
)
STATUS_WORDS = {
    OrderStatus.PAID: (
        "paid",
        "succeeded",
        "success",
        "complete",
        "completed",
        "captured",
        "已支付",
        "已付款",
        "已完成",
        "成功",
    ),
    OrderStatus.PENDING: (
        "pending",
        "authorized",
        "unpaid",
        "partially_paid",
        "incomplete",
        "uncaptured",
        "requires_payment_method",
        "待支付",
        "未支付",
        "待付款",
    ),
    OrderStatus.CANCELLED: (
        "cancelled",
        "canceled",
        "voided",
        "void",
        "failed",
        "expired",
        "已取消",
        "失败",
        "已关闭",
    ),
    OrderStatus.REFUNDED: ("refunded", "已退款"),
    OrderStatus.PARTIALLY_REFUNDED: ("partially_refunded", "partially refunded", "部分退款"),
    OrderStatus.FULFILLED: ("fulfilled", "shipped", "delivered", "已发货", "已收货"),
}
STATUS_LOOKUP = {word: status.value for status, words in STATUS_WORDS.items() for word in words}
CHANNEL_WORDS = {
    "web": "online",
    "online_store": "online",
    "online": "online",
    "shop": "online",
    "iphone": "online",
    "android": "online",
    "pos": "in_person",
    "shopify_draft_order": "invoice",
    "invoice": "invoice",
    "phone": "phone",
    "marketplace": "marketplace",
    "amazon": "marketplace",
}


def parse_status(value: str) -> str:
    key = value.strip().lower()
    found = STATUS_LOOKUP.get(key) or STATUS_LOOKUP.get(key.replace(" ", "_"))
    if found is None:
        raise ValueError(_("“%(value)s” is not an order status we know") % {"value": value[:30]})
    return found


def parse_channel(value: str) -> str:
    key = value.strip().lower()
    return CHANNEL_WORDS.get(key) or (key if key in SalesChannel.values else SalesChannel.OTHER.value)


@register_kind
class OrdersKind(Kind):
    name = "orders"
    analysed_models = (Order, OrderLine)
    id_caches = ("product_ids",)
    required = ("total", "line_price", "line_name", "order_number", "external_id")

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.source = ctx.plan.layout or "import"
        self.seen = IdSet()
        self.product_ids: dict[tuple[str, str], int] = {}
        self.texts = [(name, lambda s, n=limit: v.text(s, n)) for name, limit in ORDER_TEXT]

    # ------------------------------------------------------------------ parsing

    def parse(self, row: list[str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        row, errors = self.cells.fit(row)
        record: dict[str, Any] = {}
        first, region = self.cells.first, self.ctx.region
        for name, parser in self.texts:
            parse_into(record, errors, name, first(row, name), parser)
        for name in ("ordered_at", "cancelled_at"):
            parse_into(record, errors, name, first(row, name), lambda s: v.parse_datetime(s, region=region))
        for name in ("total", "refunded", "line_price"):
            parse_into(record, errors, name, first(row, name), parse_money)
        parse_into(record, errors, "line_quantity", first(row, "line_quantity"), v.parse_quantity)
        parse_into(record, errors, "currency", first(row, "currency"), lambda s: normalize_currency(s, ""))
        parse_into(record, errors, "status", first(row, "status"), parse_status)
        parse_into(record, errors, "fulfillment_status", first(row, "fulfillment_status"), str.lower)
        parse_into(record, errors, "captured", first(row, "captured"), v.parse_bool)
        parse_into(record, errors, "email_consent", first(row, "email_consent"), v.parse_bool)
        parse_into(record, errors, "email", first(row, "email"), v.email)
        parse_into(record, errors, "phone", first(row, "phone"), lambda s: v.phone(s, region))
        parse_into(record, errors, "channel", first(row, "channel"), parse_channel)
        notes = "\n".join(value.strip() for _h, value in self.cells.all(row, "notes"))
        parse_into(record, errors, "notes", ("", notes), lambda s: v.text(s, v.MAX_NOTES))
        return record, errors

    def items(self, rows: Iterator[tuple[int, list[str] | str]]) -> Iterator[Item]:
        """Group consecutive rows of one order (same id or number) into one item."""
        current: Item | None = None
        problems: list[tuple[int, list[str], list[tuple[str, str]]]] = []
        for line, row in rows:
            self.ctx.report.rows += 1
            record, errors = ({}, [("", row)]) if isinstance(row, str) else self.parse(row)
            cells = [] if isinstance(row, str) else row
            if current is not None and _same_order(current.record, record):
                current.more.append((line, cells, record))
                problems += [(line, cells, errors)] if errors else []
                continue
            if current is not None and (item := self._finish(current, problems)):
                yield item
            current, problems = Item(line, cells, record), [(line, cells, errors)] if errors else []
        if current is not None and (item := self._finish(current, problems)):
            yield item

    def _finish(self, item: Item, problems: list) -> Item | None:
        """The grouped order, or None when one of its rows is bad (then all its rows are rejected)."""
        if not problems:
            problems = self._check(item)
        if not problems:
            return item
        bad_lines = {line for line, _c, _e in problems}
        for line, cells, errors in problems:
            self.ctx.reject(line, cells, errors)
        for line, cells, _record in [(item.line, item.cells, item.record), *item.more]:
            if line not in bad_lines:
                self.ctx.reject(line, cells, [("", _("another row of this order is invalid"))])
        return None

    def _check(self, item: Item) -> list:
        record = item.record
        lines = [record, *(r for _l, _c, r in item.more)]
        if not any(r.get("line_name") or r.get("line_sku") or r.get("line_price") for r in lines) and (
            "total" not in record
        ):
            return [(item.line, item.cells, [("", _("the order has neither a total nor any line"))])]
        return []

    # ------------------------------------------------------------------ writing

    def write(self, batch: list[Item]) -> None:
        orders = [self._order(item) for item in batch]
        contacts = CustomerFinder(self.ctx).resolve(orders)
        self._resolve_products(orders)
        stored = {
            o.external_id: o
            for o in Order.objects.filter(
                source=self.source, external_id__in=[o["external_id"] for o in orders]
            )
            .prefetch_related("lines")
            .order_by("id")
        }
        new, changed, in_batch = [], [], set()
        for order in orders:
            order["contact_id"] = contacts.get(id(order))
            existing = stored.get(order["external_id"])
            if order["external_id"] in in_batch or (existing is not None and existing.pk in self.seen):
                self.ctx.report.merged += 1
            elif existing is None:
                new.append(order)
                self.ctx.report.created += 1
            elif _update(existing, order, self.ctx.now):
                changed.append((existing, order))
                self.ctx.report.updated += 1
            else:
                self.ctx.report.unchanged += 1
                self.seen.add(existing.pk)
            in_batch.add(order["external_id"])
        self._save(new, changed)

    def _order(self, item: Item) -> dict[str, Any]:
        """Order-level values from the first row, lines from every row."""
        head = item.record
        lines = [
            _line(r)
            for r in (head, *(r for _l, _c, r in item.more))
            if r.get("line_name") or r.get("line_sku")
        ]
        if not lines and "line_price" in head:
            lines = [_line({**head, "line_name": head.get("line_name") or _("Payment")})]
        total = head.get("total")
        if total is None:
            total = sum((line["total"] for line in lines), Decimal("0.00"))
        elif len(lines) == 1 and "line_price" not in head:  # a payment (Stripe): its amount is the line
            quantity = lines[0]["quantity"]
            lines[0].update(unit_price=(total / quantity).quantize(Decimal("0.01")), total=total)
        return {
            **head,
            "external_id": head.get("external_id") or head.get("order_number") or _row_hash(item),
            "number": head.get("order_number") or head.get("external_id") or "",
            "status": _status(head, total),
            "currency": head.get("currency") or self.ctx.currency,
            "total": total,
            "lines": lines,
        }

    def _resolve_products(self, orders: list[dict[str, Any]]) -> None:
        """Product ids by SKU, then by name (case-insensitive); missing products are created."""
        lines = [line for order in orders for line in order["lines"]]
        skus = {line["sku"] for line in lines if line["sku"]} - {k for t, k in self.product_ids if t == "s"}
        names = {line["name"].lower() for line in lines} - {k for t, k in self.product_ids if t == "n"}
        for pk, sku in Product.objects.filter(sku__in=skus).order_by("-id").values_list("id", "sku"):
            self.product_ids[("s", sku)] = pk
        named = Product.objects.annotate(key=Lower("name")).filter(key__in=names).order_by("-id")
        for pk, key in named.values_list("id", "key"):
            self.product_ids[("n", key)] = pk
        missing: dict[tuple[str, str], Product] = {}
        for order, line in ((o, ln) for o in orders for ln in o["lines"]):
            if _product_key(line, self.product_ids) is None:
                key = ("s", line["sku"]) if line["sku"] else ("n", line["name"].lower())
                missing.setdefault(
                    key,
                    Product(
                        sku=line["sku"],
                        name=line["name"],
                        price=line["unit_price"],
                        currency=order["currency"],
                    ),
                )
        for key, product in zip(missing, Product.objects.bulk_create(missing.values()), strict=True):
            self.product_ids[key] = product.pk
            self.product_ids.setdefault(("n", product.name.lower()), product.pk)
        for line in lines:
            line["product_id"] = _product_key(line, self.product_ids)

    def _save(self, new: list[dict[str, Any]], changed: list[tuple[Order, dict[str, Any]]]) -> None:
        created = Order.objects.bulk_create(
            [Order(source=self.source, **{k: o[k] for k in ORDER_FIELDS if k in o}) for o in new]
        )
        pairs = list(zip(created, new, strict=True))
        if changed:
            Order.objects.bulk_update([o for o, _d in changed], [*ORDER_FIELDS, "updated_at"])
            OrderLine.objects.filter(order__in=[o for o, _d in changed]).delete()
            pairs += changed
        OrderLine.objects.bulk_create(
            [OrderLine(order=order, **line) for order, data in pairs for line in data["lines"]]
        )
        for order, _data in pairs:
            self.seen.add(order.pk)
        if pairs:
            orders_changed()


ORDER_FIELDS = (
    "external_id",
    "number",
    "contact_id",
    "status",
    "channel",
    "currency",
    "total",
    "ordered_at",
    "notes",
)


def _same_order(head: dict[str, Any], record: dict[str, Any]) -> bool:
    """Shopify repeats the order number (not the id) on every line-item row of an order."""
    if record.get("external_id") and head.get("external_id"):
        return record["external_id"] == head["external_id"]
    return bool(record.get("order_number")) and record.get("order_number") == head.get("order_number")


def _row_hash(item: Item) -> str:
    """A stable id for an order row without any id, so a re-import finds it again."""
    text = "\x1f".join(c.strip() for c in item.cells)
    return "row:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _line(record: dict[str, Any]) -> dict[str, Any]:
    quantity = record.get("line_quantity", Decimal("1.000"))
    price = record.get("line_price", Decimal("0.00"))
    return {
        "sku": record.get("line_sku", ""),
        "name": record.get("line_name") or record.get("line_sku", ""),
        "quantity": quantity,
        "unit_price": price,
        "total": (quantity * price).quantize(Decimal("0.01")),
    }


def _product_key(line: dict[str, Any], ids: dict[tuple[str, str], int]) -> int | None:
    if line["sku"] and ("s", line["sku"]) in ids:
        return ids[("s", line["sku"])]
    return ids.get(("n", line["name"].lower())) if not line["sku"] else None


def _status(head: dict[str, Any], total: Decimal) -> str:
    """One OrderStatus from the export's financial status, refunds, capture and cancellation."""
    status = head.get("status", OrderStatus.PAID.value)
    if head.get("cancelled_at"):
        return OrderStatus.CANCELLED.value
    if status == OrderStatus.PAID and head.get("captured") is False:
        return OrderStatus.PENDING.value
    refunded = head.get("refunded", Decimal("0"))
    if status in (OrderStatus.PAID, OrderStatus.FULFILLED) and refunded > 0:
        return OrderStatus.REFUNDED.value if refunded >= total else OrderStatus.PARTIALLY_REFUNDED.value
    if status == OrderStatus.PAID and head.get("fulfillment_status") == "fulfilled":
        return OrderStatus.FULFILLED.value
    return status


def _update(order: Order, data: dict[str, Any], now) -> bool:
    """Apply changed values to a stored order; True when anything (fields or lines) changed."""
    changed = False
    for name in ORDER_FIELDS:
        value = data.get(name)
        if value in (None, "") or getattr(order, name) == value:
            continue
        setattr(order, name, value)
        changed = True
    old = [(ln.sku, ln.name, ln.quantity, ln.unit_price) for ln in order.lines.all()]
    new = [(ln["sku"], ln["name"], ln["quantity"], ln["unit_price"]) for ln in data["lines"]]
    if old != new:
        changed = True
    if changed:
        order.updated_at = now
    return changed


class CustomerFinder:
    """The contact of each order: by e-mail, phone, customer id, then exact name; else a new one."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def resolve(self, orders: list[dict[str, Any]]) -> dict[int, int]:
        found = self._stored(orders)
        result, new = {}, {}
        for order in orders:
            keys = _customer_keys(order)
            if not keys:
                continue
            pk = next((found[k] for k in keys if k in found), None)
            if pk is None:
                contact = next((new[k] for k in keys if k in new), None) or self._new_contact(order)
                for key in keys:
                    new.setdefault(key, contact)
                result[id(order)] = contact
            else:
                result[id(order)] = pk
        created = {id(c): c for c in new.values()}
        Contact.objects.bulk_create(created.values())
        self._consent(orders, result)
        return {key: (value if isinstance(value, int) else value.pk) for key, value in result.items()}

    def _stored(self, orders: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
        wanted: dict[str, set[str]] = {"e": set(), "p": set(), "x": set(), "n": set()}
        for order in orders:
            for prefix, value in _customer_keys(order):
                wanted[prefix].add(value)
        found: dict[tuple[str, str], int] = {}
        for prefix, column in (("e", "email"), ("p", "phone"), ("x", "external_id")):
            if wanted[prefix]:
                rows = Contact.objects.filter(**{f"{column}__in": wanted[prefix]}).order_by("-id")
                found.update(((prefix, value), pk) for pk, value in rows.values_list("id", column))
        if wanted["n"]:
            lasts = {name.split("\x1f")[1] for name in wanted["n"]}
            rows = Contact.objects.annotate(key=Lower("last_name")).filter(key__in=lasts).order_by("-id")
            for pk, first, last in rows.values_list("id", "first_name", "last_name"):
                found[("n", f"{first.lower()}\x1f{last.lower()}")] = pk
        return found

    def _new_contact(self, order: dict[str, Any]) -> Contact:
        first, last = split_full_name(order.get("customer_name", ""))
        return Contact(
            first_name=first[:100],
            last_name=last[:100],
            email=order.get("email", ""),
            phone=order.get("phone", ""),
            external_id=order.get("customer_id", ""),
            city=order.get("city", ""),
            country=order.get("country", ""),
            lifecycle_stage=LifecycleStage.CUSTOMER,
            source=self.ctx.plan.layout or "import",
        )

    def _consent(self, orders: list[dict[str, Any]], result: dict[int, Any]) -> None:
        """Customers who accepted marketing in the shop get e-mail consent (never withdrawn here)."""
        agreed = {result[id(o)] for o in orders if o.get("email_consent") and id(o) in result}
        ids = [c if isinstance(c, int) else c.pk for c in agreed]
        if ids:
            Contact.objects.filter(pk__in=ids, email_consent=False).update(
                email_consent=True,
                email_consent_at=self.ctx.now,
                email_consent_source=f"import: {self.ctx.source_name}"[:200],
                updated_at=self.ctx.now,
            )


def _customer_keys(order: dict[str, Any]) -> list[tuple[str, str]]:
    keys = []
    if order.get("email"):
        keys.append(("e", order["email"]))
    if order.get("phone"):
        keys.append(("p", order["phone"]))
    if order.get("customer_id"):
        keys.append(("x", order["customer_id"]))
    if not keys and order.get("customer_name"):
        first, last = split_full_name(order["customer_name"])
        keys.append(("n", f"{first.lower()}\x1f{last.lower()}"))
    return keys
