"""Moving deals between stages, winning (the order) and losing (the reason)."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from solocrm.contacts.choices import LifecycleStage
from solocrm.contacts.models import Contact
from solocrm.sales.choices import LostReason, OrderStatus, StageKind
from solocrm.sales.deals.models import Deal, DealStageChange
from solocrm.sales.deals.services import StageError, create_pipeline, default_pipeline, lose_deal, move_deal
from solocrm.sales.orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal():
    pipeline = default_pipeline()
    contact = Contact.objects.create(first_name="Lea", email="lea@example.com", lifecycle_stage="lead")
    first = pipeline.stages.first()
    return Deal.objects.create(title="Website", pipeline=pipeline, stage=first, contact=contact, amount=1200)


def test_the_default_pipeline_is_created_once_with_the_usual_stages():
    pipeline = default_pipeline()
    assert default_pipeline() == pipeline
    kinds = list(pipeline.stages.values_list("kind", flat=True))
    assert kinds.count(StageKind.WON) == 1 and kinds.count(StageKind.LOST) == 1
    assert list(pipeline.stages.values_list("probability", flat=True)) == [10, 25, 50, 75, 100, 0]


def test_marking_a_deal_won_creates_one_paid_order_and_makes_the_lead_a_customer(deal):
    order = deal.mark_won()
    assert order.total == Decimal("1200.00") and order.status == OrderStatus.PAID
    assert order.contact == deal.contact and deal.closed_at is not None
    assert deal.mark_won() == order
    assert Order.objects.count() == 1
    deal.contact.refresh_from_db()
    assert deal.contact.lifecycle_stage == LifecycleStage.CUSTOMER


def test_each_move_is_recorded_with_the_stage_it_left(deal):
    second = deal.pipeline.stages.all()[1]
    move_deal(deal, second)
    change = DealStageChange.objects.get()
    assert (change.from_stage, change.to_stage) == (deal.pipeline.stages.first(), second)
    assert deal.stage_entered_at == change.changed_at


def test_losing_needs_a_reason_and_keeps_it(deal):
    with pytest.raises(StageError):
        move_deal(deal, deal.pipeline.stages.get(kind=StageKind.LOST))
    lose_deal(deal, LostReason.PRICE, "Too expensive for now")
    deal.refresh_from_db()
    assert deal.lost_reason == LostReason.PRICE and deal.closed_at is not None
    assert not Order.objects.exists()


def test_a_stage_of_another_pipeline_is_refused(deal):
    other = create_pipeline("Workshops")
    with pytest.raises(StageError):
        move_deal(deal, other.stages.first())
    assert deal.stage.pipeline == deal.pipeline


def test_reopening_a_won_deal_keeps_its_order(deal):
    order = deal.mark_won()
    move_deal(deal, deal.pipeline.stages.first())
    assert deal.closed_at is None and deal.order == order


def test_a_deal_is_stalled_after_quiet_days_or_a_passed_close_date(deal):
    from datetime import timedelta

    from django.utils import timezone

    from solocrm.sales.deals.services import touch_deal

    now = timezone.now()
    assert not Deal.objects.stalled(now).exists()
    assert Deal.objects.stalled(now + timedelta(days=15)).get() == deal
    touch_deal(deal, now + timedelta(days=10))
    assert not Deal.objects.stalled(now + timedelta(days=15)).exists()
    Deal.objects.filter(pk=deal.pk).update(expected_close=(now - timedelta(days=1)).date())
    assert Deal.objects.stalled(now).get() == deal
    deal.mark_won()
    assert not Deal.objects.stalled(now + timedelta(days=99)).exists()


def test_a_new_deal_starts_in_the_first_open_stage_with_the_contacts_company_and_source():
    from solocrm.contacts.models import Company
    from solocrm.sales.deals.services import create_deal

    company = Company.objects.create(name="Acme")
    contact = Contact.objects.create(first_name="Ann", company=company, source="webinar")
    first = create_deal({"title": "Logo", "contact": contact, "amount": Decimal("300")})
    second = create_deal({"title": "Flyer", "contact": contact})
    assert first.stage == default_pipeline().stages.first()
    assert (first.company, first.source) == (company, "webinar")
    assert second.position > first.position
    assert first.stage_changes.get().from_stage is None


def test_a_deal_with_a_bad_amount_is_refused_and_not_saved():
    from django.core.exceptions import ValidationError

    from solocrm.sales.deals.services import create_deal

    with pytest.raises(ValidationError):
        create_deal({"title": "Huge", "amount": Decimal("1e15")})
    assert not Deal.objects.exists()


# --- stage management -------------------------------------------------------------------------


def _kinds(pipeline):
    return list(pipeline.stages.order_by("position").values_list("name", "kind"))


def test_a_new_open_stage_goes_before_the_closing_stages():
    from solocrm.sales.deals.services import add_stage

    pipeline = default_pipeline()
    stage = add_stage(pipeline, "  Demo  ", probability=60)
    names = [name for name, _kind in _kinds(pipeline)]
    assert names == ["New lead", "Qualified", "Proposal", "Negotiation", "Demo", "Won", "Lost"]
    assert (stage.name, stage.probability) == ("Demo", 60)
    assert list(pipeline.stages.order_by("position").values_list("position", flat=True)) == list(range(7))


@pytest.mark.parametrize("probability", [-1, 101])
def test_a_probability_outside_0_to_100_is_refused(probability):
    from solocrm.sales.deals.services import add_stage, update_stage

    pipeline = default_pipeline()
    with pytest.raises(StageError):
        add_stage(pipeline, "Odd", probability=probability)
    with pytest.raises(StageError):
        update_stage(pipeline.stages.first(), {"probability": probability})
    assert pipeline.stages.count() == 6
    assert pipeline.stages.first().probability == 10


def test_a_stage_is_renamed_and_moved_and_its_neighbours_shift():
    from solocrm.sales.deals.services import update_stage

    pipeline = default_pipeline()
    proposal = pipeline.stages.get(name="Proposal")
    update_stage(proposal, {"name": "Offer sent", "position": 0, "probability": 40})
    names = [name for name, _kind in _kinds(pipeline)]
    assert names == ["Offer sent", "New lead", "Qualified", "Negotiation", "Won", "Lost"]
    proposal.refresh_from_db()
    assert (proposal.probability, proposal.position) == (40, 0)


def test_stages_are_reordered_only_with_every_stage_once():
    from solocrm.sales.deals.services import reorder_stages

    pipeline = default_pipeline()
    uuids = list(pipeline.stages.order_by("position").values_list("uuid", flat=True))
    with pytest.raises(StageError):
        reorder_stages(pipeline, uuids[:-1])
    with pytest.raises(StageError):
        reorder_stages(pipeline, [*uuids[:-1], create_pipeline("Other").stages.first().uuid])
    reorder_stages(pipeline, list(reversed(uuids)))
    assert list(pipeline.stages.order_by("position").values_list("uuid", flat=True)) == uuids[::-1]


def test_a_stage_holding_deals_cannot_be_deleted_and_the_error_says_how_many(deal):
    from solocrm.sales.deals.services import StageInUse, delete_stage

    with pytest.raises(StageInUse, match="1 deal"):
        delete_stage(deal.stage)
    assert deal.pipeline.stages.count() == 6


def test_an_empty_stage_is_deleted_and_the_columns_close_up():
    from solocrm.sales.deals.services import delete_stage

    pipeline = default_pipeline()
    delete_stage(pipeline.stages.get(name="Qualified"))
    assert [n for n, _k in _kinds(pipeline)] == ["New lead", "Proposal", "Negotiation", "Won", "Lost"]
    assert list(pipeline.stages.order_by("position").values_list("position", flat=True)) == list(range(5))


def test_the_last_open_won_or_lost_stage_cannot_go():
    from solocrm.sales.deals.services import add_stage, delete_stage, update_stage

    pipeline = create_pipeline(
        "Tiny", stages=[("Open", 10, "open"), ("Won", 100, "won"), ("Lost", 0, "lost")]
    )
    for name in ("Open", "Won", "Lost"):
        with pytest.raises(StageError):
            delete_stage(pipeline.stages.get(name=name))
    with pytest.raises(StageError):
        update_stage(pipeline.stages.get(name="Won"), {"kind": StageKind.OPEN})
    add_stage(pipeline, "Paid", probability=100, kind=StageKind.WON)
    update_stage(pipeline.stages.get(name="Won"), {"kind": StageKind.OPEN})
    assert pipeline.stages.filter(kind=StageKind.OPEN).count() == 2


def test_a_stage_holding_deals_keeps_its_kind(deal):
    from solocrm.sales.deals.services import StageInUse, update_stage

    with pytest.raises(StageInUse):
        update_stage(deal.stage, {"kind": StageKind.WON})
    deal.stage.refresh_from_db()
    assert deal.stage.kind == StageKind.OPEN


@pytest.mark.parametrize("days", [0, 3651])
def test_stall_days_must_be_sensible(days):
    from solocrm.sales.deals.services import update_pipeline

    pipeline = default_pipeline()
    with pytest.raises(StageError):
        update_pipeline(pipeline, {"stall_days": days})
    pipeline.refresh_from_db()
    assert pipeline.stall_days == 14


def test_making_a_pipeline_the_default_unmarks_the_old_one():
    from solocrm.sales.deals.services import update_pipeline

    first = default_pipeline()
    second = create_pipeline("Workshops")
    update_pipeline(second, {"is_default": True, "stall_days": 30})
    first.refresh_from_db()
    assert not first.is_default and default_pipeline() == second


# --- card positions -----------------------------------------------------------------------------


def _column(stage):
    return list(Deal.objects.filter(stage=stage).order_by("position", "id").values_list("title", flat=True))


def test_a_dropped_card_lands_between_its_neighbours():
    from solocrm.sales.deals.services import create_deal, place_deal

    pipeline = default_pipeline()
    first, second = pipeline.stages.all()[:2]
    a, b, c = (create_deal({"title": t}) for t in "abc")
    x = create_deal({"title": "x"})
    place_deal(x, first, above=a, below=b)
    assert _column(first) == ["a", "x", "b", "c"]
    place_deal(c, first, above=None, below=a)
    assert _column(first) == ["c", "a", "x", "b"]
    place_deal(a, second)
    assert _column(second) == ["a"] and a.stage == second


def test_neighbours_from_another_column_are_ignored():
    from solocrm.sales.deals.services import create_deal, place_deal

    pipeline = default_pipeline()
    first, second = pipeline.stages.all()[:2]
    a = create_deal({"title": "a"})
    b = create_deal({"title": "b", "stage": second})
    place_deal(a, second, above=a, below=Deal.objects.get(pk=a.pk))
    place_deal(create_deal({"title": "c"}), second, above=b)
    assert _column(second) == ["b", "a", "c"] or _column(second) == ["a", "b", "c"]
    assert _column(second)[-1] == "c" and _column(first) == []


def test_a_column_is_renumbered_when_two_cards_get_too_close():
    from solocrm.sales.deals.services import create_deal, place_deal

    pipeline = default_pipeline()
    first = pipeline.stages.first()
    a, b = create_deal({"title": "a"}), create_deal({"title": "b"})
    Deal.objects.filter(pk=b.pk).update(position=a.position + 1e-9)
    b.refresh_from_db()
    x = place_deal(create_deal({"title": "x"}), first, above=a, below=b)
    assert _column(first) == ["a", "x", "b"]
    positions = list(Deal.objects.filter(stage=first).order_by("position").values_list("position", flat=True))
    assert positions[1] - positions[0] > 0.1 and x.position == positions[1]


# --- time in stage --------------------------------------------------------------------------------


def _history(deal, *steps):
    """Replace the deal's history by moves at the given day offsets: (day, stage name)."""
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    deal.stage_changes.all().delete()
    for day, name in steps:
        DealStageChange.objects.create(
            deal=deal, to_stage=deal.pipeline.stages.get(name=name), changed_at=start + timedelta(days=day)
        )
    return start


def test_the_stage_path_lists_each_visit_with_its_days(deal):
    from datetime import timedelta

    from solocrm.sales.deals.services import stage_path

    start = _history(deal, (0, "New lead"), (2, "Qualified"), (5, "New lead"))
    path = stage_path(deal, now=start + timedelta(days=6, hours=12))
    assert [(step["stage"].name, step["days"]) for step in path] == [
        ("New lead", 2.0),
        ("Qualified", 3.0),
        ("New lead", 1.5),
    ]
    assert path[-1]["left_at"] is None


def test_the_average_days_in_each_stage_is_computed_over_all_visits(deal):
    from datetime import timedelta

    from solocrm.sales.deals.services import average_days_in_stage, create_deal

    other = create_deal({"title": "Second"})
    start = _history(deal, (0, "New lead"), (2, "Qualified"), (6, "Won"))
    _history(other, (0, "New lead"), (4, "Qualified"))
    averages = average_days_in_stage(deal.pipeline, now=start + timedelta(days=10))
    stages = {s.name: s.pk for s in deal.pipeline.stages.all()}
    # New lead: 2 and 4 days; Qualified: 4 days (left for Won) and 6 days (still there at day 10).
    assert averages[stages["New lead"]] == {"days": pytest.approx(3.0), "visits": 2}
    assert averages[stages["Qualified"]] == {"days": pytest.approx(5.0), "visits": 2}
    assert stages["Won"] not in averages


def test_a_new_deal_may_name_its_owner(owner, assistant):
    from solocrm.sales.deals.services import create_deal

    assert create_deal({"title": "Logo", "owner": assistant}, actor=owner).owner == assistant
    assert create_deal({"title": "Flyer"}, actor=owner).owner == owner


def test_weighted_sums_keep_the_cents_on_every_database():
    from solocrm.sales.deals.services import create_deal, weighted_amount

    stage = default_pipeline().stages.get(probability=25)
    create_deal({"title": "Odd", "amount": Decimal("1001"), "stage": stage})
    create_deal({"title": "Tiny", "amount": Decimal("1"), "stage": default_pipeline().stages.first()})
    total = Deal.objects.aggregate(w=Sum(weighted_amount()))["w"]
    assert Decimal(total).quantize(Decimal("0.01")) == Decimal("250.35")


def test_won_then_lost_is_closed_again_when_it_was_lost(deal):
    from datetime import timedelta

    from django.utils import timezone

    long_ago = timezone.now() - timedelta(days=200)
    deal.mark_won(when=long_ago)
    lose_deal(deal, LostReason.NO_BUDGET)
    deal.refresh_from_db()
    assert deal.closed_at > long_ago + timedelta(days=199)
    assert deal.lost_reason == LostReason.NO_BUDGET


def test_a_lost_card_can_be_reordered_without_giving_its_reason_again(deal):
    lose_deal(deal, LostReason.PRICE, "too dear")
    move_deal(deal, deal.stage, position=0.5)
    deal.refresh_from_db()
    assert (deal.position, deal.lost_reason, deal.lost_note) == (0.5, LostReason.PRICE, "too dear")


def test_winning_twice_from_a_stale_copy_makes_one_order(deal):
    stale = Deal.objects.get(pk=deal.pk)
    deal.mark_won()
    stale.mark_won()
    assert Order.objects.count() == 1
