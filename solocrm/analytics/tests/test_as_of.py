"""Scores as of a day (`solocrm analytics refresh --as-of`, the page's date field, the API) and
the warning when the latest order is too old for the day the scores are computed as of."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from solocrm.analytics import asof, jobs, services
from solocrm.analytics.choices import ModelKind
from solocrm.analytics.models import CustomerScore, FittedModel
from solocrm.analytics.writer import SCORE_COLUMNS
from solocrm.contacts.models import Contact, Interaction
from solocrm.jobs.models import Job
from solocrm.sales.choices import OrderStatus
from solocrm.sales.models import Order, OrderLine, Product
from solocrm.web.demo import load_demo

pytestmark = pytest.mark.django_db

DAY = date(2025, 6, 30)


def run(*args: str) -> str:
    out = StringIO()
    call_command("analytics", *args, stdout=out)
    return out.getvalue()


def _scores() -> dict[int, tuple]:
    return {row[0]: row[1:] for row in CustomerScore.objects.values_list("contact_id", *SCORE_COLUMNS)}


def _models() -> dict[str, tuple]:
    return {m.kind: (m.params, m.metrics, m.n_samples) for m in FittedModel.objects.all()}


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _add_later_activity(after: date) -> None:
    """Orders, lines, a new customer, consents and timeline entries after ``after``."""
    product = Product.objects.create(name="Later product", price=Decimal("30.00"))
    buyers = list(Contact.objects.filter(orders__isnull=False).distinct().order_by("id")[:40])
    for k, contact in enumerate(buyers):
        order = Order.objects.create(
            contact=contact, total=Decimal("45.00"), ordered_at=_at(after + timedelta(days=1 + k % 30))
        )
        OrderLine.objects.create(
            order=order, product=product, name=product.name, quantity=1, unit_price=order.total
        )
        Interaction.objects.create(
            contact=contact, kind="call", subject="later", occurred_at=_at(after + timedelta(days=1), 9)
        )
    newcomer = Contact.objects.create(first_name="Later", email="later@example.com")
    Order.objects.create(contact=newcomer, total=Decimal("80.00"), ordered_at=_at(after + timedelta(days=3)))
    Contact.objects.filter(email_consent_at__isnull=True).update(
        email_consent_at=_at(after + timedelta(days=2))
    )


def test_as_of_reproduces_the_scores_a_refresh_made_on_that_day():
    load_demo(contacts=160, seed=5, end=DAY)
    services.refresh(today=DAY)
    before, models_before = _scores(), _models()
    assert len(before) > 100
    _add_later_activity(DAY)
    services.refresh()  # scores as of today see the later orders…
    assert _scores() != before
    result = json.loads(run("refresh", "--as-of", DAY.isoformat(), "--json"))
    assert result["as_of"] == result["data_end"] == DAY.isoformat()
    assert _scores() == before  # …and as of the day, they are what they were that day
    after = _models()
    assert {kind for kind in after} == {kind for kind in models_before}
    for kind, (params, metrics, n) in models_before.items():
        assert after[kind] == (params, metrics, n), kind
    assert set(FittedModel.objects.filter(kind=ModelKind.RFM).values_list("data_end", flat=True)) == {
        DAY,
        timezone.localdate(),
    }


def test_the_cli_says_the_data_are_old_and_suggests_the_last_order_day():
    load_demo(contacts=60, seed=4, end=DAY)
    latest = asof.latest_order_day(timezone.localdate())
    text = run("refresh")
    assert "Warning: The latest order is from " + latest.isoformat() in text
    assert f"solocrm analytics refresh --as-of {latest.isoformat()}" in text
    result = json.loads(run("refresh", "--json"))
    assert result["stale"]["latest_order"] == latest.isoformat()
    assert result["stale"]["threshold"] == 180 and result["stale"]["days"] > 180
    assert "--as-of" in result["warning"]
    assert "--as-of" in run("status")
    # as of the suggested day, nothing to warn about
    text = run("refresh", "--as-of", latest.isoformat())
    assert "Warning" not in text and f"Scores as of {latest.isoformat()}." in text


def test_recent_data_give_no_warning_and_the_threshold_is_a_setting(settings):
    load_demo(contacts=40, seed=4, end=DAY)
    latest = asof.latest_order_day(DAY)
    assert asof.stale_data(latest + timedelta(days=180)) is None
    assert asof.stale_data(latest + timedelta(days=181))["days"] == 181
    settings.SOLOCRM_ANALYTICS_STALE_DAYS = 400
    assert asof.stale_data(latest + timedelta(days=300)) is None
    assert asof.stale_data(latest + timedelta(days=401))["threshold"] == 400


def test_no_orders_no_warning():
    assert asof.latest_order_day(DAY) is None
    assert asof.stale_data(DAY) is None and asof.stale_message(None) == ""


def test_orders_after_the_as_of_day_are_not_the_latest_order():
    contact = Contact.objects.create(first_name="Ada", email="ada@example.com")
    Order.objects.create(contact=contact, total=Decimal("10.00"), ordered_at=_at(DAY))
    Order.objects.create(contact=contact, total=Decimal("10.00"), ordered_at=_at(DAY + timedelta(days=5)))
    Order.objects.create(
        contact=contact,
        total=Decimal("10.00"),
        ordered_at=_at(DAY - timedelta(1)),
        status=OrderStatus.CANCELLED,
    )
    assert asof.latest_order_day(DAY + timedelta(days=4)) == DAY
    assert asof.latest_order_day(DAY + timedelta(days=5)) == DAY + timedelta(days=5)
    assert asof.latest_order_day(DAY - timedelta(days=1)) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2025-13-01", "not a date"),
        ("2025-02-30", "not a date"),
        ("yesterday", "not a date"),
        ("2999-01-01", "future"),
    ],
)
def test_the_cli_rejects_a_bad_as_of_day(text, message):
    with pytest.raises(CommandError, match=message):
        run("refresh", "--as-of", text)


def test_the_job_records_the_as_of_day():
    load_demo(contacts=30, seed=4, end=DAY)
    jobs.run_here(as_of=DAY)
    state = jobs.refresh_status()
    assert state["state"] == "done" and state["as_of"] == DAY.isoformat()
    assert state["stale"] is None and state["warning"] == ""


# --- the page -------------------------------------------------------------------------------------


def test_the_page_warns_about_old_data_and_offers_the_as_of_refresh(owner_client):
    load_demo(contacts=40, seed=4, end=DAY)
    latest = asof.latest_order_day(timezone.localdate())
    owner_client.post(reverse("analytics:refresh"))
    page = owner_client.get(reverse("analytics:overview")).content.decode()
    assert "The latest order is from " + latest.isoformat() in page
    assert f'name="as_of" value="{latest.isoformat()}"' in page
    assert 'type="date"' in page and "Scores as of" not in page
    models_page = owner_client.get(reverse("analytics:models")).content.decode()
    assert "The latest order is from " + latest.isoformat() in models_page
    owner_client.post(reverse("analytics:refresh"), {"as_of": latest.isoformat()})
    page = owner_client.get(reverse("analytics:overview")).content.decode()
    assert "The latest order is from" not in page
    assert "Scores as of" in page
    assert jobs.refresh_status()["as_of"] == latest.isoformat()


def test_the_page_rejects_a_bad_as_of_day(owner_client):
    response = owner_client.post(reverse("analytics:refresh"), {"as_of": "2999-01-01"}, follow=True)
    assert response.status_code == 200
    assert "is in the future" in response.content.decode()
    assert jobs.refresh_status()["state"] == "idle"


# --- the API ---------------------------------------------------------------------------------------


def test_the_api_refresh_warns_about_old_data(owner_client):
    load_demo(contacts=40, seed=4, end=DAY)
    latest = asof.latest_order_day(timezone.localdate())
    response = owner_client.post("/api/v1/analytics/refresh", {}, content_type="application/json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["state"] == "done" and body["stale"]["latest_order"] == latest.isoformat()
    assert f"--as-of {latest.isoformat()}" in body["warning"]
    response = owner_client.post(
        "/api/v1/analytics/refresh", {"as_of": latest.isoformat()}, content_type="application/json"
    )
    body = response.json()
    assert response.status_code == 202 and body["as_of"] == latest.isoformat()
    assert body["stale"] is None and body["warning"] == ""
    assert owner_client.get("/api/v1/analytics/refresh").json()["as_of"] == latest.isoformat()


def test_the_api_refresh_rejects_a_bad_as_of_day(owner_client):
    url = "/api/v1/analytics/refresh"
    response = owner_client.post(url, {"as_of": "2999-01-01"}, content_type="application/json")
    assert response.status_code == 422 and "future" in response.json()["detail"]
    response = owner_client.post(url, {"as_of": "someday"}, content_type="application/json")
    assert response.status_code == 422
    assert jobs.refresh_status()["state"] == "idle"


def test_the_viewer_cannot_start_a_refresh_but_reads_its_state(viewer_client):
    url = "/api/v1/analytics/refresh"
    assert viewer_client.post(url, {}, content_type="application/json").status_code == 403
    assert viewer_client.get(url).json()["state"] == "idle"


def test_the_daily_refresh_keeps_scores_as_of_a_day_until_a_newer_order_arrives(settings):
    from solocrm.analytics import tasks

    settings.SOLOCRM_ANALYTICS_HOUR = "0"
    load_demo(contacts=30, seed=4, end=DAY)
    latest = asof.latest_order_day(timezone.localdate())
    jobs.run_here(as_of=latest)
    two_days_ago = timezone.now() - timedelta(days=2)  # so that the daily refresh is due
    FittedModel.objects.update(created_at=two_days_ago)
    Job.objects.update(finished_at=two_days_ago)
    assert tasks.keeps_as_of() and tasks.run_if_due() is False
    contact = Contact.objects.filter(orders__isnull=False).first()
    Order.objects.create(contact=contact, total=Decimal("20.00"), ordered_at=_at(latest + timedelta(days=1)))
    assert not tasks.keeps_as_of()
    assert tasks.run_if_due() is True
    assert jobs.refresh_status()["as_of"] is None


def test_the_latest_order_is_one_the_models_count(settings):
    contact = Contact.objects.create(first_name="Ada", email="ada@example.com")
    Order.objects.create(contact=contact, total=Decimal("10.00"), ordered_at=_at(DAY), currency="USD")
    Order.objects.create(
        contact=contact, total=Decimal("10.00"), ordered_at=_at(DAY + timedelta(2)), currency="JPY"
    )
    settings.SOLOCRM_CURRENCY = "USD"
    assert asof.latest_order_day(DAY + timedelta(days=9)) == DAY
