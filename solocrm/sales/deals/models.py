"""Pipelines with their stages, deals and each deal's stage history."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from solocrm.contacts.models import Company, Contact
from solocrm.lib.models import PublicModel
from solocrm.sales.choices import (
    LostReason,
    StageKind,
)
from solocrm.sales.orders.models import Order, default_currency


class Pipeline(PublicModel):
    """A sequence of stages a deal moves through; most owners need one, some keep a few."""

    name = models.CharField(_("name"), max_length=100)
    is_default = models.BooleanField(_("default pipeline"), default=False)
    # Deals with no activity for this many days count as stalled.
    stall_days = models.PositiveSmallIntegerField(_("stalled after (days)"), default=14)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["-is_default", "name"]

    def __str__(self) -> str:
        return self.name


class Stage(PublicModel):
    """One column of the board. ``probability`` (0–100) weights the open deals in the forecast."""

    pipeline = models.ForeignKey(
        Pipeline, on_delete=models.CASCADE, related_name="stages", verbose_name=_("pipeline")
    )
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    probability = models.PositiveSmallIntegerField(_("win probability (%)"), default=10)
    kind = models.CharField(_("kind"), max_length=10, choices=StageKind.choices, default=StageKind.OPEN)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "position", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != StageKind.OPEN


class DealQuerySet(models.QuerySet):
    def open(self) -> DealQuerySet:
        return self.filter(closed_at__isnull=True)

    def won(self) -> DealQuerySet:
        return self.filter(stage__kind=StageKind.WON)

    def lost(self) -> DealQuerySet:
        return self.filter(stage__kind=StageKind.LOST)

    def stalled(self, now=None) -> DealQuerySet:
        """Open deals with no activity for their pipeline's ``stall_days``, or whose expected
        close date has passed (one condition per pipeline: owners keep only a few)."""
        now = now or timezone.now()
        quiet = Q()
        for pk, days in Pipeline.objects.values_list("pk", "stall_days"):
            quiet |= Q(pipeline_id=pk, last_activity_at__lt=now - timedelta(days=days))
        late = Q(expected_close__lt=timezone.localdate(now))
        return self.open().filter(quiet | late)


class Deal(PublicModel):
    """A possible sale moving through a pipeline. Winning it creates the order (``mark_won``)."""

    title = models.CharField(_("title"), max_length=200)
    pipeline = models.ForeignKey(
        Pipeline, on_delete=models.PROTECT, related_name="deals", verbose_name=_("pipeline")
    )
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals", verbose_name=_("stage"))
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
        verbose_name=_("contact"),
    )
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
        verbose_name=_("company"),
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(_("currency"), max_length=3, default=default_currency)
    expected_close = models.DateField(_("expected close date"), null=True, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
        verbose_name=_("owner"),
    )
    source = models.CharField(_("source"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=20, choices=LostReason.choices, blank=True)
    lost_note = models.CharField(_("why it was lost"), max_length=300, blank=True)
    # Order within the stage's column on the board (smaller first).
    position = models.FloatField(_("position"), default=0)
    stage_entered_at = models.DateTimeField(_("in this stage since"), default=timezone.now)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    order = models.OneToOneField(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="deal", verbose_name=_("order")
    )

    objects = DealQuerySet.as_manager()

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["stage", "position"], name="deal_board"),
            models.Index(fields=["closed_at", "expected_close"], name="deal_close"),
            models.Index(fields=["closed_at", "last_activity_at"], name="deal_activity"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.stage.probability / 100).quantize(Decimal("0.01"))

    def mark_won(self, *, actor=None, when=None) -> Order:
        """Move the deal to its pipeline's won stage and create its paid order (once)."""
        from solocrm.sales.deals.services import win_deal

        return win_deal(self, actor=actor, when=when)


class DealStageChange(models.Model):
    """One move of a deal between stages; consecutive rows give the time spent in each stage."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["deal", "changed_at", "id"]
        indexes = [models.Index(fields=["deal", "changed_at"], name="stage_change_deal")]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"
