"""Today's revenue figures are never stale: every writer of orders bumps the orders' change
stamp, which is part of every cache key of the figures (solocrm.sales.orders.stamps)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from solocrm.contacts.models import Contact
from solocrm.sales.choices import REVENUE_STATUSES
from solocrm.sales.deals.services import create_deal, win_deal
from solocrm.sales.models import Order
from solocrm.sales.orders.services import create_order, delete_order, update_order
from solocrm.sales.orders.stamps import orders_version
from solocrm.web import dashboard
from solocrm.web.demo import load_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def usd(settings):
    settings.SOLOCRM_CURRENCY = "USD"
    cache.clear()


def _earlier_this_month():
    """A moment of this month before today (or today's first minute on the 1st)."""
    today = timezone.localdate()
    start = dashboard.month_start(today)
    return start if today.day == 1 else start + timedelta(hours=1)


def _last_month():
    return dashboard.month_start(timezone.localdate(), 1) + timedelta(days=2)


def test_every_writer_bumps_the_orders_stamp(db):
    before = orders_version()
    order = create_order({"total": Decimal("5.00"), "currency": "USD", "ordered_at": timezone.now()})
    assert orders_version() == before + 1
    update_order(order, {"total": Decimal("6.00")})
    assert orders_version() == before + 2
    update_order(order, {"total": Decimal("6.00")})  # nothing changed: the figures stay valid
    assert orders_version() == before + 2
    delete_order(order)
    assert orders_version() == before + 3


def test_an_order_created_through_the_api_shows_at_once(owner_client):
    assert dashboard.kpis().revenue_last_month == Decimal("0.00")  # cached: nothing yet
    response = owner_client.post(
        "/api/v1/orders",
        {"total": "80.00", "currency": "USD", "ordered_at": _last_month().isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert dashboard.kpis().revenue_last_month == Decimal("80.00")
    uuid = response.json()["uuid"]
    patched = owner_client.patch(
        f"/api/v1/orders/{uuid}", {"total": "95.00"}, content_type="application/json"
    )
    assert patched.status_code == 200, patched.content
    assert dashboard.kpis().revenue_last_month == Decimal("95.00")


def test_a_won_deal_counts_in_this_months_revenue_at_once():
    dashboard.kpis()
    deal = create_deal({"title": "Website", "amount": Decimal("1200.00"), "currency": "USD"})
    win_deal(deal, when=_earlier_this_month())
    assert dashboard.kpis().revenue_this_month == Decimal("1200.00")


def test_after_loading_the_demo_the_first_view_of_today_is_right(owner_client):
    owner_client.get("/")  # Today seen once on the empty database: zeros cached
    load_demo(contacts=60, seed=7)
    now = timezone.now()
    today = timezone.localdate(now)
    this, last = dashboard.month_start(today), dashboard.month_start(today, 1)
    expected_this = dashboard.revenue_between(this, now, "USD")
    expected_last = dashboard.revenue_between(last, this, "USD")
    assert Order.objects.filter(status__in=REVENUE_STATUSES, currency="USD", ordered_at__gte=last).exists()
    kpis = owner_client.get("/").context["kpis"]
    assert (kpis.revenue_this_month, kpis.revenue_last_month) == (expected_this, expected_last)
    assert expected_this + expected_last > 0


def test_an_order_written_around_the_functions_is_not_seen_until_a_refresh():
    # The documented limit: only the writers that call orders_changed() refresh the figures.
    dashboard.kpis()
    Order.objects.create(total=Decimal("80.00"), currency="USD", ordered_at=_last_month())
    assert dashboard.kpis().revenue_last_month == Decimal("0.00")
    Contact.objects.create(first_name="Noise")
    assert dashboard.kpis(refresh=True).revenue_last_month == Decimal("80.00")
