"""Workflows on pipelines and deals: the default pipeline, moving a deal between stages (with
its history), winning (which creates the order analytics counts) and losing.

Views, the API, the CLI and quote acceptance all call these; like solocrm.sales.services they
take validated values and write the audit log themselves."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from solocrm.contacts.choices import LifecycleStage
from solocrm.contacts.models import Contact
from solocrm.contacts.services import apply_changes, save_validated
from solocrm.users.models import AuditLog

from .choices import LostReason, OrderStatus, SalesChannel, StageKind
from .models import Deal, DealStageChange, Order, Pipeline, Stage

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
    deal = Deal(pipeline=pipeline, stage=stage, position=(last or 0) + 1, owner=_user(actor), **data)
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
    if stage.kind == StageKind.LOST and lost_reason not in LostReason.values:
        raise StageError(_("Say why the deal was lost."))
    when = when or timezone.now()
    previous = deal.stage
    if position is not None:
        deal.position = position
    if previous.pk != stage.pk:
        DealStageChange.objects.create(
            deal=deal, from_stage=previous, to_stage=stage, changed_at=when, changed_by=_user(actor)
        )
        deal.stage = stage
        deal.stage_entered_at = when
        deal.last_activity_at = when
    deal.closed_at = None if stage.kind == StageKind.OPEN else (deal.closed_at or when)
    if stage.kind != StageKind.LOST:
        lost_reason, lost_note = "", ""
    deal.lost_reason, deal.lost_note = lost_reason, lost_note[:300]
    deal.save()
    if stage.kind == StageKind.WON and deal.order_id is None:
        _create_order(deal, when)
    if previous.pk != stage.pk:
        AuditLog.record(
            actor, "deal.move", deal, summary=deal.title, changes={"stage": [previous.name, stage.name]}
        )
    return deal


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
