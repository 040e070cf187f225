"""The one filter definition per list of products, orders and tasks: used by the web lists, the
API and the CLI export (see solocrm.contacts.filters for the conventions)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from django.db.models import F, Q
from django.utils import timezone
from pydantic import Field

from solocrm.contacts.filters import ListFilter, date_range, every_word

from .choices import OrderStatus, Priority, SalesChannel, StageKind, TaskKind
from .models import Deal
from .reminders import bucket_q

TaskBucket = Literal["overdue", "today", "upcoming", "no_date", "done"]
MONEY_LIMIT = Decimal("999999999999.99")  # DecimalField(max_digits=14, decimal_places=2)


def _money_filter() -> Any:
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
    min_price: Decimal | None = _money_filter()
    max_price: Decimal | None = _money_filter()
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
    min_total: Decimal | None = _money_filter()
    max_total: Decimal | None = _money_filter()
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


class TaskFilter(ListFilter):
    orderings = {
        "due": ("done_at", "due_at", "-priority", "id"),
        "-due": ("done_at", "-due_at", "-priority", "-id"),
        "-priority": ("done_at", "-priority", "due_at", "id"),
        "-done": ("-done_at", "-id"),
        "created": ("created_at", "id"),
        "-created": ("-created_at", "-id"),
    }
    default_ordering = "due"

    q: str | None = Field(None, max_length=200, description="Search in title and notes")
    when: TaskBucket | None = Field(
        None, description="A tab of the tasks page: overdue, today (due later today), upcoming, no_date, done"
    )
    done: bool | None = Field(None, description="false: open tasks; true: done ones")
    overdue: bool | None = Field(None, description="true: open tasks past their due time")
    due_after: date | None = Field(None, description="Due on or after this day")
    due_before: date | None = Field(None, description="Due on or before this day")
    contact: UUID | None = Field(None, description="Contact (public id)")
    deal: UUID | None = Field(None, description="Deal (public id)")
    priority: Priority | None = None
    kind: TaskKind | None = None
    repeating: bool | None = Field(None, description="true: only repeating tasks; false: one-off ones")
    ordering: Literal["due", "-due", "-priority", "-done", "created", "-created"] | None = None

    def filter_q(self, value: str | None) -> Q:
        return every_word(value, "title__icontains", "notes__icontains")

    def filter_when(self, value: str | None) -> Q:
        return bucket_q(value, timezone.now()) if value else Q()

    def filter_done(self, value: bool | None) -> Q:
        return Q() if value is None else Q(done_at__isnull=not value)

    def filter_overdue(self, value: bool | None) -> Q:
        if value is None:
            return Q()
        late = Q(done_at__isnull=True, due_at__lt=timezone.now())
        return late if value else ~late

    def filter_due_after(self, value: date | None) -> Q:
        return date_range("due_at", value, None)

    def filter_due_before(self, value: date | None) -> Q:
        return date_range("due_at", None, value)

    def filter_contact(self, value: UUID | None) -> Q:
        return Q(contact__uuid=value) if value else Q()

    def filter_deal(self, value: UUID | None) -> Q:
        return Q(deal__uuid=value) if value else Q()

    def filter_repeating(self, value: bool | None) -> Q:
        return Q() if value is None else Q(recur_every__isnull=not value)


# --- deals ----------------------------------------------------------------------------------------


DealStatus = Literal["open", "won", "lost"]


class DealFilter(ListFilter):
    """The deals list of the web page, ``GET /api/v1/deals`` and the board's "show all" link."""

    orderings = {
        "-created": ("-created_at", "-id"),
        "created": ("created_at", "id"),
        "title": ("title", "id"),
        "-title": ("-title", "-id"),
        "amount": ("amount", "id"),
        "-amount": ("-amount", "-id"),
        "close": (F("expected_close").asc(nulls_last=True), "id"),
        "-close": (F("expected_close").desc(nulls_last=True), "-id"),
        "stage": ("pipeline_id", "stage__position", "position", "id"),
        "-activity": ("-last_activity_at", "-id"),
        "activity": ("last_activity_at", "id"),
    }
    default_ordering = "-created"

    q: str | None = Field(
        None, max_length=200, description="Search in title, contact name/e-mail and company"
    )
    pipeline: UUID | None = Field(None, description="Pipeline (public id)")
    stage: UUID | None = Field(None, description="Stage (public id)")
    status: DealStatus | None = Field(None, description="open, won or lost")
    stalled: bool | None = Field(
        None, description="true: open deals quiet for the pipeline's stall days or past their close date"
    )
    owner: str | None = Field(None, max_length=150, description="Username of the deal's owner")
    source: str | None = Field(None, max_length=100, description="Source (exact, any case)")
    contact: UUID | None = Field(None, description="Contact (public id)")
    company: UUID | None = Field(None, description="Company (public id)")
    currency: str | None = Field(None, max_length=3, description="Currency code")
    min_amount: Decimal | None = _money_filter()
    max_amount: Decimal | None = _money_filter()
    close_after: date | None = Field(None, description="Expected to close on or after this day")
    close_before: date | None = Field(None, description="Expected to close on or before this day")
    ordering: (
        Literal[
            "-created", "created", "title", "-title", "amount", "-amount",
            "close", "-close", "stage", "-activity", "activity",
        ]
        | None
    ) = None  # fmt: skip

    def filter_q(self, value: str | None) -> Q:
        return every_word(
            value,
            "title__icontains",
            "contact__first_name__icontains",
            "contact__last_name__icontains",
            "contact__email__icontains",
            "company__name__icontains",
        )

    def filter_pipeline(self, value: UUID | None) -> Q:
        return Q(pipeline__uuid=value) if value else Q()

    def filter_stage(self, value: UUID | None) -> Q:
        return Q(stage__uuid=value) if value else Q()

    def filter_status(self, value: DealStatus | None) -> Q:
        if value is None:
            return Q()
        if value == "open":
            return Q(closed_at__isnull=True)
        return Q(stage__kind=StageKind(value))

    def filter_stalled(self, value: bool | None) -> Q:
        # The same definition as Deal.objects.stalled(), as a subquery the database runs.
        if value is None:
            return Q()
        stalled = Q(pk__in=Deal.objects.stalled().values("pk"))
        return stalled if value else ~stalled

    def filter_owner(self, value: str | None) -> Q:
        return Q(owner__username=value) if value else Q()

    def filter_source(self, value: str | None) -> Q:
        return Q(source__iexact=value) if value else Q()

    def filter_contact(self, value: UUID | None) -> Q:
        return Q(contact__uuid=value) if value else Q()

    def filter_company(self, value: UUID | None) -> Q:
        return Q(company__uuid=value) if value else Q()

    def filter_currency(self, value: str | None) -> Q:
        return Q(currency=value.upper()) if value else Q()

    def filter_min_amount(self, value: Decimal | None) -> Q:
        return Q(amount__gte=value) if value is not None else Q()

    def filter_max_amount(self, value: Decimal | None) -> Q:
        return Q(amount__lte=value) if value is not None else Q()

    def filter_close_after(self, value: date | None) -> Q:
        return Q(expected_close__gte=value) if value else Q()

    def filter_close_before(self, value: date | None) -> Q:
        return Q(expected_close__lte=value) if value else Q()
