"""The analytics module's Today items: re-orders by the customer's own rhythm, value at risk."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from solocrm.analytics.models import CustomerScore
from solocrm.analytics.today import reorders_due, valuable_customers_at_risk
from solocrm.contacts.models import Contact
from solocrm.lib.today import TodayContext

pytestmark = pytest.mark.django_db


def _score(name: str, **values) -> CustomerScore:
    contact = Contact.objects.create(first_name=name, email=f"{name.lower()}@example.com")
    defaults = {"computed_at": timezone.now(), "p_alive": 0.9, "clv": Decimal("500"), "orders": 5}
    return CustomerScore.objects.create(contact=contact, **{**defaults, **values})


def test_a_repeat_buyer_past_their_usual_gap_is_due_for_a_reorder():
    # Four repeat purchases over 120 days: a purchase every 30 days; the last was 33 days ago.
    _score("Due", frequency=4, recency_days=120, days_since_last=33, next_product_name="Teapot")
    _score("Early", frequency=4, recency_days=120, days_since_last=20)
    _score("Long gone", frequency=4, recency_days=120, days_since_last=80)
    _score("Once", frequency=0, recency_days=0, days_since_last=40)
    _score("Probably left", frequency=4, recency_days=120, days_since_last=33, p_alive=0.1)
    items = list(reorders_due(TodayContext(now=timezone.now())))
    assert [item.title for item in items] == ["Due"]
    assert items[0].reason == "Usually buys every 30 days; last order 33 days ago · suggest Teapot"


def test_days_since_the_refresh_count_towards_the_gap():
    _score(
        "Soon",
        frequency=4,
        recency_days=120,
        days_since_last=27,
        computed_at=timezone.now() - timedelta(days=4),
    )
    assert [item.title for item in reorders_due(TodayContext(now=timezone.now()))] == ["Soon"]


def test_customers_at_risk_come_by_value_at_risk_and_need_a_real_risk():
    _score("Big", churn_risk=0.8, value_at_risk=Decimal("4000"))
    _score("Small", churn_risk=0.7, value_at_risk=Decimal("300"))
    _score("Safe", churn_risk=0.2, value_at_risk=Decimal("9000"))
    items = list(valuable_customers_at_risk(TodayContext(now=timezone.now())))
    assert [item.title for item in items] == ["Big", "Small"]
    assert items[0].score > items[1].score
    assert "Churn risk 80%" in items[0].reason and "4,000" in items[0].reason
