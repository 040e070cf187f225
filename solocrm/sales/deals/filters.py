"""The one filter definition of the deals list (web, API and CSV export)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

from django.db.models import F, Q
from pydantic import Field

from solocrm.lib.filters import ListFilter, every_word
from solocrm.sales.choices import StageKind
from solocrm.sales.deals.models import Deal
from solocrm.sales.orders.filters import money_filter

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
    min_amount: Decimal | None = money_filter()
    max_amount: Decimal | None = money_filter()
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
