"""Numbered quotes with their lines, and the files attached to deals and contacts."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from solocrm.contacts.models import Contact
from solocrm.lib.models import PublicModel
from solocrm.sales.choices import (
    QuoteStatus,
)
from solocrm.sales.deals.models import Deal
from solocrm.sales.orders.models import Product, default_currency


class NumberSequence(models.Model):
    """The last number handed out per series ("Q-2026"); read and bumped under a row lock so two
    quotes never share a number and none is skipped."""

    key = models.CharField(max_length=40, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.last}"


class Quote(PublicModel):
    """An offer sent to a customer: numbered, with lines, discounts, tax and a validity date."""

    number = models.CharField(_("number"), max_length=40, unique=True)
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="quotes", verbose_name=_("deal"))
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotes",
        verbose_name=_("contact"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT
    )
    currency = models.CharField(_("currency"), max_length=3, default=default_currency)
    issued_on = models.DateField(_("issued on"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"))
    # A discount on the whole quote, after line discounts and before tax.
    discount_percent = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=Decimal("0.00")
    )
    introduction = models.TextField(_("introduction"), blank=True)
    terms = models.TextField(_("terms"), blank=True)
    subtotal = models.DecimalField(_("subtotal"), max_digits=14, decimal_places=2, default=Decimal("0.00"))
    discount_total = models.DecimalField(
        _("discount"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    tax_total = models.DecimalField(_("tax"), max_digits=14, decimal_places=2, default=Decimal("0.00"))
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=Decimal("0.00"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    sent_to = models.EmailField(_("sent to"), blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.CharField(_("accepted by"), max_length=200, blank=True)
    declined_at = models.DateTimeField(_("declined at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Bumped by every change of the draft (its fields or lines): the builder sends the version
    # it shows, so a change made meanwhile in another tab is refused with a message instead of
    # being overwritten.
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-issued_on", "-id"]
        indexes = [models.Index(fields=["status", "valid_until"], name="quote_expiry")]

    def __str__(self) -> str:
        return self.number

    # A sent quote past its last valid day (in the owner's time zone) is expired: it can no
    # longer be accepted or sent again, only revised. Derived, not stored: it needs no job at
    # midnight and is never out of date.
    @property
    def is_expired(self) -> bool:
        return self.status == QuoteStatus.SENT and timezone.localdate() > self.valid_until

    @property
    def display_status(self) -> str:
        """The status people read: "expired" for a sent quote past its validity."""
        return EXPIRED if self.is_expired else self.status

    @property
    def status_label(self) -> str:
        return str(_("Expired")) if self.is_expired else self.get_status_display()

    @property
    def status_badge(self) -> str:
        """The badge component's colour for the status people read."""
        return STATUS_BADGES.get(self.display_status, "neutral")


EXPIRED = "expired"
STATUS_BADGES = {
    QuoteStatus.DRAFT: "neutral",
    QuoteStatus.SENT: "info",
    QuoteStatus.ACCEPTED: "success",
    QuoteStatus.DECLINED: "danger",
    QuoteStatus.WITHDRAWN: "neutral",
    EXPIRED: "warning",
}


class QuoteLine(models.Model):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines", verbose_name=_("quote"))
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quote_lines",
        verbose_name=_("product"),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, default=Decimal("1"))
    unit_price = models.DecimalField(
        _("unit price"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    discount_percent = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=Decimal("0.00")
    )
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=Decimal("0.00"))
    # quantity × unit price less the line discount, before the quote discount and tax.
    total = models.DecimalField(_("line total"), max_digits=14, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"


class Attachment(PublicModel):
    """A file (a contract, a brief) kept in the data directory and attached to a deal or contact."""

    deal = models.ForeignKey(
        Deal,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("deal"),
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("contact"),
    )
    original_name = models.CharField(_("file name"), max_length=255)
    # Relative to SOLOCRM_ATTACHMENT_DIR; the name on disk is the UUID, never the user's.
    stored_name = models.CharField(max_length=100, editable=False)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.original_name
