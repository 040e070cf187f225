"""Marketing metrics (``solocrm.analytics.marketing``).

Definitions from Farris, Bendle, Pfeifer & Reibstein (2010), *Marketing Metrics* (2nd ed.):
response rate = responses / contacts, conversion rate = conversions / prospects, average order
value = revenue / orders. The examples are small enough to check by hand; a rate with a zero
denominator must be None/NaN, never infinite.
"""

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import solocrm.analytics.marketing as marketing_module
from solocrm.analytics.marketing import (
    CHANNEL_COLUMNS,
    NO_CHANNEL,
    average_order_value,
    channel_metrics,
    conversion_rate,
    repeat_rate,
    response_rate,
)

CONTACTS = pd.DataFrame(
    {"customer": [1, 2, 3, 4, 5, 6], "channel": ["ads", "ads", "ads", "referral", "referral", None]}
)
# Customer 1: two orders on Jan 1 and one on Feb 1 (repeat); 3: one order; 4: two days (repeat);
# 99 is not a contact and is ignored.
ORDERS = pd.DataFrame(
    {
        "customer": [1, 1, 1, 3, 4, 4, 99],
        "date": [
            "2024-01-01",
            "2024-01-01",
            "2024-02-01",
            "2024-01-05",
            "2024-01-02",
            "2024-03-02",
            "2024-01-01",
        ],
        "amount": [10.0, 20.0, 30.0, 50.0, 40.0, 60.0, 999.0],
    }
)


def test_response_rate_of_a_mailing():
    """250 responses to 10,000 delivered letters is a 2.5% response rate."""
    assert response_rate(250, 10_000) == pytest.approx(0.025, abs=1e-15)


def test_conversion_rate_of_leads():
    assert conversion_rate(3, 40) == pytest.approx(0.075, abs=1e-15)


def test_rates_with_zero_denominator_are_none_or_nan_never_inf():
    assert response_rate(0, 0) is None
    assert conversion_rate(0, 0) is None
    rates = response_rate([1, 0, 3], [4, 0, 3])
    np.testing.assert_array_equal(np.isnan(rates), [False, True, False])
    np.testing.assert_allclose(rates[[0, 2]], [0.25, 1.0])
    assert not np.isinf(rates).any()


@pytest.mark.parametrize(
    ("num", "den", "message"),
    [
        (5, 4, "larger"),
        (-1, 4, "negative"),
        (np.nan, 4, "NaN"),
        ([1, 2], [3], "same shape"),
        ("a", 3, "numbers"),
    ],
)
def test_rates_reject_bad_counts_with_a_clear_message(num, den, message):
    with pytest.raises(ValueError, match=message):
        response_rate(num, den)


def test_average_order_value_is_revenue_over_orders():
    assert average_order_value([10.0, 20.0, 30.0, 50.0]) == pytest.approx(27.5)
    assert average_order_value([]) is None
    with pytest.raises(ValueError, match="NaN"):
        average_order_value([1.0, np.nan])


def test_repeat_rate_counts_customers_with_two_purchase_days():
    assert repeat_rate(ORDERS["customer"], ORDERS["date"]) == pytest.approx(2 / 4)
    assert repeat_rate([], []) is None


def test_channel_metrics_of_a_hand_checked_example():
    table = channel_metrics(CONTACTS, ORDERS)
    assert list(table.columns) == CHANNEL_COLUMNS
    assert list(table.index) == [NO_CHANNEL, "ads", "referral"]
    ads = table.loc["ads"]
    # ads: 3 contacts, customers 1 and 3 bought -> 2/3; revenue 10+20+30+50 = 110 over 4 orders;
    # customer 1 bought on two days, customer 3 on one -> repeat rate 1/2.
    assert (ads["contacts"], ads["customers"], ads["orders"]) == (3, 2, 4)
    assert ads["conversion_rate"] == pytest.approx(2 / 3)
    assert ads["revenue"] == pytest.approx(110.0)
    assert ads["aov"] == pytest.approx(27.5)
    assert ads["repeat_rate"] == pytest.approx(0.5)
    referral = table.loc["referral"]
    assert (referral["contacts"], referral["customers"], referral["orders"]) == (2, 1, 2)
    assert referral["conversion_rate"] == pytest.approx(0.5)
    assert referral["aov"] == pytest.approx(50.0)
    assert referral["repeat_rate"] == pytest.approx(1.0)


def test_channel_without_orders_has_nan_aov_and_repeat_rate_not_inf():
    unknown = channel_metrics(CONTACTS, ORDERS).loc[NO_CHANNEL]
    assert (unknown["contacts"], unknown["customers"], unknown["orders"]) == (1, 0, 0)
    assert unknown["conversion_rate"] == 0.0
    assert np.isnan(unknown["aov"]) and np.isnan(unknown["repeat_rate"])


def test_channel_metrics_of_no_contacts_is_an_empty_table():
    table = channel_metrics(CONTACTS.iloc[:0], ORDERS)
    assert table.empty and list(table.columns) == CHANNEL_COLUMNS


def test_channel_metrics_with_no_orders_has_zero_customers():
    table = channel_metrics(CONTACTS, ORDERS.iloc[:0])
    assert table["customers"].sum() == 0
    assert table["aov"].isna().all()


@pytest.mark.parametrize(
    ("contacts", "orders", "message"),
    [
        (CONTACTS.drop(columns="channel"), ORDERS, "missing column"),
        (CONTACTS, ORDERS.drop(columns="amount"), "missing column"),
        (pd.concat([CONTACTS, CONTACTS.iloc[:1]]), ORDERS, "unique"),
        (CONTACTS, ORDERS.assign(amount=[1.0, np.nan, 1, 1, 1, 1, 1]), "NaN"),
        (CONTACTS, ORDERS.assign(date=["2024-01-01"] * 6 + [None]), "date"),
        ([1, 2], ORDERS, "DataFrame"),
    ],
)
def test_channel_metrics_rejects_bad_input_with_a_clear_message(contacts, orders, message):
    with pytest.raises(ValueError, match=message):
        channel_metrics(contacts, orders)


def test_channel_metrics_handles_a_large_base():
    rng = np.random.default_rng(5)
    n_contacts, n_orders = 200_000, 600_000
    contacts = pd.DataFrame(
        {"customer": np.arange(n_contacts), "channel": rng.choice(["a", "b", "c"], n_contacts)}
    )
    orders = pd.DataFrame(
        {
            "customer": rng.integers(0, n_contacts, n_orders),
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n_orders), unit="D"),
            "amount": rng.gamma(2.0, 20.0, n_orders),
        }
    )
    table = channel_metrics(contacts, orders)
    assert table["contacts"].sum() == n_contacts
    assert table["orders"].sum() == n_orders
    assert table["revenue"].sum() == pytest.approx(orders["amount"].sum(), rel=1e-9)


def test_module_does_not_import_django():
    """The analytics core is a library usable from a notebook without Django: no django import and
    no relative import of a Django-aware module."""
    tree = ast.parse(Path(marketing_module.__file__).read_text(encoding="utf-8"))
    absolute = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    absolute |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0}
    relative = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level > 0}
    assert not [name for name in absolute if name.split(".")[0] in ("django", "solocrm")]
    assert relative <= {"cohorts"}
