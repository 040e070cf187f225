"""Per-customer summaries against published data and the reference implementation.

Sources:
- Fader, Hardie & Lee (2005), "Counting Your Customers" the Easy Way, Marketing Science 24(2):
  the CDNOW 1/10 sample, 2,357 customers, 39-week calibration period 1997-01-01..1997-09-30,
  time in weeks of 7 days (customer 1: x = 2, t_x = 30.43, T = 38.86). The published per-customer
  data ship with lifetimes as ``cdnow_customers_summary_with_transactions.csv`` (rounded to 2
  decimals, hence the 0.005 tolerance).
- lifetimes 0.11.3, ``summary_data_from_transaction_data`` and ``calibration_and_holdout_data``
  (reference implementation; ``freq="D", freq_multiplier=7`` gives our weeks).
"""

from __future__ import annotations

import importlib.resources

import numpy as np
import pandas as pd
import pytest
from lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data

from solocrm.analytics.summary import HOLDOUT_COLUMNS, SUMMARY_COLUMNS, summarize, summary_from_aggregates

DATASETS = importlib.resources.files("lifetimes") / "datasets"
CALIBRATION_END = "1997-09-30"
OBSERVATION_END = "1998-06-30"
LIFETIMES_COLUMNS = ["frequency", "recency", "T", "monetary_value"]


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """CDNOW_sample.txt: master id, customer id, date (yyyymmdd), CDs bought, dollar value."""
    with (DATASETS / "CDNOW_sample.txt").open("rb") as f:
        frame = pd.read_csv(
            f,
            sep=r"\s+",
            header=None,
            names=["master", "customer", "date", "cds", "amount"],
            dtype={"date": str},
        )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


@pytest.fixture(scope="module")
def random_transactions() -> pd.DataFrame:
    """5,000 transactions of 700 customers with string ids, times of day and same-day repeats."""
    rng = np.random.default_rng(20240601)
    n = 5_000
    customers = np.array([f"c{i:04d}" for i in rng.integers(0, 700, n)])
    start = np.datetime64("2023-01-01T00:00")
    minutes = rng.integers(0, 60 * 24 * 400, n)
    # A quarter of the rows copy an earlier row's customer and day: several orders on one day.
    copies = rng.random(n) < 0.25
    source = rng.integers(0, n, n)
    customers[copies] = customers[source[copies]]
    minutes[copies] = minutes[source[copies]] // 1440 * 1440 + rng.integers(0, 1440, copies.sum())
    return pd.DataFrame(
        {
            "customer": customers,
            "date": start + minutes.astype("timedelta64[m]"),
            "amount": np.round(rng.gamma(2.0, 20.0, n), 2),
        }
    )


def lifetimes_summary(tx: pd.DataFrame, end: str, multiplier: int) -> pd.DataFrame:
    return summary_data_from_transaction_data(
        tx, "customer", "date", "amount", observation_period_end=end, freq="D", freq_multiplier=multiplier
    ).sort_index()


def test_it_reproduces_the_published_cdnow_calibration_data(cdnow):
    """Fader, Hardie & Lee (2005): customer 1 has x = 2, t_x = 30.43, T = 38.86 weeks; 946 of the
    2,357 customers made a repeat purchase; every row matches the published data to 0.005."""
    summary = summarize(
        cdnow["customer"], cdnow["date"], cdnow["amount"], observation_end=CALIBRATION_END, time_unit="W"
    )
    published = pd.read_csv(DATASETS / "cdnow_customers_summary_with_transactions.csv", index_col="ID")
    assert len(summary) == 2357
    assert (summary["frequency"] > 0).sum() == 946
    first = summary.loc[1]
    assert first["frequency"] == 2
    assert first["recency"] == pytest.approx(30.43, abs=0.005)
    assert first["T"] == pytest.approx(38.86, abs=0.005)
    np.testing.assert_array_equal(summary["frequency"], published["x"])
    np.testing.assert_allclose(summary["recency"], published["t_x"], atol=0.005)
    np.testing.assert_allclose(summary["T"], published["T"], atol=0.005)
    np.testing.assert_allclose(summary["monetary_value"], published["zbar"], atol=0.005)


@pytest.mark.parametrize(("time_unit", "multiplier"), [("D", 1), ("W", 7)])
def test_it_equals_lifetimes_on_cdnow(cdnow, time_unit, multiplier):
    """lifetimes' summary_data_from_transaction_data, to rounding error (1e-9)."""
    ours = summarize(
        cdnow["customer"],
        cdnow["date"],
        cdnow["amount"],
        observation_end=CALIBRATION_END,
        time_unit=time_unit,
    )
    theirs = lifetimes_summary(cdnow, CALIBRATION_END, multiplier)
    np.testing.assert_array_equal(ours.index, theirs.index)
    np.testing.assert_allclose(ours[LIFETIMES_COLUMNS].astype(float), theirs[LIFETIMES_COLUMNS], atol=1e-9)


@pytest.mark.parametrize("time_unit", ["D", "W"])
def test_it_equals_lifetimes_on_random_transactions(random_transactions, time_unit):
    """Fixed seed; string ids, timestamps with times of day, several orders a day, and an
    observation end that cuts off the last weeks. Tolerance 1e-9."""
    end = "2023-12-20"
    tx = random_transactions
    ours = summarize(tx["customer"], tx["date"], tx["amount"], observation_end=end, time_unit=time_unit)
    theirs = lifetimes_summary(tx, end, 7 if time_unit == "W" else 1)
    np.testing.assert_array_equal(ours.index, theirs.index)
    np.testing.assert_allclose(ours[LIFETIMES_COLUMNS].astype(float), theirs[LIFETIMES_COLUMNS], atol=1e-9)
    kept = tx[tx["date"] < pd.Timestamp(end) + pd.Timedelta(days=1)]
    np.testing.assert_array_equal(ours["orders"], kept.groupby("customer").size())
    np.testing.assert_allclose(ours["total_spend"], kept.groupby("customer")["amount"].sum(), atol=1e-9)


@pytest.mark.parametrize("dataset", ["cdnow", "random_transactions"])
def test_calibration_and_holdout_equal_lifetimes(request, dataset):
    """lifetimes' calibration_and_holdout_data (weeks: freq="D", freq_multiplier=7), tolerance 1e-9.

    lifetimes averages raw transactions for monetary_value_holdout but purchase days for the
    calibration period; we average purchase days in both (a deliberate difference), so the
    reference gets transactions already merged by day, where both definitions agree."""
    tx = request.getfixturevalue(dataset)
    calibration_end, end = (
        (CALIBRATION_END, OBSERVATION_END) if dataset == "cdnow" else ("2023-09-30", "2024-01-31")
    )
    ours = summarize(
        tx["customer"],
        tx["date"],
        tx["amount"],
        observation_end=end,
        calibration_end=calibration_end,
        time_unit="W",
    )
    by_day = (
        tx.assign(date=tx["date"].dt.normalize())
        .groupby(["customer", "date"], as_index=False)["amount"]
        .sum()
    )
    theirs = calibration_and_holdout_data(
        by_day,
        "customer",
        "date",
        calibration_end,
        end,
        freq="D",
        freq_multiplier=7,
        monetary_value_col="amount",
    ).sort_index()
    np.testing.assert_array_equal(ours.index, theirs.index)
    for column in LIFETIMES_COLUMNS:
        np.testing.assert_allclose(
            ours[column].astype(float), theirs[f"{column}_cal"], atol=1e-9, err_msg=column
        )
    for column in HOLDOUT_COLUMNS:
        np.testing.assert_allclose(ours[column].astype(float), theirs[column], atol=1e-9, err_msg=column)


def test_holdout_value_is_the_mean_per_purchase_day():
    """Two orders on one holdout day (10 + 30) and one on another (20): two purchase days with
    mean (40 + 20) / 2 = 30 (lifetimes would give (10 + 30 + 20) / 3 = 20)."""
    summary = summarize(
        ["a"] * 4,
        ["2024-01-01", "2024-02-01", "2024-02-01", "2024-02-10"],
        [5.0, 10.0, 30.0, 20.0],
        observation_end="2024-03-01",
        calibration_end="2024-01-31",
    )
    assert summary.loc["a", "frequency_holdout"] == 2
    assert summary.loc["a", "monetary_value_holdout"] == 30.0
    assert summary.loc["a", "duration_holdout"] == 30.0


def test_it_counts_orders_and_spend_of_every_transaction():
    """Same-day purchases are one period for frequency/value, but orders and total_spend count all."""
    summary = summarize(
        [7, 7, 7, 7, 8],
        ["2024-01-01", "2024-01-01", "2024-01-05", "2024-01-05", "2024-01-03"],
        [10.0, 5.0, 20.0, 4.0, 9.0],
        observation_end="2024-01-11",
    )
    row = summary.loc[7]
    assert (row["frequency"], row["recency"], row["T"], row["orders"]) == (1, 4.0, 10.0, 4)
    assert row["monetary_value"] == 24.0
    assert row["total_spend"] == 39.0
    assert row["first_purchase"] == pd.Timestamp("2024-01-01")
    assert row["last_purchase"] == pd.Timestamp("2024-01-05")
    assert summary.loc[8, "monetary_value"] == 0.0


def test_summary_from_aggregates_equals_summarize(random_transactions):
    """The aggregates a SQL GROUP BY computes give the same summary as the transactions."""
    end = "2023-12-20"
    tx = random_transactions[random_transactions["date"] < "2023-12-21"].assign(
        day=lambda f: f["date"].dt.normalize()
    )
    first_day = tx.groupby("customer")["day"].transform("min")
    aggregates = tx.groupby("customer").agg(
        first_day=("day", "min"),
        last_day=("day", "max"),
        active_days=("day", "nunique"),
        orders=("day", "size"),
        total_spend=("amount", "sum"),
    )
    aggregates["first_day_spend"] = tx[tx["day"] == first_day].groupby("customer")["amount"].sum()
    for unit in ("D", "W"):
        expected = summarize(tx["customer"], tx["date"], tx["amount"], observation_end=end, time_unit=unit)
        got = summary_from_aggregates(aggregates, observation_end=end, time_unit=unit)
        pd.testing.assert_frame_equal(got, expected, check_exact=False, atol=1e-9)


def test_summary_from_aggregates_works_without_spend_columns():
    aggregates = pd.DataFrame(
        {"first_day": ["2024-01-01"], "last_day": ["2024-01-08"], "active_days": [3], "orders": [4]},
        index=pd.Index(["a"], name="customer"),
    )
    summary = summary_from_aggregates(aggregates, observation_end="2024-01-15", time_unit="W")
    assert list(summary.columns) == ["frequency", "recency", "T", "first_purchase", "last_purchase", "orders"]
    assert summary.loc["a", "T"] == 2.0


def test_summary_from_aggregates_rejects_orders_after_the_observation_end():
    aggregates = pd.DataFrame(
        {
            "first_day": ["2024-01-01"],
            "last_day": ["2024-02-01"],
            "active_days": [2],
            "orders": [2],
            "total_spend": [10.0],
            "first_day_spend": [4.0],
        }
    )
    with pytest.raises(ValueError, match="after observation_end"):
        summary_from_aggregates(aggregates, observation_end="2024-01-15")
    with pytest.raises(ValueError, match="needs the columns first_day_spend"):
        summary_from_aggregates(aggregates.drop(columns="first_day_spend"), observation_end="2024-03-01")


def test_it_ignores_transactions_after_the_observation_end():
    summary = summarize(
        ["a", "a", "b"], ["2024-01-01", "2024-03-01", "2024-03-01"], observation_end="2024-01-31"
    )
    assert list(summary.index) == ["a"]
    assert summary.loc["a", "frequency"] == 0
    assert "monetary_value" not in summary.columns  # no amounts given


def test_an_empty_log_gives_an_empty_summary():
    summary = summarize([], np.array([], dtype="datetime64[D]"), [], observation_end="2024-01-01")
    assert summary.empty
    assert list(summary.columns) == list(SUMMARY_COLUMNS)


def test_time_zone_aware_timestamps_count_in_their_own_calendar_day():
    """23:30 in Shanghai is still the 1st there (but the 1st 15:30 in UTC, also the 1st)."""
    dates = pd.to_datetime(["2024-01-01 23:30", "2024-01-02 00:30"]).tz_localize("Asia/Shanghai")
    summary = summarize(["a", "a"], dates, observation_end="2024-01-03")
    assert summary.loc["a", "frequency"] == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"customer_ids": ["a", "b"], "dates": ["2024-01-01"]}, "same length"),
        ({"customer_ids": ["a", None], "dates": ["2024-01-01"] * 2}, "missing customer id at position 1"),
        ({"customer_ids": ["a"], "dates": [None]}, "missing date at position 0"),
        ({"customer_ids": ["a"], "dates": ["2024-01-01"], "amounts": [np.nan]}, "missing or infinite amount"),
        ({"customer_ids": ["a"], "dates": ["2024-01-01"], "time_unit": "M"}, "time_unit must be"),
        (
            {"customer_ids": ["a"], "dates": ["2024-01-01"], "calibration_end": "2024-02-01"},
            "before observation_end",
        ),
    ],
)
def test_it_rejects_bad_input_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        summarize(**{"amounts": None, "observation_end": "2024-02-01", **kwargs})
