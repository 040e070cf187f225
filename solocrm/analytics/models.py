"""Stored results of the analytics refresh: one score row per customer and every fitted model.

Both tables are written only by ``services.refresh``; pages and the API read them, so that no
request ever fits a model.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from solocrm.lib.models import PublicModel

from .choices import ModelKind, RfmSegment


class CustomerScore(models.Model):
    """The analytics picture of one contact, as of ``computed_at``.

    The contact is the primary key (one row per contact, no extra index). Money is in the
    owner's main currency (``SOLOCRM_CURRENCY``); orders in other currencies are left out.
    """

    contact = models.OneToOneField(
        "contacts.Contact",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="score",
        verbose_name=_("contact"),
    )
    computed_at = models.DateTimeField(_("computed at"))
    # The buy-till-you-die summary (days).
    orders = models.PositiveIntegerField(_("orders"), default=0)
    frequency = models.PositiveIntegerField(_("repeat purchases"), default=0)
    recency_days = models.FloatField(_("age at last purchase (days)"), default=0)
    tenure_days = models.FloatField(_("days since first purchase"), default=0)
    days_since_last = models.FloatField(_("days since last purchase"), null=True, blank=True)
    first_order_at = models.DateField(_("first purchase"), null=True, blank=True)
    last_order_at = models.DateField(_("last purchase"), null=True, blank=True)
    total_spend = models.DecimalField(_("total spend"), max_digits=16, decimal_places=2, default=Decimal(0))
    average_order_value = models.DecimalField(
        _("average order value"), max_digits=14, decimal_places=2, default=Decimal(0)
    )
    # RFM.
    r_score = models.PositiveSmallIntegerField(_("recency score"), null=True, blank=True)
    f_score = models.PositiveSmallIntegerField(_("frequency score"), null=True, blank=True)
    m_score = models.PositiveSmallIntegerField(_("monetary score"), null=True, blank=True)
    rfm_segment = models.CharField(_("RFM segment"), max_length=20, choices=RfmSegment.choices, blank=True)
    # Predictions.
    p_alive = models.FloatField(_("probability still active"), null=True, blank=True)
    expected_purchases = models.FloatField(_("expected purchases (12 months)"), null=True, blank=True)
    expected_order_value = models.DecimalField(
        _("expected order value"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    clv = models.DecimalField(
        _("customer lifetime value (12 months)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    churn_risk = models.FloatField(_("churn risk"), null=True, blank=True)
    value_at_risk = models.DecimalField(
        _("value at risk"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    persona = models.SmallIntegerField(_("persona"), null=True, blank=True)
    lead_score = models.FloatField(_("lead score"), null=True, blank=True)
    next_product = models.ForeignKey(
        "sales.Product",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        verbose_name=_("next product to offer"),
    )
    next_product_name = models.CharField(_("next product to offer"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        indexes = [
            # a segment's or persona's customers are listed by CLV: walk one index, sort nothing
            models.Index(fields=["rfm_segment", "-clv"], name="score_segment_clv"),
            models.Index(fields=["persona", "-clv"], name="score_persona_clv"),
            models.Index(fields=["-clv"], name="score_clv"),
            models.Index(fields=["-value_at_risk"], name="score_value_at_risk"),
            models.Index(fields=["-lead_score"], name="score_lead"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.rfm_segment}"


class FittedModel(PublicModel):
    """A fitted estimator or a computed report, stored as JSON (never a pickle).

    ``params`` holds what is needed to use or draw it again, ``metrics`` how good it is;
    ``code_version`` and ``n_samples`` say what produced it from how much data.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=ModelKind.choices)
    params = models.JSONField(_("parameters"), default=dict)
    metrics = models.JSONField(_("metrics"), default=dict)
    code_version = models.CharField(_("code version"), max_length=40)
    n_samples = models.PositiveIntegerField(_("data size"), default=0)
    data_end = models.DateField(_("data up to"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("fitted model")
        verbose_name_plural = _("fitted models")
        indexes = [models.Index(fields=["kind", "-created_at"], name="fitted_kind_latest")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d %H:%M})"

    @classmethod
    def latest(cls, kind: str) -> FittedModel | None:
        return cls.objects.filter(kind=kind).order_by("-created_at", "-id").first()
