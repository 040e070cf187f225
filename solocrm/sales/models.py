"""Products, orders with their lines, tasks, the deals pipeline, quotes, attachments and lead forms."""

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

from .choices import (
    LostReason,
    OrderStatus,
    Priority,
    QuoteStatus,
    RecurrenceUnit,
    SalesChannel,
    StageKind,
    TaskKind,
)


def default_currency() -> str:
    return settings.SOLOCRM_CURRENCY


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


class TaskQuerySet(models.QuerySet):
    def open(self) -> TaskQuerySet:
        return self.filter(done_at__isnull=True)

    def overdue(self) -> TaskQuerySet:
        return self.open().filter(due_at__lt=timezone.now())


class Task(PublicModel):
    """Something to do, usually about a contact: a follow-up, a call, a quote to send."""

    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True, db_index=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
        verbose_name=_("contact"),
    )
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
        verbose_name=_("company"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
        verbose_name=_("assigned to"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=TaskKind.choices, default=TaskKind.TODO)
    # A date without a time: shown as "today", and as an all-day event in the calendar feed.
    all_day = models.BooleanField(_("all day"), default=False)
    deal = models.ForeignKey(
        "Deal",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
        verbose_name=_("deal"),
    )
    # "Every <recur_every> <recur_unit>": completing the task creates the next one.
    recur_every = models.PositiveSmallIntegerField(_("repeat every"), null=True, blank=True)
    recur_unit = models.CharField(_("repeat unit"), max_length=10, choices=RecurrenceUnit.choices, blank=True)
    # The day of the month a monthly repeat keeps to (31: the month's last day), so that a task
    # on the 30th comes back on the 30th after February, not on the 28th ever after.
    recur_day = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    snoozed_count = models.PositiveSmallIntegerField(_("times snoozed"), default=0)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["done_at", "due_at", "-priority", "id"]
        indexes = [
            # Open tasks by due time: the agenda, the overdue view, the digest and Today.
            models.Index(fields=["due_at"], condition=Q(done_at__isnull=True), name="task_open_due"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_at is not None and self.due_at < timezone.now()

    def complete(self) -> None:
        if self.done_at is None:
            self.done_at = timezone.now()
            self.save(update_fields=["done_at", "updated_at"])

    def reopen(self) -> None:
        self.done_at = None
        self.save(update_fields=["done_at", "updated_at"])


# --- pipeline and deals -------------------------------------------------------------------------


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
        from .pipeline import win_deal

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


# --- quotes -------------------------------------------------------------------------------------


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

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-issued_on", "-id"]
        indexes = [models.Index(fields=["status", "valid_until"], name="quote_expiry")]

    def __str__(self) -> str:
        return self.number


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


# --- attachments --------------------------------------------------------------------------------


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


# --- public lead forms --------------------------------------------------------------------------


def default_form_fields() -> list[str]:
    return ["first_name", "last_name", "email", "message"]


def default_required_fields() -> list[str]:
    return ["email"]


class LeadForm(PublicModel):
    """A public form (hosted page and embeddable snippet) that turns visitors into leads."""

    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("heading"), max_length=200, blank=True)
    introduction = models.TextField(_("introduction"), blank=True)
    fields = models.JSONField(_("fields"), default=default_form_fields)
    required_fields = models.JSONField(_("required fields"), default=default_required_fields)
    submit_label = models.CharField(_("button text"), max_length=60, blank=True)
    thank_you = models.TextField(_("thank-you message"), blank=True)
    # Shown beside the checkbox; the exact text is stored with each submission that ticks it.
    consent_text = models.TextField(_("consent text"), blank=True)
    source = models.CharField(_("source given to new leads"), max_length=100, blank=True)
    active = models.BooleanField(_("accepting submissions"), default=True)
    notify_owner = models.BooleanField(_("e-mail me each submission"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("lead form")
        verbose_name_plural = _("lead forms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FormSubmission(PublicModel):
    """What a visitor sent through a lead form, kept as sent (the contact holds the merged view)."""

    form = models.ForeignKey(
        LeadForm, on_delete=models.CASCADE, related_name="submissions", verbose_name=_("form")
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="form_submissions",
        verbose_name=_("contact"),
    )
    data = models.JSONField(_("answers"), default=dict)
    consent_given = models.BooleanField(_("consent given"), default=False)
    consent_text = models.TextField(_("consent text shown"), blank=True)
    page_url = models.CharField(_("page"), max_length=500, blank=True)
    ip_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.form_id} {self.created_at:%Y-%m-%d %H:%M}"
