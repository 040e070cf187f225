"""Acquisition cohorts, repeat purchase rate and time between orders
(``solocrm.analytics.cohorts``).

The hand-built example is small enough to check every cell on paper; the random example is
compared with a straightforward pandas ``groupby`` implementation of the definitions in Fader &
Hardie (2007), "How to project customer retention", J. Interactive Marketing 21(1).
"""

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import solocrm.analytics.cohorts as cohorts_module
from solocrm.analytics.cohorts import (
    cohort_tables,
    cohort_tables_from_counts,
    repeat_purchase_rate,
    time_between_orders,
)

# Ann and Bob start in January, Cy in February; the data end in March.
#   Ann: Jan 5 (10), Jan 5 (5, same day), Feb 10 (20), Mar 3 (7)
#   Bob: Jan 20 (8), Mar 30 (12)
#   Cy:  Feb 2 (100)
IDS = ["ann", "ann", "ann", "ann", "bob", "bob", "cy"]
DATES = ["2024-01-05", "2024-01-05", "2024-02-10", "2024-03-03", "2024-01-20", "2024-03-30", "2024-02-02"]
AMOUNTS = [10.0, 5.0, 20.0, 7.0, 8.0, 12.0, 100.0]


def test_hand_built_cohort_matrix():
    tables = cohort_tables(IDS, DATES, AMOUNTS)
    assert tables.sizes["customers"].to_dict() == {"2024-01": 2, "2024-02": 1}
    # January: both active in month 0, only Ann in month 1, both in month 2.
    # February: Cy in month 0, nobody in month 1, month 2 is after the end of the data.
    expected_retention = pd.DataFrame(
        [[1.0, 0.5, 1.0], [1.0, 0.0, np.nan]],
        index=pd.Index(["2024-01", "2024-02"], name="cohort"),
        columns=pd.Index([0, 1, 2], name="months_since_first"),
    )
    pd.testing.assert_frame_equal(tables.retention, expected_retention)
    np.testing.assert_array_equal(tables.active.to_numpy(), [[2, 1, 2], [1, 0, np.nan]])
    np.testing.assert_array_equal(tables.revenue.to_numpy(), [[23.0, 20.0, 19.0], [100.0, 0.0, np.nan]])


def test_average_retention_weights_cohorts_by_size_and_skips_unobserved_ones():
    """Month 1: (1 + 0) / (2 + 1) = 1/3. Month 2: only January was observed: 2 / 2 = 1."""
    curve = cohort_tables(IDS, DATES, AMOUNTS).average_retention()
    np.testing.assert_allclose(curve.to_numpy(), [1.0, 1 / 3, 1.0], rtol=1e-12)


def test_repeat_purchase_rate_counts_purchase_days_not_rows():
    """Ann (3 days) and Bob (2 days) repeat; Cy does not: 2/3. Ann's two Jan 5 rows are one day."""
    assert repeat_purchase_rate(IDS, DATES) == pytest.approx(2 / 3, abs=1e-12)
    assert repeat_purchase_rate(["x", "x"], ["2024-01-01", "2024-01-01"]) == 0.0


def test_time_between_orders_of_the_hand_built_example():
    """Ann: Jan 5 -> Feb 10 = 36 days, Feb 10 -> Mar 3 = 22 days; Bob: Jan 20 -> Mar 30 = 70 days."""
    result = time_between_orders(IDS, DATES)
    assert sorted(result.gaps.tolist()) == [22, 36, 70]
    assert result.median == 36.0
    assert result.mean == pytest.approx(128 / 3, abs=1e-12)
    assert result.histogram["gaps"].to_dict() == {
        "1-7": 0,
        "8-14": 0,
        "15-30": 1,
        "31-60": 1,
        "61-90": 1,
        "91-180": 0,
        "181-365": 0,
        "366+": 0,
    }
    assert result.histogram["share"].sum() == pytest.approx(1.0)


def test_time_between_orders_without_repeat_customers_is_empty():
    result = time_between_orders(["a", "b"], ["2024-01-01", "2024-02-01"])
    assert result.median is None and result.mean is None
    assert len(result.gaps) == 0
    assert result.histogram["gaps"].sum() == 0


def _reference_retention(frame: pd.DataFrame) -> pd.DataFrame:
    """Retention the slow, obvious way: groupby per customer and per (cohort, offset)."""
    frame = frame.assign(month=frame["date"].dt.to_period("M"))
    first = frame.groupby("customer")["month"].min().rename("cohort")
    frame = frame.join(first, on="customer")
    frame["offset"] = [(m - c).n for m, c in zip(frame["month"], frame["cohort"], strict=True)]
    active = frame.groupby(["cohort", "offset"])["customer"].nunique().unstack(fill_value=0)
    sizes = first.value_counts().sort_index()
    retention = active.div(sizes, axis=0)
    last = frame["month"].max()
    for cohort in retention.index:
        retention.loc[cohort, [j for j in retention.columns if (cohort + j) > last]] = np.nan
    retention.index = retention.index.astype(str)
    return retention


def test_it_matches_a_pandas_groupby_reference_on_random_data():
    rng = np.random.default_rng(42)
    n = 5_000
    frame = pd.DataFrame(
        {
            "customer": rng.integers(0, 800, n),
            "date": pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
            "amount": rng.gamma(2.0, 30.0, n).round(2),
        }
    )
    tables = cohort_tables(frame["customer"], frame["date"], frame["amount"])
    reference = _reference_retention(frame)
    np.testing.assert_allclose(
        tables.retention.to_numpy(),
        reference.reindex(columns=tables.retention.columns).to_numpy(),
        atol=1e-12,
    )
    assert tables.sizes["customers"].sum() == frame["customer"].nunique()
    assert np.nansum(tables.revenue.to_numpy()) == pytest.approx(frame["amount"].sum(), rel=1e-12)
    days = frame.drop_duplicates(["customer", "date"]).groupby("customer").size()
    assert repeat_purchase_rate(frame["customer"], frame["date"]) == pytest.approx(
        (days >= 2).mean(), abs=1e-12
    )
    gaps = frame.drop_duplicates(["customer", "date"]).sort_values("date").groupby("customer")["date"].diff()
    expected_median = gaps.dropna().dt.days.median()
    assert time_between_orders(frame["customer"], frame["date"]).median == expected_median


def test_tables_from_database_counts_equal_the_tables_from_purchases():
    """The long form the database aggregates (cohort, month, customers, revenue) gives the same
    tables; months may be ``year * 12 + month - 1`` integers as queries.py returns them."""
    rng = np.random.default_rng(8)
    n = 3_000
    frame = pd.DataFrame(
        {
            "customer": rng.integers(0, 500, n),
            "date": pd.Timestamp("2023-03-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D"),
            "amount": rng.gamma(2.0, 30.0, n),
        }
    )
    direct = cohort_tables(frame["customer"], frame["date"], frame["amount"])
    monthly = frame.assign(month=frame["date"].dt.year * 12 + frame["date"].dt.month - 1)
    monthly["cohort"] = monthly.groupby("customer")["month"].transform("min")
    long = monthly.groupby(["cohort", "month"]).agg(
        customers=("customer", "nunique"), revenue=("amount", "sum")
    )
    long = long.reset_index()
    counted = cohort_tables_from_counts(long["cohort"], long["month"], long["customers"], long["revenue"])
    for name in ("sizes", "active", "retention", "revenue"):
        pd.testing.assert_frame_equal(
            getattr(counted, name), getattr(direct, name), check_exact=False, rtol=1e-12
        )


def test_end_of_data_turns_quiet_final_months_into_observed_zeros():
    tables = cohort_tables(["a", "a"], ["2024-01-10", "2024-02-10"], [1.0, 1.0], end="2024-04-30")
    np.testing.assert_array_equal(tables.retention.to_numpy(), [[1.0, 1.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="end"):
        cohort_tables(["a"], ["2024-03-10"], [1.0], end="2024-02-01")


@pytest.mark.parametrize(
    ("cohorts", "months", "customers", "message"),
    [
        ([], [], [], "empty"),
        (["2024-02"], ["2024-01"], [3], "before its cohort"),
        (["2024-01", "2024-01"], ["2024-01", "2024-01"], [3, 3], "once"),
        (["2024-01"], ["2024-02"], [3], "month-0"),
        (["2024-01"], ["2024-01"], [-1], "whole numbers"),
    ],
)
def test_tables_from_counts_reject_bad_cells(cohorts, months, customers, message):
    with pytest.raises(ValueError, match=message):
        cohort_tables_from_counts(cohorts, months, customers, [1.0] * len(customers))


def test_timezone_aware_dates_use_their_local_calendar_month():
    dates = pd.to_datetime(["2024-01-31 23:30", "2024-02-01 00:30"]).tz_localize("Europe/Paris")
    tables = cohort_tables(["a", "b"], dates, [1.0, 1.0])
    assert list(tables.sizes.index) == ["2024-01", "2024-02"]


@pytest.mark.parametrize(
    ("ids", "dates", "amounts", "message"),
    [
        ([], [], [], "empty"),
        (["a", "b"], ["2024-01-01"], [1.0, 2.0], "same length"),
        (["a", None], ["2024-01-01", "2024-01-02"], [1.0, 2.0], "customer_ids"),
        (["a", "b"], ["2024-01-01", None], [1.0, 2.0], "dates"),
        (["a", "b"], ["2024-01-01", "not a date"], [1.0, 2.0], "dates"),
        (["a", "b"], ["2024-01-01", "2024-01-02"], [1.0, np.nan], "NaN"),
    ],
)
def test_it_rejects_bad_input_with_a_clear_message(ids, dates, amounts, message):
    with pytest.raises(ValueError, match=message):
        cohort_tables(ids, dates, amounts)


def test_repeat_rate_and_gaps_reject_empty_input():
    with pytest.raises(ValueError, match="empty"):
        repeat_purchase_rate([], [])
    with pytest.raises(ValueError, match="empty"):
        time_between_orders([], [])


def test_one_million_purchases_are_summarised():
    """Performance sanity (timing lives in bench/)."""
    rng = np.random.default_rng(1)
    n = 1_000_000
    ids = rng.integers(0, 200_000, n)
    dates = np.datetime64("2021-01-01") + rng.integers(0, 1000, n).astype("timedelta64[D]")
    tables = cohort_tables(ids, dates, rng.gamma(2.0, 25.0, n))
    assert tables.sizes["customers"].sum() == len(np.unique(ids))
    assert 0 < repeat_purchase_rate(ids, dates) <= 1


def test_module_does_not_import_django():
    """The analytics core is a library usable from a notebook without Django: no django import and
    no relative import of a Django-aware module."""
    tree = ast.parse(Path(cohorts_module.__file__).read_text(encoding="utf-8"))
    absolute = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    absolute |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0}
    relative = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level > 0}
    assert not [name for name in absolute if name.split(".")[0] in ("django", "solocrm")]
    assert relative <= set()
