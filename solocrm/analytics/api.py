"""REST endpoints of the analytics: customer scores, RFM segments, fitted models and stored
reports. Read-only, like the pages: everything comes from the last analytics refresh (no request
fits a model), with indexed queries and pagination.

Roles are checked by the API's authentication (solocrm.api); any role may read. Contacts are
fetched by UUID through solocrm.lib.access.get_for.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate
from ninja.responses import Status

from solocrm.contacts.models import Contact
from solocrm.lib import access
from solocrm.lib.api import Pagination, WriteSchema, responses
from solocrm.lib.business import business_settings
from solocrm.lib.filters import ListFilter

from . import asof, jobs, support_csat
from .choices import ModelKind, RfmSegment
from .models import CustomerScore, FittedModel
from .views import explained, latest_reports, segment_rows

router = Router(tags=["analytics"])

# --- scores -----------------------------------------------------------------------------------

SCORE_ORDERINGS = {
    "clv": ("-clv",),
    "value_at_risk": ("-value_at_risk",),
    "lead_score": ("-lead_score",),
}


class ScoreFilter(ListFilter):
    """Which customer scores to list. Each ordering is highest first and leaves out customers
    without that value, so that the database walks its index instead of sorting everybody."""

    orderings: ClassVar[dict[str, tuple[str, ...]]] = SCORE_ORDERINGS
    default_ordering: ClassVar[str] = "clv"

    segment: RfmSegment | None = Field(None, description="RFM segment code")
    persona: int | None = Field(None, ge=0, le=32767, description="Persona id (see the personas report)")
    min_clv: Decimal | None = Field(
        None, ge=0, max_digits=16, decimal_places=2, description="Only customers with at least this CLV"
    )
    min_churn_risk: float | None = Field(
        None, ge=0, le=1, description="Only customers with at least this churn risk"
    )
    ordering: Literal["clv", "value_at_risk", "lead_score"] | None = Field(
        None, description="Highest first (default: clv); customers without the value are left out"
    )

    def filter_segment(self, value: str | None) -> Q:
        return Q(rfm_segment=value) if value else Q()

    def filter_persona(self, value: int | None) -> Q:
        return Q(persona=value) if value is not None else Q()

    def filter_min_clv(self, value: Decimal | None) -> Q:
        return Q(clv__gte=value) if value is not None else Q()

    def filter_min_churn_risk(self, value: float | None) -> Q:
        return Q(churn_risk__gte=value) if value is not None else Q()

    def apply(self, queryset: QuerySet, ordering: str | None = None) -> QuerySet:
        key = ordering or self.ordering or self.default_ordering
        field = self.orderings[key][0].lstrip("-")
        return super().apply(queryset.filter(**{f"{field}__isnull": False}), key)


class ScoreOut(Schema):
    contact: uuid.UUID = Field(description="The contact (public id)")
    contact_name: str
    computed_at: datetime
    orders: int
    frequency: int = Field(
        description="Repeat purchase days: days after the first with an order (same-day orders count once)"
    )
    recency_days: float = Field(description="Age of the customer at the last purchase, in days")
    tenure_days: float = Field(description="Days since the first purchase")
    days_since_last: float | None
    first_order_at: date | None
    last_order_at: date | None
    total_spend: Decimal
    average_order_value: Decimal
    r_score: int | None = Field(description="Recency score, 1–5")
    f_score: int | None = Field(description="Frequency score, 1–5")
    m_score: int | None = Field(description="Monetary score, 1–5")
    rfm_segment: RfmSegment | Literal[""] = Field(description="RFM segment code (blank: not segmented)")
    p_alive: float | None = Field(description="Probability that the customer is still active (0–1)")
    expected_purchases: float | None = Field(description="Expected purchases in the next 12 months")
    expected_order_value: Decimal | None
    clv: Decimal | None = Field(description="Customer lifetime value over the next 12 months")
    churn_risk: float | None = Field(
        description="Probability of not buying again within the churn horizon (0–1)"
    )
    value_at_risk: Decimal | None = Field(description="CLV × churn risk")
    persona: int | None
    lead_score: float | None
    next_product: uuid.UUID | None = Field(description="Product to offer next (public id)")
    next_product_name: str
    currency: str = Field(description="Currency of every amount (SOLOCRM_CURRENCY)")

    @staticmethod
    def resolve_contact(obj: CustomerScore) -> uuid.UUID:
        return obj.contact.uuid

    @staticmethod
    def resolve_contact_name(obj: CustomerScore) -> str:
        return str(obj.contact)

    @staticmethod
    def resolve_next_product(obj: CustomerScore) -> uuid.UUID | None:
        return obj.next_product.uuid if obj.next_product_id else None

    @staticmethod
    def resolve_currency(obj: CustomerScore) -> str:
        return business_settings().currency


@router.get("/analytics/scores", response=responses({200: list[ScoreOut]}))
@paginate(Pagination)
def list_scores(request: HttpRequest, filters: Query[ScoreFilter]):
    """Customer scores of the last refresh, highest CLV first unless ``ordering`` says otherwise."""
    return filters.apply(CustomerScore.objects.select_related("contact", "next_product"))


@router.get("/analytics/scores/{contact_uuid}", response=responses({200: ScoreOut}))
def get_score(request: HttpRequest, contact_uuid: str):
    """The scores of one contact; 404 when the contact is unknown or has not been scored yet."""
    contact = access.get_for(
        request.user, Contact.objects.select_related("score__next_product"), contact_uuid
    )
    try:
        return contact.score
    except CustomerScore.DoesNotExist:
        raise Http404 from None


# --- segments ---------------------------------------------------------------------------------


class SegmentOut(Schema):
    code: RfmSegment
    name: str
    rule: str = Field(description="Which R and FM scores make the segment")
    action: str = Field(description="What to do with these customers")
    customers: int | None
    share: float | None = Field(description="Share of the scored customers (0–1)")
    revenue: float | None
    clv: float | None
    avg_recency_days: float | None
    avg_orders: float | None


class SegmentsOut(Schema):
    computed_at: datetime | None = Field(description="When the RFM report was computed (null: never)")
    customers: int | None
    currency: str
    segments: list[SegmentOut]


@router.get("/analytics/segments", response=responses({200: SegmentsOut}))
def list_segments(request: HttpRequest):
    """The eleven RFM segments with their rule, suggested action and the last report's numbers."""
    report = FittedModel.latest(ModelKind.RFM)
    customers = (
        (report.metrics or {}).get("customers") if report and isinstance(report.metrics, dict) else None
    )
    return {
        "computed_at": report.created_at if report else None,
        "customers": customers if isinstance(customers, int) and not isinstance(customers, bool) else None,
        "currency": business_settings().currency,
        "segments": segment_rows(report),
    }


# --- models and reports -----------------------------------------------------------------------


class BadgeOut(Schema):
    level: Literal["good", "fair", "poor"]
    label: str
    detail: str = Field(description="The figures of the holdout check behind the badge")


class ExplanationOut(Schema):
    sentence: str = Field(description="What the model says for this business, in one sentence")
    badge: BadgeOut | None = Field(description="Trust from the holdout check; null when none applies")
    unchecked: str = Field(description="Why there is no badge (blank when there is one)")
    warnings: list[str] = Field(description="Warnings of the fit: a boundary solution, too little data…")


class ModelOut(Schema):
    uuid: uuid.UUID
    kind: ModelKind
    created_at: datetime
    n_samples: int = Field(description="Data size: customers, orders or answers the model saw")
    code_version: str
    data_end: date | None = Field(description="The data went up to this day")
    duration_ms: int
    params: dict[str, Any] = Field(
        description="Fitted parameters or report contents; layout per kind in docs/api.md"
    )
    metrics: dict[str, Any] = Field(description="How good the model is; layout per kind in docs/api.md")
    explanation: ExplanationOut = Field(
        description="What the model says in plain words, its trust badge and its fit warnings "
        "(in the request's language)"
    )

    @staticmethod
    def resolve_explanation(obj: FittedModel) -> dict[str, Any]:
        return explained(obj).as_dict()

    @staticmethod
    def resolve_params(obj: FittedModel) -> dict[str, Any]:
        return obj.params if isinstance(obj.params, dict) else {}

    @staticmethod
    def resolve_metrics(obj: FittedModel) -> dict[str, Any]:
        return obj.metrics if isinstance(obj.metrics, dict) else {}


@router.get("/analytics/models", response=responses({200: list[ModelOut]}))
def list_models(request: HttpRequest):
    """The newest fitted model or report of each kind (kinds never computed are left out)."""
    latest = latest_reports(*ModelKind.values)
    return [latest[kind] for kind in ModelKind.values if kind in latest]


@router.get("/analytics/reports/{kind}", response=responses({200: ModelOut}))
def get_report(request: HttpRequest, kind: ModelKind):
    """The newest stored report of one kind; 404 when it has never been computed."""
    report = FittedModel.latest(kind)
    if report is None:
        raise Http404
    return report


# --- the refresh ------------------------------------------------------------------------------


class RefreshIn(WriteSchema):
    as_of: date | None = Field(
        None,
        description="Score as if this day were today (orders after it are left out); "
        "omitted or null: today. Not after today.",
    )


class StaleOut(Schema):
    latest_order: date = Field(description="Day of the newest order up to the as-of day")
    as_of: date = Field(description="The day the scores are computed as of")
    days: int = Field(description="Days from the newest order to the as-of day")
    threshold: int = Field(description="SOLOCRM_ANALYTICS_STALE_DAYS: more days than this warn")


class RefreshOut(Schema):
    state: Literal["idle", "running", "done", "failed"]
    step: str
    done: int
    total: int
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None
    job: uuid.UUID | None = Field(description="The refresh job (GET /jobs/{uuid}, POST /jobs/{uuid}/cancel)")
    as_of: date | None = Field(description="The as-of day the refresh was asked for (null: the day it ran)")
    stale: StaleOut | None = Field(
        description="Set when the newest order is more than the threshold older than the as-of day: "
        "refresh again with as_of = stale.latest_order"
    )
    warning: str = Field(description="The old-data warning in words (blank when the data are recent)")


@router.get("/analytics/refresh", response=responses({200: RefreshOut}))
def refresh_status(request: HttpRequest):
    """The state of the latest analytics refresh, with the old-data warning of the last one."""
    return jobs.refresh_status()


@router.post("/analytics/refresh", response=responses({202: RefreshOut}))
def start_refresh(request: HttpRequest, payload: RefreshIn | None = None):
    """Start an analytics refresh in the background, as of ``as_of`` when given; poll
    GET /analytics/refresh. 409 when one is already queued or running. The old-data warning
    is in the answer at once (it needs only the newest order's day)."""
    as_of = payload.as_of if payload else None
    try:
        day = asof.parse_as_of(as_of)
    except asof.AsOfError as error:
        raise HttpError(422, str(error)) from None
    try:
        jobs.start_in_background(request.user, as_of=day)
    except jobs.RefreshBusy as error:
        raise HttpError(409, str(error)) from None
    state = jobs.refresh_status()
    if state["state"] == "running":  # not run yet: the warning the refresh will give
        stale = asof.stale_data(day or timezone.localdate())
        state.update(stale=stale, warning=asof.stale_message(stale))
    return Status(202, state)


# --- support CSAT by segment ------------------------------------------------------------------


class SupportCsatOut(Schema):
    segment: str = Field(description="RFM segment code, or “none” for contacts who have not bought")
    label: str
    responses: int
    average: float = Field(description="Mean score, 1–5")
    satisfied: float = Field(description="Share of answers of 4 or 5 (the CSAT figure), 0–1")


class SupportCsatParams(Schema):
    days: int = Field(support_csat.DEFAULT_DAYS, ge=1, le=3660, description="Answers of the last days")


@router.get("/analytics/support-csat", response=responses({200: list[SupportCsatOut]}))
def support_csat_by_segment(request: HttpRequest, params: Query[SupportCsatParams]):
    """The help desk's CSAT answers (one per solved ticket) by the customer's RFM segment."""
    return support_csat.csat_by_segment(support_csat.since_for(params.days))
