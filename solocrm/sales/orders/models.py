"""The product catalogue and orders with their lines: the revenue every analysis reads."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from solocrm.contacts.models import Contact
from solocrm.lib.business import business_settings
from solocrm.lib.models import PublicModel
from solocrm.sales.choices import (
    OrderStatus,
    SalesChannel,
)


def default_currency() -> str:
    return business_settings().currency


class ChangeStamp(models.Model):
    """A counter per kind of data ("orders"), bumped in the same transaction by every function
    that writes that data. Caches in any process (the web server's, a CLI's) put it in their
    keys, so a figure cached before a change is never served after it (see
    solocrm.sales.orders.stamps)."""

    key = models.CharField(max_length=40, unique=True)
    value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.value}"


class Product(PublicModel):
    """Something the business sells."""

    sku = models.CharField(_("SKU"), max_length=100, blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(_("currency"), max_length=3, default=default_currency)
    active = models.BooleanField(_("active"), default=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True, db_index=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Order(PublicModel):
    """A purchase by a contact. ``total`` is what the customer paid, in ``currency``."""

    number = models.CharField(_("order number"), max_length=100, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    source = models.CharField(_("source system"), max_length=40, blank=True)
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
        verbose_name=_("contact"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PAID
    )
    channel = models.CharField(_("channel"), max_length=20, choices=SalesChannel.choices, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default=default_currency)
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=Decimal("0.00"))
    ordered_at = models.DateTimeField(_("ordered at"), default=timezone.now)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-ordered_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "ordered_at"], name="order_contact_time"),
            models.Index(fields=["-ordered_at", "-id"], name="order_newest"),
            # Global search finds an order by its number (sales/search.py).
            models.Index(fields=["number"], name="order_number"),
            # A period's revenue and buyers (the Today figures) read from the index alone: a
            # month at 1M orders takes 8 ms instead of 150 ms on SQLite.
            models.Index(
                fields=["ordered_at", "currency", "status", "total", "contact"], name="order_revenue"
            ),
        ]
        constraints = [
            # Re-importing an export must not create the same order twice.
            models.UniqueConstraint(
                fields=["source", "external_id"], condition=~Q(external_id=""), name="order_external_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.number or self.external_id or str(self.uuid)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="order_lines",
        verbose_name=_("product"),
    )
    sku = models.CharField(_("SKU"), max_length=100, blank=True)
    name = models.CharField(_("name"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, default=Decimal("1"))
    unit_price = models.DecimalField(
        _("unit price"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    total = models.DecimalField(_("line total"), max_digits=14, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"
