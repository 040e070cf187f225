"""The refresh reads the order lines and the contacts' attributes on a second connection, in a
thread, while its own connection builds the daily table and fits the first models. Outside a
transaction only: inside one (every other refresh test) a second connection would not see the
rows, so the refresh then reads them itself."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from solocrm.analytics import queries, services
from solocrm.analytics.models import CustomerScore
from solocrm.web.demo import load_demo

END = date(2025, 6, 30)
COMPARED = (
    "contact_id",
    "orders",
    "clv",
    "p_alive",
    "churn_risk",
    "lead_score",
    "next_product_name",
    "persona",
)


def _scores() -> list[tuple]:
    return list(CustomerScore.objects.order_by("contact_id").values_list(*COMPARED))


@pytest.mark.django_db(transaction=True)
def test_the_background_queries_give_the_scores_of_a_refresh_without_them(monkeypatch):
    load_demo(contacts=300, seed=3, end=END)
    ran_on: dict[str, str] = {}
    on_own_connection = queries._on_own_connection

    def recording(query, args):
        ran_on[query.__name__] = threading.current_thread().name
        return on_own_connection(query, args)

    # a first refresh moves the contacts' lifecycle stages, which the lead scorer reads
    services.refresh(today=END)
    monkeypatch.setattr(queries, "_on_own_connection", recording)
    services.refresh(today=END)
    with_background = _scores()
    assert set(ran_on) == {"product_pairs", "contact_attributes", "basket_sample"}
    assert all(name.startswith("analytics-query") for name in ran_on.values())

    monkeypatch.setattr(queries, "prefetch", lambda *args: None)
    services.refresh(today=END)
    assert _scores() == with_background
    assert any(row[COMPARED.index("next_product_name")] for row in with_background)


@pytest.mark.django_db
def test_inside_a_transaction_the_refresh_reads_everything_itself(monkeypatch):
    load_demo(contacts=60, seed=3, end=END)
    monkeypatch.setattr(queries, "_on_own_connection", lambda *a: pytest.fail("second connection used"))
    services.refresh(today=END)
    assert CustomerScore.objects.exists()
