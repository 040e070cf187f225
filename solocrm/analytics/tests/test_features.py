"""The one definition of each model's input, and the shared logistic regression."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from solocrm.analytics.features import churn_behaviour, churn_features_from_aggregates
from solocrm.analytics.logistic import StandardisedLogistic


def _behaviour(one_time_gap: str) -> pd.DataFrame:
    return churn_behaviour(
        recency_days=np.array([31.0, 10.0]), tenure_days=np.array([91.0, 10.0]), orders=np.array([3, 1]),
        purchase_days=np.array([2, 1]), total_spend=np.array([150.0, 10.0]), recent_90=np.array([1, 1]),
        recent_365=np.array([2, 1]), spend_365=np.array([150.0, 10.0]), index=pd.Index(["a", "b"]),
        one_time_gap=one_time_gap,
    )  # fmt: skip


def test_a_repeat_buyers_gap_is_the_span_over_repeat_purchases():
    a = _behaviour("missing").loc["a"]
    assert a["frequency"] == 1 and a["mean_days_between"] == 60
    assert a["overdue_ratio"] == pytest.approx(31 / 60) and a["avg_order_value"] == 50


def test_a_one_time_buyers_gap_is_the_tenure_or_missing_as_asked():
    assert _behaviour("tenure").loc["b", "mean_days_between"] == 10
    assert _behaviour("tenure").loc["b", "overdue_ratio"] == 1
    missing = _behaviour("missing").loc["b"]
    assert np.isnan(missing["mean_days_between"]) and np.isnan(missing["overdue_ratio"])


def test_database_aggregates_give_whole_days_and_purchase_day_counts():
    aggregates = pd.DataFrame(
        {
            "first_day": np.array(["2025-01-01"], dtype="datetime64[D]"),
            "last_day": np.array(["2025-03-01"], dtype="datetime64[D]"),
            "active_days": [2], "orders": [3], "total_spend": [30.0], "days_90": [0], "days_365": [2],
            "spend_365": [30.0],
        },
        index=pd.Index([7], name="contact_id"),
    )  # fmt: skip
    features = churn_features_from_aggregates(aggregates, date(2025, 4, 1)).loc[7]
    assert features["recency_days"] == 31 and features["tenure_days"] == 90
    assert features["orders_365d"] == 2 and features["mean_days_between"] == 59


def test_the_shared_logistic_regression_is_scikit_learns_on_standardised_columns():
    rng = np.random.default_rng(0)
    design = rng.normal(size=(400, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, 1.0]
    y = (design[:, 0] + design[:, 1] / 10 + rng.normal(size=400) > 0.5).astype(int)
    fitted = StandardisedLogistic.fit(design, y, C=0.5)
    z = (design - design.mean(axis=0)) / design.std(axis=0)
    reference = LogisticRegression(C=0.5, max_iter=2000).fit(z, y)
    assert fitted.predict_proba(design) == pytest.approx(reference.predict_proba(z)[:, 1], abs=1e-9)


def test_a_column_that_must_not_lower_the_score_is_dropped_when_its_weight_is_negative():
    rng = np.random.default_rng(1)
    design = rng.normal(size=(500, 2))
    y = (design[:, 0] - design[:, 1] + rng.normal(size=500) > 0).astype(int)
    fitted = StandardisedLogistic.fit(design, y, non_negative=np.array([False, True]))
    assert fitted.coef[1] == 0 and fitted.coef[0] > 0
