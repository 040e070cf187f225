"""The forecast and win/loss numbers, checked against figures worked out by hand."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from solocrm.sales.choices import LostReason
from solocrm.sales.deals.forecast import (
    NO_DATE,
    PAST_DUE,
    Period,
    forecast,
    lost_reasons,
    pipeline_totals,
    stage_conversion,
    weighted_pipeline,
    win_loss,
)
from solocrm.sales.deals.models import Deal
from solocrm.sales.deals.services import (
    create_deal,
    create_pipeline,
    default_pipeline,
    lose_deal,
    move_deal,
    win_deal,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 15)


@pytest.fixture
def stages():
    pipeline = default_pipeline()  # New lead 10 %, Qualified 25 %, Proposal 50 %, Negotiation 75 %
    return {stage.name: stage for stage in pipeline.stages.all()}


def _deal(stages, stage: str, amount: str, close: date | None = None, currency: str = "EUR", **extra) -> Deal:
    deal = create_deal(
        {"title": f"{stage} {amount}", "amount": Decimal(amount), "currency": currency, **extra}
    )
    if stage != "New lead":
        move_deal(deal, stages[stage])
    if close is not None:
        Deal.objects.filter(pk=deal.pk).update(expected_close=close)
    return deal


def test_the_weighted_pipeline_goes_by_close_month_with_past_due_and_undated_buckets(stages):
    _deal(stages, "Proposal", "1000", date(2026, 3, 20))  # March: 500
    _deal(stages, "Negotiation", "2000", date(2026, 3, 31))  # March: 1500
    _deal(stages, "New lead", "999.99", date(2026, 5, 1))  # May: 99.999 -> 100.00
    _deal(stages, "Qualified", "400", date(2026, 3, 14))  # past due: 100
    _deal(stages, "Qualified", "80")  # no date: 20
    _deal(stages, "Proposal", "300", date(2026, 3, 20), currency="USD")  # March, USD: 150
    won = _deal(stages, "Proposal", "5000", date(2026, 3, 20))
    win_deal(won)  # closed: not in the pipeline

    rows = weighted_pipeline(today=TODAY)
    got = [(r["bucket"], r["currency"], r["count"], r["amount"], r["weighted"]) for r in rows]
    assert got == [
        (PAST_DUE, "EUR", 1, Decimal("400.00"), Decimal("100.00")),
        ("2026-03", "EUR", 2, Decimal("3000.00"), Decimal("2000.00")),
        ("2026-03", "USD", 1, Decimal("300.00"), Decimal("150.00")),
        ("2026-05", "EUR", 1, Decimal("999.99"), Decimal("100.00")),
        (NO_DATE, "EUR", 1, Decimal("80.00"), Decimal("20.00")),
    ]
    assert rows[1]["month"] == date(2026, 3, 1)
    totals = {t["currency"]: (t["count"], t["amount"], t["weighted"]) for t in pipeline_totals(rows)}
    assert totals == {
        "EUR": (5, Decimal("4479.99"), Decimal("2220.00")),
        "USD": (1, Decimal("300.00"), Decimal("150.00")),
    }


def test_the_weighted_pipeline_of_one_pipeline_leaves_the_others_out(stages):
    _deal(stages, "Proposal", "1000", date(2026, 4, 1))
    other = create_pipeline("Workshops")
    create_deal({"title": "Workshop", "pipeline": other, "amount": Decimal("700")})
    assert [r["amount"] for r in weighted_pipeline(other, today=TODAY)] == [Decimal("700.00")]
    assert len(weighted_pipeline(today=TODAY)) == 2


def _closed(deal: Deal, created: datetime, closed: datetime) -> None:
    Deal.objects.filter(pk=deal.pk).update(created_at=created, closed_at=closed)


def test_win_rate_and_cycle_count_the_deals_closed_in_the_period_by_source(stages):
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    a = _deal(stages, "Proposal", "100", source="web")
    b = _deal(stages, "Proposal", "200", source="web")
    c = _deal(stages, "Proposal", "300", source="web")
    d = _deal(stages, "Proposal", "400", source="referral")
    late = _deal(stages, "Proposal", "500", source="web")
    _deal(stages, "Proposal", "600", source="web")  # still open: not counted
    for deal in (a, b, d, late):
        win_deal(deal)
    lose_deal(c, LostReason.PRICE)
    _closed(a, start, start + timedelta(days=10))
    _closed(b, start, start + timedelta(days=20))
    _closed(c, start, start + timedelta(days=5))
    _closed(d, start, start + timedelta(days=40))
    _closed(late, start, datetime(2026, 4, 2, 12, tzinfo=UTC))  # after the period

    result = win_loss(Period(date(2026, 1, 1), date(2026, 3, 31)))
    overall = result["overall"]
    # 3 won, 1 lost: 75 %; cycle (10 + 20 + 40) / 3 days over the won deals only.
    assert (overall["won"], overall["lost"], overall["win_rate"]) == (3, 1, 0.75)
    assert overall["cycle_days"] == pytest.approx(70 / 3)
    by_source = {row["source"]: row for row in result["by_source"]}
    assert list(by_source) == ["web", "referral"]  # most closed deals first
    assert (by_source["web"]["won"], by_source["web"]["lost"]) == (2, 1)
    assert by_source["web"]["win_rate"] == pytest.approx(2 / 3)
    assert by_source["web"]["cycle_days"] == pytest.approx(15)
    assert (by_source["referral"]["win_rate"], by_source["referral"]["cycle_days"]) == (
        1.0,
        pytest.approx(40),
    )
    assert result["won_amounts"] == [{"currency": "EUR", "count": 3, "amount": Decimal("700.00")}]


def test_with_nothing_closed_the_rates_are_none_not_zero(stages):
    _deal(stages, "Proposal", "100")
    overall = win_loss(Period(date(2026, 1, 1), date(2026, 3, 31)))["overall"]
    assert (overall["won"], overall["lost"], overall["win_rate"], overall["cycle_days"]) == (0, 0, None, None)


def test_the_period_boundaries_are_local_days(stages, settings):
    from django.utils import timezone

    settings.TIME_ZONE = "Asia/Shanghai"  # UTC+8
    timezone.activate("Asia/Shanghai")
    try:
        deal = _deal(stages, "Proposal", "100")
        win_deal(deal)
        # 2026-03-31 20:00 UTC is already 1 April in Shanghai.
        _closed(deal, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 31, 20, tzinfo=UTC))
        assert win_loss(Period(date(2026, 3, 1), date(2026, 3, 31)))["overall"]["won"] == 0
        assert win_loss(Period(date(2026, 4, 1), date(2026, 4, 30)))["overall"]["won"] == 1
    finally:
        timezone.deactivate()


def test_stage_conversion_is_the_share_of_decided_deals_that_reached_a_stage_and_won(stages):
    # Five deals start in New lead; three reach Qualified, two reach Proposal.
    deals = [_deal(stages, "New lead", str(100 * i)) for i in range(1, 6)]
    for deal in deals[:3]:
        move_deal(deal, stages["Qualified"])
    for deal in deals[:2]:
        move_deal(deal, stages["Proposal"])
    win_deal(deals[0])  # reached New lead, Qualified, Proposal
    lose_deal(deals[1], LostReason.TIMING)  # reached New lead, Qualified, Proposal
    lose_deal(deals[3], LostReason.PRICE)  # reached New lead only
    # deals[2] (Qualified) and deals[4] (New lead) are still open.
    rows = {row["stage"].name: row for row in stage_conversion(default_pipeline())}
    assert list(rows) == ["New lead", "Qualified", "Proposal", "Negotiation"]
    assert [rows["New lead"][k] for k in ("reached", "still_open", "won", "lost")] == [5, 2, 1, 2]
    assert rows["New lead"]["win_rate"] == pytest.approx(1 / 3)
    assert [rows["Qualified"][k] for k in ("reached", "still_open", "won", "lost")] == [3, 1, 1, 1]
    assert rows["Qualified"]["win_rate"] == 0.5
    assert [rows["Proposal"][k] for k in ("reached", "won", "lost")] == [2, 1, 1]
    assert rows["Negotiation"]["reached"] == 0 and rows["Negotiation"]["win_rate"] is None


def test_a_deal_that_went_back_and_forth_counts_once_per_stage(stages):
    deal = _deal(stages, "Qualified", "100")
    move_deal(deal, stages["New lead"])
    move_deal(deal, stages["Qualified"])
    win_deal(deal)
    rows = {row["stage"].name: row for row in stage_conversion(default_pipeline())}
    assert (rows["Qualified"]["reached"], rows["Qualified"]["won"]) == (1, 1)


def test_lost_reasons_are_counted_with_their_amounts_per_currency(stages):
    period = Period(date(2026, 1, 1), date(2026, 12, 31))
    when = datetime(2026, 2, 1, tzinfo=UTC)
    for amount, reason, currency in [
        ("100", LostReason.PRICE, "EUR"),
        ("250.50", LostReason.PRICE, "EUR"),
        ("70", LostReason.PRICE, "USD"),
        ("1000", LostReason.COMPETITOR, "EUR"),
    ]:
        deal = _deal(stages, "Proposal", amount, currency=currency)
        lose_deal(deal, reason)
        Deal.objects.filter(pk=deal.pk).update(closed_at=when)
    rows = [(r["reason"], r["currency"], r["count"], r["amount"]) for r in lost_reasons(period)]
    assert rows == [
        ("price", "EUR", 2, Decimal("350.50")),
        ("price", "USD", 1, Decimal("70.00")),
        ("competitor", "EUR", 1, Decimal("1000.00")),
    ]
    assert lost_reasons(period)[0]["label"] == "Price too high"


def test_last_months_period_ends_today_and_covers_whole_days():
    assert Period.last_months(12, date(2026, 3, 15)) == Period(date(2025, 3, 16), date(2026, 3, 15))
    assert Period.last_months(1, date(2026, 3, 31)) == Period(date(2026, 3, 1), date(2026, 3, 31))
    assert Period.last_months(3, date(2024, 5, 31)).start == date(2024, 3, 1)


def test_the_forecast_bundles_every_table_in_few_queries(stages, django_assert_max_num_queries):
    for i in range(20):
        _deal(stages, "Proposal", str(i), date(2026, 4, 1))
    pipeline = default_pipeline()
    with django_assert_max_num_queries(9):
        result = forecast(Period(date(2026, 1, 1), date(2026, 3, 31)), pipeline, today=TODAY)
    assert result["totals"][0]["count"] == 20
