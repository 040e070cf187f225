"""The database aggregates the refresh reads, checked against the same numbers computed in pandas
from the raw orders."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.db import connection

from solocrm.analytics import queries
from solocrm.contacts.models import Contact
from solocrm.sales.models import Order

pytestmark = pytest.mark.django_db

END = date(2026, 6, 30)


@pytest.fixture
def orders() -> pd.DataFrame:
    """Random orders of 30 customers over two years, some on the same day, plus orders that
    must not count: refunded, in another currency, after the last end day."""
    rng = np.random.default_rng(5)
    rows = []
    for i in range(30):
        contact = Contact.objects.create(first_name=f"Buyer {i}", email=f"b{i}@example.com")
        start = datetime(2024, 7, 1, 9, tzinfo=UTC) + timedelta(days=int(rng.integers(0, 600)))
        offsets = zip(rng.integers(0, 400, 6), rng.integers(0, 12, 6), strict=True)
        moments = sorted(start + timedelta(days=int(d), hours=int(h)) for d, h in offsets)
        for moment in moments[: int(rng.integers(1, 7))]:
            total = Decimal(str(round(float(rng.uniform(5, 200)), 2)))
            rows.append({"contact": contact.pk, "at": moment, "total": float(total)})
            Order.objects.create(
                contact=contact, status="paid", currency="USD", total=total, ordered_at=moment
            )
        Order.objects.create(contact=contact, status="refunded", currency="USD", total=999, ordered_at=start)
        Order.objects.create(contact=contact, status="paid", currency="EUR", total=999, ordered_at=start)
    return pd.DataFrame(rows)


def _expected(orders: pd.DataFrame, end: date) -> pd.DataFrame:
    seen = orders[orders["at"].dt.date <= end].assign(day=lambda f: f["at"].dt.date)
    daily = seen.groupby(["contact", "day"]).agg(amount=("total", "sum"), n=("total", "size")).reset_index()
    first = daily.groupby("contact")["day"].transform("min")
    since_90, since_365 = end - timedelta(days=90), end - timedelta(days=365)
    return daily.assign(first_spend=daily["amount"].where(daily["day"] == first, 0.0)).groupby("contact").agg(
        first_day=("day", "min"), last_day=("day", "max"), active_days=("day", "size"), orders=("n", "sum"),
        total_spend=("amount", "sum"), first_day_spend=("first_spend", "sum"),
        days_90=("day", lambda d: int((d > since_90).sum())),
        days_365=("day", lambda d: int((d > since_365).sum())),
    )  # fmt: skip


def test_aggregates_as_of_several_days_equal_pandas_on_the_raw_orders(orders):
    ends = [END, END - timedelta(days=90), END - timedelta(days=180)]
    every = queries.customer_aggregates_at(ends)
    assert set(every) == set(ends)
    for end in ends:
        got, want = every[end], _expected(orders, end)
        assert list(got.index) == list(want.index)
        for column in ("active_days", "orders", "days_90", "days_365"):
            assert got[column].tolist() == want[column].tolist(), (end, column)
        for column in ("total_spend", "first_day_spend"):
            np.testing.assert_allclose(got[column], want[column], rtol=1e-9)
        assert [d.date() for d in pd.to_datetime(got["last_day"])] == want["last_day"].tolist()
        assert [d.date() for d in pd.to_datetime(got["first_day"])] == want["first_day"].tolist()


def test_one_day_asked_alone_gives_the_same_as_with_others(orders):
    alone = queries.customer_aggregates(END - timedelta(days=90))
    together = queries.customer_aggregates_at([END, END - timedelta(days=90)])[END - timedelta(days=90)]
    pd.testing.assert_frame_equal(alone, together)


def test_reused_results_are_copies_that_callers_may_change(orders):
    with queries.reusing_results():
        queries.customer_aggregates_at([END])
        first = queries.customer_aggregates(END)
        first["orders"] = -1
        assert (queries.customer_aggregates(END)["orders"] > 0).all()


def _every_query(end: date) -> dict[str, object]:
    return {
        "aggregates": queries.customer_aggregates_at([end, end - timedelta(days=90)]),
        "cohorts": queries.cohort_counts(end).sort_values(["cohort", "month"]).reset_index(drop=True),
        "monthly": queries.monthly_revenue(end),
        "labels": queries.purchase_days_between(end - timedelta(days=90), end).sort_index(),
    }


def test_the_temporary_daily_table_gives_the_same_answers_as_the_orders(orders):
    contactless = Order.objects.create(status="paid", currency="USD", total=Decimal("12.50"),
                                       ordered_at=datetime(2026, 5, 3, 10, tzinfo=UTC))  # fmt: skip
    direct = _every_query(END)
    with queries.daily_purchases(END):
        through_table = _every_query(END)
        later = queries.monthly_revenue(END + timedelta(days=400))  # beyond the table: from the orders
    for end in direct["aggregates"]:
        pd.testing.assert_frame_equal(direct["aggregates"][end], through_table["aggregates"][end])
    pd.testing.assert_frame_equal(direct["cohorts"], through_table["cohorts"])
    pd.testing.assert_series_equal(direct["monthly"], through_table["monthly"])
    pd.testing.assert_series_equal(direct["labels"], through_table["labels"])
    assert later.sum() > direct["monthly"].sum()
    may = queries.month_of(date(2026, 5, 1))
    paid_in_may = Order.objects.filter(
        status="paid", currency="USD", ordered_at__year=2026, ordered_at__month=5
    )
    assert direct["monthly"][may] == pytest.approx(float(sum(o.total for o in paid_in_may)))
    assert contactless.total in {o.total for o in paid_in_may}


def test_the_daily_table_is_gone_after_the_block(orders):
    from django.db import connection

    with queries.daily_purchases(END):
        pass
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {queries.DAILY_TABLE} (x integer)")  # free again
        cursor.execute(f"DROP TABLE {queries.DAILY_TABLE}")


@pytest.fixture
def lines() -> pd.DataFrame:
    """Orders of 12 customers with lines of 4 products (one line without a product, named), an
    order with the same product twice, and a refunded order that must not count."""
    from solocrm.sales.models import OrderLine, Product

    rng = np.random.default_rng(8)
    products = [Product.objects.create(name=f"P{i}", sku=f"S{i}", price=10) for i in range(4)]
    rows = []
    for i in range(12):
        contact = Contact.objects.create(first_name=f"Buyer {i}", email=f"l{i}@example.com")
        for k in range(int(rng.integers(1, 5))):
            moment = datetime(2026, 1, 5, 12, tzinfo=UTC) + timedelta(days=int(rng.integers(0, 150)), hours=k)
            order = Order.objects.create(
                contact=contact, status="paid", currency="USD", total=20, ordered_at=moment
            )
            for product in rng.choice(4, size=int(rng.integers(1, 3)), replace=False):
                OrderLine.objects.create(order=order, product=products[product], name="x", total=10)
                rows.append(
                    {"contact": contact.pk, "order": order.pk, "item": f"P{product}", "day": moment.date()}
                )
            if i == 0 and k == 0:
                OrderLine.objects.create(order=order, product=products[0], name="again", total=10)
                OrderLine.objects.create(order=order, product=None, name="Gift wrap", total=1)
                rows += [
                    {"contact": contact.pk, "order": order.pk, "item": name, "day": moment.date()}
                    for name in ("P0", "Gift wrap")
                ]
        refunded = Order.objects.create(
            contact=contact, status="refunded", currency="USD", total=9, ordered_at=moment
        )
        OrderLine.objects.create(order=refunded, product=products[3], name="x", total=9)
    return pd.DataFrame(rows)


def test_product_pairs_are_the_customers_products_counted_by_order(lines):
    split = date(2026, 3, 1)
    pairs = queries.product_pairs(END, date(2025, 7, 1), split).set_index(["contact_id", "item"]).sort_index()
    grouped = lines.groupby(["contact", "item"])
    expected = pd.DataFrame(
        {
            "orders": grouped["order"].nunique(),
            "before": grouped["day"].min().lt(split).astype(int),
            "after": grouped["day"].max().ge(split).astype(int),
        }
    ).sort_index()
    assert pairs.index.tolist() == expected.index.tolist()
    assert (pairs[["orders", "before", "after"]].to_numpy("int64") == expected.to_numpy("int64")).all()
    assert expected["before"].any() and expected["after"].any()


def test_the_basket_sample_is_whole_orders_and_the_same_each_time(lines):
    since = date(2025, 7, 1)
    every = queries.basket_sample(END, since, 1.0)
    assert len(every) == len(lines[["order", "item"]].drop_duplicates())
    half = queries.basket_sample(END, since, 0.5)
    assert 0 < half["order_id"].nunique() < every["order_id"].nunique()
    by_order = every.groupby("order_id")["item"].apply(frozenset)
    assert (
        half.groupby("order_id")["item"].apply(frozenset) == by_order.loc[half["order_id"].unique()]
    ).all()
    again = queries.basket_sample(END, since, 0.5)
    assert sorted(map(tuple, again.to_numpy())) == sorted(map(tuple, half.to_numpy()))


def test_table_and_column_names_come_from_the_models():
    assert str(queries.O) == connection.ops.quote_name(Order._meta.db_table)
    assert queries.O.contact == connection.ops.quote_name("contact_id")
