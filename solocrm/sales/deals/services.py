"""Workflows on pipelines and deals: the default pipeline, moving a deal between stages (with
its history), winning (which creates the order analytics counts) and losing.

Views, the API, the CLI and quote acceptance all call these; like solocrm.sales.services they
take validated values and write the audit log themselves."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    DateTimeField,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from solocrm.contacts.choices import LifecycleStage
from solocrm.contacts.models import Contact
from solocrm.contacts.services import apply_changes, save_validated
from solocrm.sales.choices import LostReason, OrderStatus, SalesChannel, StageKind
from solocrm.sales.deals.models import Deal, DealStageChange, Pipeline, Stage
from solocrm.sales.orders.models import Order
from solocrm.sales.orders.stamps import orders_changed
from solocrm.users.models import AuditLog

# (name, probability %, kind): a pipeline most small businesses recognise; editable afterwards.
DEFAULT_STAGES = (
    (gettext_lazy("New lead"), 10, StageKind.OPEN),
    (gettext_lazy("Qualified"), 25, StageKind.OPEN),
    (gettext_lazy("Proposal"), 50, StageKind.OPEN),
    (gettext_lazy("Negotiation"), 75, StageKind.OPEN),
    (gettext_lazy("Won"), 100, StageKind.WON),
    (gettext_lazy("Lost"), 0, StageKind.LOST),
)


class StageError(ValueError):
    """A move the pipeline does not allow (another pipeline's stage, a missing lost reason…)."""


@transaction.atomic
def create_pipeline(name: str, stages=DEFAULT_STAGES, *, is_default: bool = False, actor=None) -> Pipeline:
    pipeline = Pipeline.objects.create(name=name[:100], is_default=is_default)
    Stage.objects.bulk_create(
        Stage(pipeline=pipeline, name=str(label), probability=probability, kind=kind, position=index)
        for index, (label, probability, kind) in enumerate(stages)
    )
    AuditLog.record(actor, "pipeline.create", pipeline, summary=pipeline.name)
    return pipeline


def default_pipeline() -> Pipeline:
    """The default pipeline, created with the default stages the first time it is needed (so a
    fresh install, a flushed test database and an upgraded one all have one)."""
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    if pipeline is None:
        pipeline = create_pipeline(_("Sales"), is_default=True)
    return pipeline


@transaction.atomic
def create_deal(data: dict[str, Any], *, actor=None) -> Deal:
    """Open a deal. ``pipeline`` defaults to the default one and ``stage`` to its first open
    stage; ``company`` and ``source`` default to the contact's. Appended at the end of its column."""
    data = dict(data)
    pipeline = data.pop("pipeline", None) or (
        data["stage"].pipeline if data.get("stage") else default_pipeline()
    )
    stage = data.pop("stage", None) or first_open_stage(pipeline)
    if stage.pipeline_id != pipeline.pk:
        raise StageError(_("That stage belongs to another pipeline."))
    contact = data.get("contact")
    if contact is not None:
        data.setdefault("company", contact.company)
        data["source"] = data.get("source") or contact.source
    last = Deal.objects.filter(stage=stage).order_by("-position").values_list("position", flat=True).first()
    owner = data.pop("owner", None) or _user(actor)
    deal = Deal(pipeline=pipeline, stage=stage, position=(last or 0) + 1, owner=owner, **data)
    if stage.kind != StageKind.OPEN:
        raise StageError(_("A new deal starts in an open stage."))
    save_validated(deal)
    DealStageChange.objects.create(deal=deal, from_stage=None, to_stage=stage, changed_by=_user(actor))
    AuditLog.record(actor, "deal.create", deal, summary=deal.title)
    return deal


@transaction.atomic
def update_deal(deal: Deal, data: dict[str, Any], *, actor=None) -> Deal:
    """Change the deal's own fields (moving between stages goes through ``move_deal``)."""
    changes = apply_changes(deal, data)
    save_validated(deal)
    if changes:
        AuditLog.record(actor, "deal.update", deal, summary=deal.title, changes=changes)
    return deal


def first_open_stage(pipeline: Pipeline) -> Stage:
    stage = pipeline.stages.filter(kind=StageKind.OPEN).order_by("position", "id").first()
    if stage is None:
        raise StageError(_("The pipeline “%(pipeline)s” has no open stage.") % {"pipeline": pipeline.name})
    return stage


def closing_stage(pipeline: Pipeline, kind: str) -> Stage:
    """The pipeline's first won (or lost) stage; raises StageError when it has none."""
    stage = pipeline.stages.filter(kind=kind).order_by("position", "id").first()
    if stage is None:
        raise StageError(
            _("The pipeline “%(pipeline)s” has no stage of kind “%(kind)s”.")
            % {"pipeline": pipeline.name, "kind": StageKind(kind).label}
        )
    return stage


@transaction.atomic
def move_deal(
    deal: Deal,
    stage: Stage,
    *,
    actor=None,
    position: float | None = None,
    lost_reason: str = "",
    lost_note: str = "",
    when: datetime | None = None,
) -> Deal:
    """Put ``deal`` into ``stage`` (optionally at ``position`` in its column) and record the move.

    Moving into a won stage creates the order; into a lost stage needs a lost reason. Moving a
    closed deal back to an open stage reopens it (its order, if any, stays: money was received)."""
    if stage.pipeline_id != deal.pipeline_id:
        raise StageError(_("That stage belongs to another pipeline."))
    # Locked and read afresh: a double click on "Won" (or a drop while the customer accepts the
    # quote) must see the first move's order, not create a second.
    _refresh_locked(deal)
    previous = deal.stage
    changes_stage = previous.pk != stage.pk
    if changes_stage and stage.kind == StageKind.LOST and lost_reason not in LostReason.values:
        raise StageError(_("Say why the deal was lost."))
    when = when or timezone.now()
    if position is not None:
        deal.position = position
    if changes_stage:
        DealStageChange.objects.create(
            deal=deal, from_stage=previous, to_stage=stage, changed_at=when, changed_by=_user(actor)
        )
        deal.stage = stage
        deal.stage_entered_at = when
        deal.last_activity_at = when
        # Closed when it entered this kind of stage: won → lost closes it again, today.
        if stage.kind == StageKind.OPEN:
            deal.closed_at = None
        elif previous.kind != stage.kind or deal.closed_at is None:
            deal.closed_at = when
        if stage.kind == StageKind.LOST:
            deal.lost_reason, deal.lost_note = lost_reason, lost_note[:300]
        else:
            deal.lost_reason, deal.lost_note = "", ""
    deal.save()
    if stage.kind == StageKind.WON and deal.order_id is None:
        _create_order(deal, when)
    if changes_stage:
        AuditLog.record(
            actor, "deal.move", deal, summary=deal.title, changes={"stage": [previous.name, stage.name]}
        )
    return deal


def _refresh_locked(deal: Deal) -> None:
    """Re-read the deal's row under a lock (PostgreSQL; SQLite runs writers one at a time)."""
    fresh = Deal.objects.select_for_update().select_related("stage").get(pk=deal.pk)
    for field in (
        "stage",
        "stage_entered_at",
        "last_activity_at",
        "closed_at",
        "order_id",
        "lost_reason",
        "lost_note",
    ):
        setattr(deal, field, getattr(fresh, field))


def win_deal(deal: Deal, *, actor=None, when: datetime | None = None) -> Order:
    """Mark the deal won: moves it to the won stage and returns its order (created once)."""
    move_deal(deal, closing_stage(deal.pipeline, StageKind.WON), actor=actor, when=when)
    return deal.order


def lose_deal(deal: Deal, reason: str, note: str = "", *, actor=None) -> Deal:
    return move_deal(
        deal, closing_stage(deal.pipeline, StageKind.LOST), actor=actor, lost_reason=reason, lost_note=note
    )


def _create_order(deal: Deal, when: datetime) -> Order:
    """The paid order a won deal becomes, so its revenue reaches the analytics; the contact
    becomes a customer (or a repeat customer when they had bought before)."""
    order = Order.objects.create(
        contact=deal.contact,
        number=_("Deal %(title)s") % {"title": deal.title[:80]},
        source="deal",
        external_id=str(deal.uuid),
        status=OrderStatus.PAID,
        channel=SalesChannel.INVOICE,
        currency=deal.currency,
        total=deal.amount if deal.amount > 0 else Decimal("0.00"),
        ordered_at=when,
    )
    deal.order = order
    deal.save(update_fields=["order", "updated_at"])
    orders_changed()
    if deal.contact_id:
        _promote_buyer(deal.contact)
    return order


def _promote_buyer(contact: Contact) -> None:
    before = {LifecycleStage.LEAD, LifecycleStage.PROSPECT}
    if contact.lifecycle_stage in before:
        Contact.objects.filter(pk=contact.pk).update(lifecycle_stage=LifecycleStage.CUSTOMER)
        contact.lifecycle_stage = LifecycleStage.CUSTOMER


def touch_deal(deal: Deal | None, when: datetime | None = None) -> None:
    """Record activity on a deal (a call, a meeting, a quote sent): it is not stalled any more."""
    if deal is None:
        return
    when = when or timezone.now()
    if when > deal.last_activity_at:
        Deal.objects.filter(pk=deal.pk, last_activity_at__lt=when).update(last_activity_at=when)
        deal.last_activity_at = when


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


# --- pipelines and their stages -----------------------------------------------------------------

# What every pipeline keeps, so deals can always be opened, won and lost.
REQUIRED_KINDS = (StageKind.OPEN, StageKind.WON, StageKind.LOST)
MAX_STAGES = 30
MAX_STALL_DAYS = 3650


class StageInUse(StageError):
    """A stage that still holds deals cannot be deleted (or change its kind)."""


@transaction.atomic
def update_pipeline(pipeline: Pipeline, data: dict[str, Any], *, actor=None) -> Pipeline:
    """Change a pipeline's name, ``stall_days`` or ``is_default`` (one default at a time)."""
    if "stall_days" in data and not 1 <= int(data["stall_days"]) <= MAX_STALL_DAYS:
        raise StageError(_("Stalled after must be between 1 and %(max)s days.") % {"max": MAX_STALL_DAYS})
    changes = apply_changes(pipeline, data)
    save_validated(pipeline)
    if data.get("is_default"):
        Pipeline.objects.exclude(pk=pipeline.pk).filter(is_default=True).update(is_default=False)
    if changes:
        AuditLog.record(actor, "pipeline.update", pipeline, summary=pipeline.name, changes=changes)
    return pipeline


def _check_kinds(pipeline: Pipeline, kinds: list[str]) -> None:
    """Refuse a set of stages that lacks an open, a won or a lost stage."""
    for kind in REQUIRED_KINDS:
        if kind not in kinds:
            raise StageError(
                _("A pipeline needs at least one stage of kind “%(kind)s”.") % {"kind": StageKind(kind).label}
            )


def _probability(value: Any) -> int:
    number = int(value)
    if not 0 <= number <= 100:
        raise StageError(_("The win probability must be between 0 and 100 %."))
    return number


def ordered_stages(pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.order_by("position", "id"))


def _renumber(stages: list[Stage]) -> None:
    for index, stage in enumerate(stages):
        stage.position = index
    Stage.objects.bulk_update(stages, ["position"])


@transaction.atomic
def add_stage(
    pipeline: Pipeline,
    name: str,
    *,
    probability: int = 10,
    kind: str = StageKind.OPEN,
    position: int | None = None,
    actor=None,
) -> Stage:
    """Add a stage at ``position`` (0 = first column); by default an open stage goes before the
    first closing (won/lost) stage, a closing one at the end."""
    stages = ordered_stages(Pipeline.objects.select_for_update().get(pk=pipeline.pk))
    if len(stages) >= MAX_STAGES:
        raise StageError(_("A pipeline has at most %(max)s stages.") % {"max": MAX_STAGES})
    stage = Stage(pipeline=pipeline, name=name.strip(), probability=_probability(probability), kind=kind)
    save_validated(stage)
    if position is None:
        closing = [i for i, s in enumerate(stages) if s.kind != StageKind.OPEN]
        position = closing[0] if kind == StageKind.OPEN and closing else len(stages)
    stages.insert(max(0, min(position, len(stages))), stage)
    _renumber(stages)
    AuditLog.record(actor, "stage.create", stage, summary=f"{pipeline.name}: {stage.name}")
    return stage


@transaction.atomic
def update_stage(stage: Stage, data: dict[str, Any], *, actor=None) -> Stage:
    """Rename a stage, set its probability or kind, or move it to ``position`` (0-based).

    A stage holding deals keeps its kind: its deals would otherwise be open in a won column (or
    closed in an open one) without having been won or lost."""
    data = dict(data)
    position = data.pop("position", None)
    if "probability" in data:
        data["probability"] = _probability(data["probability"])
    if "name" in data:
        data["name"] = data["name"].strip()
    if "kind" in data and data["kind"] != stage.kind:
        if stage.deals.exists():
            raise StageInUse(
                _("The stage “%(stage)s” holds deals, so its kind cannot change.") % {"stage": stage}
            )
        others = list(stage.pipeline.stages.exclude(pk=stage.pk).values_list("kind", flat=True))
        _check_kinds(stage.pipeline, [*others, data["kind"]])
    changes = apply_changes(stage, data)
    save_validated(stage)
    if position is not None:
        changes.update(_move_stage_to(stage, int(position)))
    if changes:
        AuditLog.record(actor, "stage.update", stage, summary=str(stage), changes=changes)
    return stage


def _move_stage_to(stage: Stage, position: int) -> dict[str, list]:
    stages = ordered_stages(stage.pipeline)
    old = next(i for i, s in enumerate(stages) if s.pk == stage.pk)
    new = max(0, min(position, len(stages) - 1))
    if old == new:
        return {}
    stages.insert(new, stages.pop(old))
    _renumber(stages)
    stage.position = new
    return {"position": [old, new]}


@transaction.atomic
def reorder_stages(pipeline: Pipeline, order: list, *, actor=None) -> list[Stage]:
    """Put the pipeline's stages in the order of ``order`` (their UUIDs, every one exactly once)."""
    stages = {str(s.uuid): s for s in ordered_stages(pipeline)}
    wanted = [str(key) for key in order]
    if sorted(wanted) != sorted(stages):
        raise StageError(_("Give every stage of the pipeline exactly once."))
    result = [stages[key] for key in wanted]
    _renumber(result)
    AuditLog.record(actor, "pipeline.reorder", pipeline, summary=pipeline.name)
    return result


@transaction.atomic
def delete_stage(stage: Stage, *, actor=None) -> None:
    """Delete a stage that holds no deals (move or delete them first). Its history rows go with
    it, so the time deals spent there counts toward the stage they were in before."""
    count = stage.deals.count()
    if count:
        raise StageInUse(
            ngettext(
                "The stage “%(stage)s” still holds %(count)d deal; move it to another stage first.",
                "The stage “%(stage)s” still holds %(count)d deals; move them to another stage first.",
                count,
            )
            % {"stage": stage.name, "count": count}
        )
    others = list(stage.pipeline.stages.exclude(pk=stage.pk).values_list("kind", flat=True))
    _check_kinds(stage.pipeline, others)
    AuditLog.record(actor, "stage.delete", stage, summary=f"{stage.pipeline.name}: {stage.name}")
    stage.delete()
    _renumber(ordered_stages(stage.pipeline))


def stalled_condition(pipeline: Pipeline, now: datetime | None = None) -> Q:
    """The condition ``Deal.objects.stalled`` uses, for the deals of one pipeline (so a board can
    mark stalled cards in its own query)."""
    now = now or timezone.now()
    quiet = Q(last_activity_at__lt=now - timedelta(days=pipeline.stall_days))
    return Q(closed_at__isnull=True) & (quiet | Q(expected_close__lt=timezone.localdate(now)))


# --- deals: the order of the cards in a column --------------------------------------------------

# Below this gap two neighbours are renumbered: a float halves ~50 times before it runs out.
MIN_GAP = 1e-6


def position_between(stage: Stage, above: Deal | None = None, below: Deal | None = None) -> float:
    """A position in ``stage``'s column just below ``above`` and just above ``below`` (either may
    be None: the top or the bottom of the column). Neighbours from another column are ignored
    (the board was stale); when the gap is used up the column is renumbered first."""
    above = above if above is not None and above.stage_id == stage.pk else None
    below = below if below is not None and below.stage_id == stage.pk else None
    if above is not None and below is not None:
        if below.position - above.position < MIN_GAP:
            _renumber_column(stage)
            above.refresh_from_db(fields=["position"])
            below.refresh_from_db(fields=["position"])
        if below.position > above.position:
            return (above.position + below.position) / 2
        below = None  # out of order (a concurrent move): just below ``above``
    if above is not None:
        return above.position + 1
    if below is not None:
        return below.position - 1
    column = Deal.objects.filter(stage=stage).aggregate(last=Max("position"))
    return (column["last"] or 0) + 1


def _renumber_column(stage: Stage) -> None:
    """Positions 1, 2, 3… in the current order (rare: only when two cards got too close)."""
    deals = list(Deal.objects.filter(stage=stage).order_by("position", "id").only("pk", "position"))
    for index, deal in enumerate(deals, start=1):
        deal.position = float(index)
    Deal.objects.bulk_update(deals, ["position"], batch_size=500)


def place_deal(
    deal: Deal,
    stage: Stage,
    *,
    above: Deal | None = None,
    below: Deal | None = None,
    actor=None,
    lost_reason: str = "",
    lost_note: str = "",
) -> Deal:
    """Drop a card: move ``deal`` into ``stage`` between the cards ``above`` and ``below``."""
    with transaction.atomic():
        position = position_between(stage, above if above != deal else None, below if below != deal else None)
        return move_deal(
            deal, stage, actor=actor, position=position, lost_reason=lost_reason, lost_note=lost_note
        )


@transaction.atomic
def delete_deal(deal: Deal, *, actor=None) -> None:
    """Delete a deal with its history, tasks and quotes; an order it created stays (money came in)."""
    AuditLog.record(actor, "deal.delete", deal, summary=deal.title)
    deal.delete()


# --- time in each stage ---------------------------------------------------------------------------


def stage_path(deal: Deal, now: datetime | None = None) -> list[dict[str, Any]]:
    """The stages ``deal`` went through, oldest first: ``{stage, entered_at, left_at, days}``;
    the current stage has ``left_at`` None and counts until now (or until it closed)."""
    now = now or timezone.now()
    changes = list(deal.stage_changes.select_related("to_stage").order_by("changed_at", "id"))
    path = []
    for index, change in enumerate(changes):
        following = changes[index + 1].changed_at if index + 1 < len(changes) else None
        end = following or (deal.closed_at if change.to_stage.is_closed else None) or now
        path.append(
            {
                "stage": change.to_stage,
                "entered_at": change.changed_at,
                "left_at": following,
                "days": max((end - change.changed_at).total_seconds(), 0) / 86400,
            }
        )
    return path


def _left_at() -> Subquery:
    """When the deal left the stage a change row entered: the changed_at of its next change."""
    later = Q(changed_at__gt=OuterRef("changed_at")) | Q(
        changed_at=OuterRef("changed_at"), id__gt=OuterRef("id")
    )
    following = DealStageChange.objects.filter(later, deal_id=OuterRef("deal_id")).order_by(
        "changed_at", "id"
    )
    return Subquery(following.values("changed_at")[:1])


def average_days_in_stage(pipeline: Pipeline, now: datetime | None = None) -> dict[int, dict[str, Any]]:
    """Per open stage of ``pipeline`` (keyed by stage id): ``{"days": average, "visits": n}``
    over every visit recorded in the stage history; a visit still going counts until ``now``.

    One aggregate query (a correlated subquery finds when each visit ended); closing stages are
    left out, a deal does not "spend time" in Won."""
    now = now or timezone.now()
    spent = ExpressionWrapper(
        Coalesce(_left_at(), Value(now, output_field=DateTimeField())) - F("changed_at"),
        output_field=DurationField(),
    )
    rows = (
        DealStageChange.objects.filter(to_stage__pipeline=pipeline, to_stage__kind=StageKind.OPEN)
        .values("to_stage_id")
        .annotate(average=Avg(spent), visits=Count("id"))
        .order_by()
    )
    return {
        row["to_stage_id"]: {"days": duration_days(row["average"]), "visits": row["visits"]} for row in rows
    }


def duration_days(value: Any) -> float | None:
    """An average duration as days (SQLite answers microseconds, PostgreSQL an interval)."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds() / 86400
    return float(value) / 86_400_000_000


# --- the board ------------------------------------------------------------------------------------

PERCENT = Decimal("0.01")
BOARD_CARDS = 40  # cards per column (keeps the board under ~100 ms at 5,000 deals); the rest: the list
BOARD_CLOSED_DAYS = 30  # won and lost columns show the deals closed this recently


def weighted_amount() -> ExpressionWrapper:
    """amount × stage probability / 100 of a deal, in SQL (a new expression each time: Django
    resolves expressions in place, so one instance must not serve two queries)."""
    # × 0.01 rather than / 100: SQLite stores whole amounts as integers, and 1001 * 25 / 100
    # would be integer division (250, not 250.25).
    return ExpressionWrapper(
        F("amount") * F("stage__probability") * Value(PERCENT),
        output_field=DecimalField(max_digits=20, decimal_places=4),
    )


def board_deals(pipeline: Pipeline, now: datetime | None = None, where: Q | None = None) -> QuerySet:
    """The deals the board shows: every open one, and those closed in the last BOARD_CLOSED_DAYS;
    ``where`` narrows them (the board's filters: owner, search text, stalled)."""
    now = now or timezone.now()
    recent = Q(closed_at__isnull=True) | Q(closed_at__gte=now - timedelta(days=BOARD_CLOSED_DAYS))
    return Deal.objects.filter(recent, pipeline=pipeline).filter(where or Q())


def board_columns(
    pipeline: Pipeline, *, limit: int = BOARD_CARDS, now: datetime | None = None, where: Q | None = None
) -> list[dict]:
    """One column per stage: ``{stage, count, totals, deals, hidden}``.

    Four queries whatever the number of deals: the stages, one aggregate for every column's
    count and totals (per currency: ``{currency, total, weighted}``), the first ``limit``
    cards of every column (a window function numbers the cards of each stage), and the next
    open task of every card shown. Each card has ``is_stalled``, ``age_days`` and ``next_task``."""
    now = now or timezone.now()
    deals = board_deals(pipeline, now, where)
    stages = ordered_stages(pipeline)
    columns = {stage.pk: {"stage": stage, "count": 0, "totals": [], "deals": []} for stage in stages}
    for row in column_totals(deals):
        column = columns[row["stage_id"]]
        column["count"] += row["count"]
        column["totals"].append(row)
    ranked = (
        deals.annotate(
            card=Window(
                RowNumber(), partition_by=F("stage_id"), order_by=[F("position").asc(), F("id").asc()]
            ),
            is_stalled=Case(
                When(stalled_condition(pipeline, now), then=True), default=False, output_field=BooleanField()
            ),
        )
        .filter(card__lte=limit)
        .select_related("contact", "company")
        .order_by("stage_id", "position", "id")
    )
    ranked = list(ranked)
    for deal in ranked:
        columns[deal.stage_id]["deals"].append(deal)
    describe_cards(ranked, now)
    for column in columns.values():
        column["hidden"] = column["count"] - len(column["deals"])
    return list(columns.values())


def column_totals(deals: QuerySet) -> list[dict[str, Any]]:
    """Count, total and weighted total of ``deals`` per stage and currency (one query)."""
    rows = (
        deals.values("stage_id", "currency")
        .annotate(count=Count("id"), total=Sum("amount"), weighted=Sum(weighted_amount()))
        .order_by("stage_id", "currency")
    )
    return [{**row, "total": _cents(row["total"]), "weighted": _cents(row["weighted"])} for row in rows]


def _cents(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def column_summary(stage: Stage, now: datetime | None = None, where: Q | None = None) -> dict[str, Any]:
    """One column's head after a move: ``{stage, count, totals}`` (of the deals ``where`` keeps)."""
    totals = column_totals(board_deals(stage.pipeline, now, where).filter(stage=stage))
    return {"stage": stage, "count": sum(row["count"] for row in totals), "totals": totals}


def describe_cards(deals: list[Deal], now: datetime | None = None) -> None:
    """Set what a card shows besides the deal's own fields: ``age_days`` (since it was created)
    and ``next_task`` (its open task due first, undated last; None without one) — one query
    for all the cards."""
    now = now or timezone.now()
    # The tasks app sits above deals: reach its model through the relation, without importing it.
    task_model = Deal._meta.get_field("tasks").related_model
    tasks = (
        task_model.objects.filter(deal__in=[deal.pk for deal in deals], done_at__isnull=True)
        .order_by("deal_id", F("due_at").asc(nulls_last=True), "-priority", "id")
        .only("deal_id", "title", "due_at", "all_day")
    )
    first: dict[int, Any] = {}
    for task in tasks if deals else []:
        first.setdefault(task.deal_id, task)
    for deal in deals:
        deal.age_days = max((now - deal.created_at).days, 0)
        deal.next_task = first.get(deal.pk)
        deal.next_task_overdue = bool(
            deal.next_task and deal.next_task.due_at and deal.next_task.due_at < now
        )


def is_stalled(deal: Deal, now: datetime | None = None) -> bool:
    """Whether one deal is stalled (the definition of ``Deal.objects.stalled``)."""
    now = now or timezone.now()
    if deal.closed_at is not None:
        return False
    quiet = deal.last_activity_at < now - timedelta(days=deal.pipeline.stall_days)
    return quiet or (deal.expected_close is not None and deal.expected_close < timezone.localdate(now))
