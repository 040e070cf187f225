"""Demo data: deterministic, realistic in shape, and careful with existing data."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F, Q

from solocrm.contacts.models import Company, Contact, Interaction
from solocrm.sales.choices import OrderStatus
from solocrm.sales.models import Order, OrderLine, Product, Task
from solocrm.web.demo import DemoDataExists, load_demo

pytestmark = pytest.mark.django_db

END = date(2025, 6, 30)
SIZE = 200


def _first_contacts(n: int = 10) -> list[tuple]:
    return list(Contact.objects.order_by("id").values_list("first_name", "last_name", "email", "phone")[:n])


def _load(**kwargs) -> dict[str, int]:
    return load_demo(contacts=kwargs.pop("contacts", SIZE), seed=kwargs.pop("seed", 42), end=END, **kwargs)


@pytest.fixture
def demo() -> dict[str, int]:
    return _load()


def test_the_same_seed_gives_the_same_data(demo):
    first = (_first_contacts(), list(Order.objects.order_by("number").values_list("number", "total")[:20]))
    again = _load(replace=True)
    assert again == demo
    assert (
        _first_contacts(),
        list(Order.objects.order_by("number").values_list("number", "total")[:20]),
    ) == first


def test_another_seed_gives_other_data(demo):
    first = _first_contacts()
    _load(seed=7, replace=True)
    assert _first_contacts() != first


def test_the_counts_returned_are_what_was_written(demo):
    assert demo["contacts"] == Contact.objects.count() == SIZE
    assert demo["companies"] == Company.objects.count() == 30
    assert demo["products"] == Product.objects.count() == 40
    assert demo["orders"] == Order.objects.count() > 5 * SIZE
    assert demo["order_lines"] == OrderLine.objects.count() > demo["orders"]
    assert demo["interactions"] == 5 * SIZE
    assert (
        demo["interactions"] + demo["lead_interactions"] == Interaction.objects.exclude(kind="survey").count()
    )
    assert demo["survey_answers"] == Interaction.objects.filter(kind="survey").count() > 0
    assert demo["tasks"] == SIZE // 5
    assert demo["tasks"] + demo["deal_tasks"] + demo["lead_tasks"] == Task.objects.count()


def test_it_mixes_english_and_chinese_names(demo):
    chinese = Contact.objects.filter(last_name__in=["王", "李", "张", "刘", "陈"]).count()
    assert 0.05 * SIZE < chinese < 0.3 * SIZE


def test_many_buyers_buy_once_and_a_loyal_core_places_most_orders(demo):
    per_buyer = sorted(
        Contact.objects.annotate(n=Count("orders")).filter(n__gt=0).values_list("n", flat=True), reverse=True
    )
    counts = Counter(per_buyer)
    assert counts[1] == max(counts.values()), "one-time buyers are the largest group"
    top_tenth = per_buyer[: len(per_buyer) // 10]
    assert sum(top_tenth) > 0.4 * sum(per_buyer)
    assert 0.4 < len(per_buyer) / SIZE < 0.8, "some contacts never bought"


def test_the_holidays_bring_more_orders_than_the_summer(demo):
    by_month = Counter(Order.objects.values_list("ordered_at__month", flat=True))
    assert (by_month[11] + by_month[12]) / 2 > 1.5 * by_month[6]


def test_every_date_lies_in_the_three_years_before_the_end_date(demo):
    end = datetime(2025, 6, 30, tzinfo=UTC)
    moments = Order.objects.order_by("ordered_at").values_list("ordered_at", flat=True)
    first, last = moments.first(), moments.last()
    assert end - timedelta(days=3 * 365) <= first < last < end
    assert Contact.objects.filter(created_at__gte=end).count() == 0
    assert Contact.objects.filter(created_at__lt=end - timedelta(days=2 * 365)).exists()
    assert not Order.objects.exclude(created_at=F("ordered_at")).exists()


def test_lifecycle_stages_agree_with_the_orders(demo):
    never_bought = Contact.objects.filter(orders__isnull=True)
    assert set(never_bought.values_list("lifecycle_stage", flat=True)) <= {"lead", "prospect"}
    repeaters = Contact.objects.annotate(n=Count("orders", filter=~Q(orders__status=OrderStatus.CANCELLED)))
    assert not repeaters.filter(n__gte=2, lifecycle_stage="customer").exists()
    assert not repeaters.filter(n__lte=1, lifecycle_stage="repeat").exists()


def test_some_orders_are_refunded_or_cancelled_and_totals_add_up(demo):
    statuses = Counter(Order.objects.values_list("status", flat=True))
    assert statuses[OrderStatus.REFUNDED] > 0 and statuses[OrderStatus.CANCELLED] > 0
    assert statuses[OrderStatus.FULFILLED] > 0.8 * demo["orders"]
    order = Order.objects.filter(status=OrderStatus.FULFILLED).prefetch_related("lines").first()
    assert order.total == sum(line.total for line in order.lines.all())


def test_about_sixty_percent_have_given_consent_with_evidence(demo):
    consented = Contact.objects.filter(email_consent=True)
    assert 0.4 * SIZE < consented.count() < 0.75 * SIZE
    assert not consented.filter(Q(email_consent_at__isnull=True) | Q(email_consent_source="")).exists()


def test_some_tasks_are_overdue_and_some_done(demo):
    assert Task.objects.filter(done_at__isnull=False).exists()
    assert Task.objects.overdue().exists()
    assert Task.objects.open().filter(due_at__gt=datetime(2025, 6, 30, tzinfo=UTC)).exists()


def test_it_refuses_to_mix_demo_data_into_existing_data(db):
    Contact.objects.create(first_name="Real", last_name="Customer")
    with pytest.raises(DemoDataExists):
        _load()
    assert Contact.objects.count() == 1


def test_replace_deletes_the_existing_data_first(db):
    Contact.objects.create(first_name="Real", last_name="Customer")
    _load(replace=True)
    assert not Contact.objects.filter(first_name="Real").exists()
    assert Contact.objects.count() == SIZE


def test_the_command_shows_what_it_loaded_and_refuses_a_second_run(db):
    out = StringIO()
    call_command("demo", "--contacts", "30", "--end", "2025-06-30", stdout=out)
    assert "interactions" in out.getvalue()
    assert Contact.objects.count() == 30
    with pytest.raises(CommandError, match="--replace"):
        call_command("demo", "--contacts", "30", stdout=StringIO())
    call_command("demo", "--contacts", "40", "--replace", "--yes", stdout=StringIO())
    assert Contact.objects.count() == 40


def test_the_command_will_not_replace_data_without_confirmation_when_not_interactive(db, monkeypatch):
    Contact.objects.create(first_name="Real", last_name="Customer")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="--yes"):
        call_command("demo", "--contacts", "30", "--replace", stdout=StringIO())
    assert Contact.objects.filter(first_name="Real").exists()


def test_survey_answers_hold_a_score_in_range(demo):
    answers = Interaction.objects.filter(kind="survey")
    for data in answers.values_list("data", flat=True):
        low, high = (0, 10) if data["metric"] == "nps" else (1, 5)
        assert low <= data["score"] <= high


def test_some_products_are_bought_together(demo):
    orders = Order.objects.count()
    with_tea = OrderLine.objects.filter(sku__startswith="TEA-").count()
    with_teapot = OrderLine.objects.filter(sku__startswith="TPOT-").count()
    with_both = OrderLine.objects.filter(
        sku__startswith="TPOT-", order__lines__sku__startswith="TEA-"
    ).count()
    lift = (with_both / orders) / ((with_tea / orders) * (with_teapot / orders))
    assert lift > 2


def test_the_sales_side_has_open_won_and_lost_deals_with_history(demo):
    from solocrm.sales.models import Deal, DealStageChange, FormSubmission, Quote

    assert demo["open_deals"] == Deal.objects.open().count() >= 6
    assert demo["won_deals"] == Deal.objects.won().count() > 0
    assert demo["lost_deals"] == Deal.objects.lost().count() > 0
    assert not Deal.objects.lost().filter(lost_reason="").exists()
    # Won deals point at existing orders: no revenue is counted twice.
    assert Order.objects.count() == demo["orders"]
    assert Deal.objects.won().filter(order__isnull=True).count() == 0
    assert not Deal.objects.exclude(pk__in=DealStageChange.objects.values("deal")).exists()
    assert demo["quotes"] == Quote.objects.filter(status="sent").count()
    assert demo["form_submissions"] == FormSubmission.objects.count() > 0


def test_some_open_deals_have_stalled_and_some_leads_wait_for_a_reply(demo):
    from solocrm.sales.leadforms.services import leads_waiting_for_reply
    from solocrm.sales.models import Deal

    now = datetime.combine(END, datetime.min.time(), tzinfo=UTC)
    stalled = Deal.objects.stalled(now).count()
    assert 0 < stalled < Deal.objects.open().count()
    assert leads_waiting_for_reply(50, now=now)
