"""The forecast page /sales/forecast/: weighted pipeline chart and the win/loss tables."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from solocrm.sales.choices import LostReason
from solocrm.sales.deals.services import create_deal, default_pipeline, lose_deal, move_deal, win_deal

URL = reverse("sales:forecast")


@pytest.fixture
def deals(db):
    pipeline = default_pipeline()
    proposal = pipeline.stages.get(name="Proposal")
    next_month = timezone.localdate() + timedelta(days=35)
    euro = create_deal(
        {"title": "A", "amount": Decimal("1000"), "currency": "EUR", "expected_close": next_month}
    )
    move_deal(euro, proposal)
    create_deal({"title": "B", "amount": Decimal("400"), "currency": "USD"})
    win_deal(create_deal({"title": "C", "amount": Decimal("700"), "source": "web"}))
    lose_deal(create_deal({"title": "D", "amount": Decimal("90"), "source": "web"}), LostReason.PRICE)
    return pipeline


def test_the_page_shows_the_weighted_pipeline_win_rate_and_lost_reasons(owner_client, deals):
    response = owner_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Weighted pipeline (EUR)" in html and "Weighted pipeline (USD)" in html
    assert "50%" in html  # 1 won, 1 lost
    assert "Price too high" in html
    chart = json.loads(html.split('id="chart-weighted" type="application/json">')[1].split("</script>")[0])
    assert chart["currency"] == "USD" and chart["labels"] == ["No close date"]
    assert chart["datasets"][0]["data"] == [40.0]


def test_the_chart_shows_one_currency_at_a_time(owner_client, deals):
    chart = owner_client.get(URL, {"currency": "eur"}).context["chart"]
    assert chart["currency"] == "EUR" and chart["datasets"][0]["data"] == [500.0]
    assert owner_client.get(URL, {"currency": "XXX"}).context["currency"] == "USD"


def test_unknown_period_values_fall_back_to_twelve_months(owner_client, deals):
    assert owner_client.get(URL, {"months": "999"}).context["months"] == 12
    assert owner_client.get(URL, {"months": "six"}).context["months"] == 12
    assert owner_client.get(URL, {"months": "3"}).context["months"] == 3


def test_the_conversion_table_has_the_average_days(owner_client, deals):
    rows = owner_client.get(URL).context["result"]["conversion"]
    assert rows[0]["stage"].name == "New lead" and rows[0]["reached"] == 4
    assert rows[0]["average_days"] is not None


@pytest.mark.parametrize("rows", [2, 20])
def test_the_query_count_does_not_grow_with_deals(owner_client, deals, django_assert_max_num_queries, rows):
    for i in range(rows):
        create_deal({"title": f"X{i}", "amount": Decimal(i)})
    with django_assert_max_num_queries(17):
        assert owner_client.get(URL).status_code == 200


@pytest.mark.parametrize("persona", ["owner", "assistant", "viewer"])
def test_every_role_may_see_the_forecast(client, request, deals, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 200


def test_a_stranger_gets_nothing(client, owner, deals):
    assert client.get(URL).status_code == 302
