"""REST endpoints for pipelines with their stages, deals (moving, winning) and the sales forecast
(see solocrm.contacts.api for the shared input types, pagination and how roles are checked).

Changing a pipeline or its stages is the owner's job (it reshapes everybody's board), so those
endpoints need the *admin* action on top of the method's; deals follow the method (GET view,
POST/PATCH edit, DELETE delete). The work is done by solocrm.sales.pipeline and
solocrm.sales.forecast."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.contrib.auth import get_user_model
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import model_validator

from solocrm.contacts.models import Company, Contact
from solocrm.lib import access
from solocrm.lib.api import (
    Currency,
    Day,
    LongText,
    Money,
    Pagination,
    RequiredText,
    Text,
    WriteSchema,
    needs,
    partial,
    ref,
    resolve,
    responses,
)
from solocrm.lib.roles import Action
from solocrm.sales.choices import LostReason, StageKind
from solocrm.sales.deals import forecast
from solocrm.sales.deals import services as pipeline
from solocrm.sales.deals.filters import DealFilter
from solocrm.sales.deals.models import Deal, Pipeline, Stage

router = Router()

Probability = Annotated[int, Field(ge=0, le=100, description="Win probability in percent (0–100)")]
StallDays = Annotated[
    int,
    Field(ge=1, le=pipeline.MAX_STALL_DAYS, description="Open deals quiet this many days count as stalled"),
]
Position = Annotated[
    float, Field(ge=-1e12, le=1e12, allow_inf_nan=False, description="Order in the column (smaller first)")
]


def _admin(request: HttpRequest) -> None:
    access.require(request.user, Action.ADMIN)


def _refused(error: pipeline.StageError) -> HttpError:
    """A stage still in use is a conflict (409); any other refused change is bad input (422)."""
    return HttpError(409 if isinstance(error, pipeline.StageInUse) else 422, str(error))


# --- pipelines and stages -------------------------------------------------------------------------


class StageIn(WriteSchema):
    name: RequiredText(100) = Field(description="Column title on the board")
    probability: Probability = 10
    kind: StageKind = Field(StageKind.OPEN, description="open, won or lost")
    position: Annotated[int, Field(ge=0, le=pipeline.MAX_STAGES)] | None = Field(
        None, description="0-based column; default: before the won/lost stages (open) or last"
    )


StagePatch = partial(StageIn)


class StageOut(Schema):
    uuid: uuid.UUID
    name: str
    position: int = Field(description="0-based column on the board")
    probability: int
    kind: str


class PipelineIn(WriteSchema):
    name: RequiredText(100)
    stall_days: StallDays = 14
    is_default: bool = Field(False, description="The pipeline new deals go to; only one is the default")
    stages: Annotated[list[StageIn], Field(min_length=3, max_length=pipeline.MAX_STAGES)] | None = Field(
        None, description="The stages in board order; default: the usual six (New lead … Won, Lost)"
    )

    @model_validator(mode="after")
    def _every_kind(self) -> "PipelineIn":
        if self.stages is not None:
            kinds = {stage.kind for stage in self.stages}
            if not set(pipeline.REQUIRED_KINDS) <= kinds:
                raise ValueError(_("a pipeline needs at least one open, one won and one lost stage"))
        return self


class PipelinePatch(WriteSchema):
    name: RequiredText(100) | None = None
    stall_days: StallDays | None = None
    is_default: bool | None = None
    stage_order: Annotated[list[uuid.UUID], Field(max_length=pipeline.MAX_STAGES)] | None = Field(
        None, description="Every stage's id, in the new board order"
    )


class PipelineOut(Schema):
    uuid: uuid.UUID
    name: str
    is_default: bool
    stall_days: int
    stages: list[StageOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_stages(obj: Pipeline) -> list[Stage]:
        return sorted(obj.stages.all(), key=lambda stage: (stage.position, stage.pk))


def _pipelines() -> models.QuerySet:
    return Pipeline.objects.prefetch_related("stages").order_by("-is_default", "name")


@router.get("/pipelines", response=responses({200: list[PipelineOut]}), tags=["pipelines"])
@paginate(Pagination)
def list_pipelines(request: HttpRequest):
    """Every pipeline with its stages in board order, the default one first."""
    pipeline.default_pipeline()
    return _pipelines()


@router.post("/pipelines", response=responses({201: PipelineOut}), tags=["pipelines"])
@needs(Action.ADMIN)
def create_pipeline(request: HttpRequest, payload: PipelineIn):
    """Create a pipeline (owner only), with the given stages or the usual ones."""
    _admin(request)
    stages = pipeline.DEFAULT_STAGES
    if payload.stages is not None:
        stages = [(stage.name, stage.probability, stage.kind) for stage in payload.stages]
    created = pipeline.create_pipeline(payload.name, stages, actor=request.user)
    pipeline.update_pipeline(
        created, {"stall_days": payload.stall_days, "is_default": payload.is_default}, actor=request.user
    )
    return Status(201, _pipelines().get(pk=created.pk))


@router.get("/pipelines/{uuid}", response=responses({200: PipelineOut}), tags=["pipelines"])
def get_pipeline(request: HttpRequest, uuid: str):
    return access.get_for(request.user, _pipelines(), uuid)


@router.patch("/pipelines/{uuid}", response=responses({200: PipelineOut}), tags=["pipelines"])
@needs(Action.ADMIN)
def update_pipeline(request: HttpRequest, uuid: str, payload: PipelinePatch):
    """Rename, set the stall days, make it the default, or reorder its stages (owner only)."""
    _admin(request)
    current = access.get_for(request.user, Pipeline, uuid, Action.EDIT)
    data = payload.model_dump(exclude_unset=True, exclude_none=True)
    order = data.pop("stage_order", None)
    try:
        if data:
            pipeline.update_pipeline(current, data, actor=request.user)
        if order is not None:
            pipeline.reorder_stages(current, order, actor=request.user)
    except pipeline.StageError as error:
        raise _refused(error) from None
    return _pipelines().get(pk=current.pk)


@router.post("/pipelines/{uuid}/stages", response=responses({201: StageOut}), tags=["pipelines"])
@needs(Action.ADMIN)
def add_stage(request: HttpRequest, uuid: str, payload: StageIn):
    """Add a stage (owner only)."""
    _admin(request)
    current = access.get_for(request.user, Pipeline, uuid, Action.EDIT)
    try:
        stage = pipeline.add_stage(current, actor=request.user, **payload.model_dump())
    except pipeline.StageError as error:
        raise _refused(error) from None
    return Status(201, Stage.objects.get(pk=stage.pk))


@router.patch("/stages/{uuid}", response=responses({200: StageOut}), tags=["pipelines"])
@needs(Action.ADMIN)
def update_stage(request: HttpRequest, uuid: str, payload: StagePatch):
    """Rename a stage, change its probability or kind, or move it to another column (owner only).
    A stage holding deals keeps its kind (409); every pipeline keeps an open, a won and a lost stage."""
    _admin(request)
    stage = access.get_for(request.user, Stage.objects.select_related("pipeline"), uuid, Action.EDIT)
    try:
        pipeline.update_stage(
            stage, payload.model_dump(exclude_unset=True, exclude_none=True), actor=request.user
        )
    except pipeline.StageError as error:
        raise _refused(error) from None
    return Stage.objects.get(pk=stage.pk)


@router.delete("/stages/{uuid}", response=responses({204: None}), tags=["pipelines"])
def delete_stage(request: HttpRequest, uuid: str):
    """Delete a stage that holds no deals (409 otherwise, or when it is the last of its kind)."""
    stage = access.get_for(request.user, Stage.objects.select_related("pipeline"), uuid, Action.DELETE)
    try:
        pipeline.delete_stage(stage, actor=request.user)
    except pipeline.StageError as error:  # still holds deals, or the last of its kind
        raise HttpError(409, str(error)) from None
    return Status(204, None)


# --- deals ----------------------------------------------------------------------------------------


class DealFields(WriteSchema):
    title: RequiredText(200)
    contact: uuid.UUID | None = Field(None, description="Contact (public id)")
    company: uuid.UUID | None = Field(None, description="Company (public id); default: the contact's")
    amount: Money = Field(Decimal("0.00"), description="What the deal is worth, ≥ 0, two decimals")
    currency: Currency = Field("", validate_default=True)
    expected_close: Day | None = Field(None, description="Expected close date (YYYY-MM-DD)")
    next_step: Text(200) = ""
    owner: Text(150) | None = Field(None, description="Username of the owner; default: you")
    source: Text(100) = Field("", description="Where the deal came from; default: the contact's source")
    notes: LongText = ""


class DealIn(DealFields):
    pipeline: uuid.UUID | None = Field(
        None, description="Pipeline (public id); default: the stage's, or the default"
    )
    stage: uuid.UUID | None = Field(None, description="An open stage of the pipeline; default: its first")


DealPatch = partial(DealFields)


class DealOut(Schema):
    uuid: uuid.UUID
    title: str
    pipeline: uuid.UUID
    stage: uuid.UUID
    stage_name: str
    status: str = Field(description="open, won or lost")
    probability: int = Field(description="The stage's win probability (%)")
    weighted_amount: Decimal = Field(description="amount × probability / 100")
    stalled: bool = Field(description="Open and quiet for the pipeline's stall days, or past its close date")
    contact: uuid.UUID | None
    company: uuid.UUID | None
    amount: Decimal
    currency: str
    expected_close: date | None
    next_step: str
    owner: str | None
    source: str
    notes: str
    lost_reason: str
    lost_note: str
    position: float
    stage_entered_at: datetime
    last_activity_at: datetime
    closed_at: datetime | None
    order: uuid.UUID | None = Field(description="The order created when the deal was won")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_pipeline(obj: Deal) -> uuid.UUID:
        return obj.pipeline.uuid

    @staticmethod
    def resolve_stage(obj: Deal) -> uuid.UUID:
        return obj.stage.uuid

    @staticmethod
    def resolve_stage_name(obj: Deal) -> str:
        return obj.stage.name

    @staticmethod
    def resolve_status(obj: Deal) -> str:
        return StageKind.OPEN if obj.closed_at is None else obj.stage.kind

    @staticmethod
    def resolve_probability(obj: Deal) -> int:
        return obj.stage.probability

    @staticmethod
    def resolve_stalled(obj: Deal) -> bool:
        return pipeline.is_stalled(obj)

    @staticmethod
    def resolve_contact(obj: Deal) -> uuid.UUID | None:
        return ref(obj.contact)

    @staticmethod
    def resolve_company(obj: Deal) -> uuid.UUID | None:
        return ref(obj.company)

    @staticmethod
    def resolve_owner(obj: Deal) -> str | None:
        return obj.owner.get_username() if obj.owner else None

    @staticmethod
    def resolve_order(obj: Deal) -> uuid.UUID | None:
        return ref(obj.order)


def _deals() -> models.QuerySet:
    return Deal.objects.select_related("pipeline", "stage", "contact", "company", "owner", "order")


def _owner(username: str | None):
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NinjaValidationError(
            [
                {
                    "loc": ["body", "payload", "owner"],
                    "msg": _("no active user with this username"),
                    "type": "value_error",
                }
            ]
        )
    return user


def _deal_data(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    """References by UUID (or username) resolved to objects; an unknown one is a 422 naming it."""
    for name, model in (("contact", Contact), ("company", Company), ("pipeline", Pipeline), ("stage", Stage)):
        if name in data:
            data[name] = resolve(request.user, model, data[name], name)
    if "owner" in data:
        data["owner"] = _owner(data["owner"]) if data["owner"] else None
    if data.get("contact") is not None and data.get("company") is None:
        data["company"] = data["contact"].company
    return data


@router.get("/deals", response=responses({200: list[DealOut]}), tags=["deals"])
@paginate(Pagination)
def list_deals(request: HttpRequest, filters: Query[DealFilter]):
    """Deals matching the filters (the deals list's own), newest first unless ``ordering`` says otherwise."""
    return filters.apply(_deals())


@router.post("/deals", response=responses({201: DealOut}), tags=["deals"])
def create_deal(request: HttpRequest, payload: DealIn):
    """Open a deal in an open stage (default: the first of the default pipeline). A stage of
    another pipeline than ``pipeline``, or a closed stage, is a 422."""
    data = _deal_data(request, payload.model_dump())
    if data["owner"] is None:
        data.pop("owner")
    if data["pipeline"] is None:
        data.pop("pipeline")
    if data["stage"] is None:
        data.pop("stage")
    try:
        deal = pipeline.create_deal(data, actor=request.user)
    except pipeline.StageError as error:
        raise _refused(error) from None
    return Status(201, _deals().get(pk=deal.pk))


@router.get("/deals/{uuid}", response=responses({200: DealOut}), tags=["deals"])
def get_deal(request: HttpRequest, uuid: str):
    return access.get_for(request.user, _deals(), uuid)


@router.patch("/deals/{uuid}", response=responses({200: DealOut}), tags=["deals"])
def update_deal(request: HttpRequest, uuid: str, payload: DealPatch):
    """Change the fields given; the stage changes through ``POST /deals/{uuid}/move``."""
    deal = access.get_for(request.user, _deals(), uuid, Action.EDIT)
    data = _deal_data(request, payload.model_dump(exclude_unset=True))
    pipeline.update_deal(deal, data, actor=request.user)
    return _deals().get(pk=deal.pk)


@router.delete("/deals/{uuid}", response=responses({204: None}), tags=["deals"])
def delete_deal(request: HttpRequest, uuid: str):
    """Delete a deal with its history, tasks and quotes (owner only); its order stays."""
    deal = access.get_for(request.user, Deal, uuid, Action.DELETE)
    pipeline.delete_deal(deal, actor=request.user)
    return Status(204, None)


class MoveIn(WriteSchema):
    stage: uuid.UUID = Field(description="A stage of the deal's own pipeline (public id)")
    position: Position | None = Field(None, description="Order in the new column; default: unchanged")
    lost_reason: LostReason | None = Field(None, description="Needed when the stage is a lost one")
    lost_note: Text(300) = ""


@router.post("/deals/{uuid}/move", response=responses({200: DealOut}), tags=["deals"])
def move_deal(request: HttpRequest, uuid: str, payload: MoveIn):
    """Move the deal to a stage of its pipeline. A won stage creates the order (see ``order``);
    a lost stage needs ``lost_reason``; another pipeline's stage is a 422 and changes nothing."""
    deal = access.get_for(request.user, _deals(), uuid, Action.EDIT)
    stage = resolve(request.user, Stage, payload.stage, "stage")
    try:
        pipeline.move_deal(
            deal,
            stage,
            actor=request.user,
            position=payload.position,
            lost_reason=payload.lost_reason or "",
            lost_note=payload.lost_note,
        )
    except pipeline.StageError as error:
        raise _refused(error) from None
    return _deals().get(pk=deal.pk)


class WonOut(Schema):
    deal: DealOut
    order: uuid.UUID = Field(description="The paid order the won deal became (GET /api/v1/orders/{uuid})")


@router.post("/deals/{uuid}/won", response=responses({200: WonOut}), tags=["deals"])
def win_deal(request: HttpRequest, uuid: str):
    """Mark the deal won: it moves to the pipeline's won stage and its order is created (once)."""
    deal = access.get_for(request.user, _deals(), uuid, Action.EDIT)
    try:
        order = pipeline.win_deal(deal, actor=request.user)
    except pipeline.StageError as error:
        raise _refused(error) from None
    return {"deal": _deals().get(pk=deal.pk), "order": order.uuid}


class StageVisitOut(Schema):
    stage: uuid.UUID
    stage_name: str
    entered_at: datetime
    left_at: datetime | None = Field(description="null: the deal is still there")
    days: float = Field(description="Days spent in the stage (so far)")


@router.get("/deals/{uuid}/history", response=responses({200: list[StageVisitOut]}), tags=["deals"])
def deal_history(request: HttpRequest, uuid: str):
    """The stages the deal went through, oldest first, with the time spent in each."""
    deal = access.get_for(request.user, _deals(), uuid)
    return [
        {**step, "stage": step["stage"].uuid, "stage_name": step["stage"].name}
        for step in pipeline.stage_path(deal)
    ]


# --- forecast -------------------------------------------------------------------------------------


class ForecastQuery(Schema):
    pipeline: uuid.UUID | None = Field(
        None, description="Pipeline (public id); default: all for the weighted pipeline"
    )
    months: int = Field(
        12, ge=1, le=120, description="Win/loss period: the last this many months, up to today"
    )
    start: Day | None = Field(None, description="Win/loss period start (overrides months)")
    end: Day | None = Field(None, description="Win/loss period end, inclusive (default: today)")


class WeightedRow(Schema):
    bucket: str = Field(description='"past_due" (close date before today), "no_date", or the month "YYYY-MM"')
    currency: str
    count: int
    amount: Decimal
    weighted: Decimal = Field(description="Σ amount × probability / 100")


class TotalRow(Schema):
    currency: str
    count: int
    amount: Decimal
    weighted: Decimal


class WinRow(Schema):
    source: str = Field(description='"" for deals without a source (and for the overall row)')
    won: int
    lost: int
    win_rate: float | None = Field(description="won / (won + lost); null when nothing closed")
    cycle_days: float | None = Field(description="Average days from creation to close, over won deals")


class ConversionRow(Schema):
    stage: uuid.UUID
    stage_name: str
    reached: int = Field(description="Deals that entered the stage (stage history)")
    still_open: int
    won: int
    lost: int
    win_rate: float | None = Field(description="Of those that reached the stage: won / (won + lost)")
    average_days: float | None = Field(description="Average days per visit of the stage (all history)")


class LostRow(Schema):
    reason: str
    label: str
    currency: str
    count: int
    amount: Decimal


class ForecastOut(Schema):
    start: date
    end: date
    weighted: list[WeightedRow] = Field(description="Open deals by expected close month and currency")
    totals: list[TotalRow] = Field(description="The weighted pipeline per currency (never converted)")
    overall: WinRow
    by_source: list[WinRow]
    conversion: list[ConversionRow] = Field(description="Of the pipeline given, or the default one")
    lost_reasons: list[LostRow]


def _period(query: ForecastQuery) -> forecast.Period:
    end = query.end or timezone.localdate()
    start = query.start or forecast.Period.last_months(query.months, end).start
    if start > end:
        raise HttpError(422, _("The start of the period is after its end."))
    return forecast.Period(start, end)


@router.get("/sales/forecast", response=responses({200: ForecastOut}), tags=["forecast"])
def sales_forecast(request: HttpRequest, query: Query[ForecastQuery]):
    """The weighted pipeline by expected close month, win rate and sales cycle by source, stage
    conversion and lost reasons (definitions in docs/pipelines.md)."""
    chosen = access.get_for(request.user, Pipeline, query.pipeline) if query.pipeline else None
    period = _period(query)
    result = forecast.forecast(period, chosen)
    averages = pipeline.average_days_in_stage(chosen or pipeline.default_pipeline())
    return {
        "start": period.start,
        "end": period.end,
        "weighted": result["weighted"],
        "totals": result["totals"],
        "overall": result["win_loss"]["overall"],
        "by_source": result["win_loss"]["by_source"],
        "conversion": [
            {
                **row,
                "stage": row["stage"].uuid,
                "stage_name": row["stage"].name,
                "average_days": (averages.get(row["stage"].pk) or {}).get("days"),
            }
            for row in result["conversion"]
        ],
        "lost_reasons": result["lost_reasons"],
    }
