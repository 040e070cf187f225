"""Moving deals between stages, winning (the order) and losing (the reason)."""

from decimal import Decimal

import pytest

from solocrm.contacts.choices import LifecycleStage
from solocrm.contacts.models import Contact
from solocrm.sales.choices import LostReason, OrderStatus, StageKind
from solocrm.sales.models import Deal, DealStageChange, Order
from solocrm.sales.pipeline import StageError, create_pipeline, default_pipeline, lose_deal, move_deal

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

    from solocrm.sales.pipeline import touch_deal

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
    from solocrm.sales.pipeline import create_deal

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

    from solocrm.sales.pipeline import create_deal

    with pytest.raises(ValidationError):
        create_deal({"title": "Huge", "amount": Decimal("1e15")})
    assert not Deal.objects.exists()
