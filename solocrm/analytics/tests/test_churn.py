"""Tests of the churn features, labels, metrics, models and the time-split workflow."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from solocrm.analytics.churn import (
    ChurnModel,
    _choose,
    churn_features,
    churn_labels,
    churn_workflow,
    evaluate_churn,
    select_churn_model,
)

START = pd.Timestamp("2022-01-01")


def simulate(n: int = 1500, seed: int = 0, days: int = 730):
    """Buy-till-you-die customers (Fader, Hardie & Lee 2005): Poisson purchases at a
    gamma-distributed rate while alive, an exponential lifetime, then silence. Churn is real
    and follows from recency and frequency, so a model can learn it."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(0, days * 0.5, n)
    rate = rng.gamma(2.0, 1 / 60, n)  # a purchase every 30 days on average
    end = np.minimum(start + rng.exponential(500, n), days)
    counts = rng.poisson(rate * (end - start)) + 1
    customer = np.repeat(np.arange(n), counts)
    t = np.repeat(start, counts) + rng.uniform(0, 1, counts.sum()) * np.repeat(end - start, counts)
    t[np.r_[0, np.cumsum(counts)[:-1]]] = start  # the first purchase opens the account
    dates = START + pd.to_timedelta(t, unit="D")
    return customer, dates, rng.gamma(2, 25, counts.sum()), START + pd.Timedelta(days=days)


@pytest.fixture(scope="module")
def shop():
    return simulate()


@pytest.fixture(scope="module")
def workflow(shop):
    customer, dates, amounts, end = shop
    return churn_workflow(customer, dates, amounts, data_end=end, horizon_days=90)


# --------------------------------------------------------------------------- features and labels


def test_features_are_computed_from_orders_on_or_before_the_cutoff_only():
    ids = ["a", "a", "a", "b"]
    dates = ["2024-01-01", "2024-03-01", "2024-06-01", "2024-03-31"]
    features = churn_features(ids, dates, [100.0, 50.0, 999.0, 10.0], cutoff="2024-04-01")
    a = features.loc["a"]
    assert a["recency_days"] == 31 and a["tenure_days"] == 91
    assert a["orders"] == 2 and a["frequency"] == 1
    assert a["total_spend"] == 150 and a["avg_order_value"] == 75
    assert a["mean_days_between"] == 60 and a["overdue_ratio"] == pytest.approx(31 / 60)
    assert a["orders_90d"] == 1 and a["orders_365d"] == 2  # 2024-01-01 is 91 days back
    b = features.loc["b"]
    assert b["frequency"] == 0 and b["mean_days_between"] == b["tenure_days"] == 1


def test_labels_mark_buyers_who_do_not_come_back_within_the_horizon():
    ids = ["a", "a", "b", "c", "c", "d"]
    dates = ["2024-01-01", "2024-02-15", "2024-01-10", "2024-01-05", "2024-06-01", "2024-03-01"]
    labels = churn_labels(ids, dates, cutoff="2024-01-31", horizon_days=30)
    # a came back on day 15, b never, c too late (day 122); d is not a customer yet.
    assert labels.to_dict() == {"a": 0, "b": 1, "c": 1}


def test_extra_features_join_by_customer_and_a_callable_sees_the_cutoff():
    seen = []

    def engagement(cutoff):
        seen.append(cutoff)
        return pd.DataFrame({"interactions_90d": [3.0]}, index=["a"])

    features = churn_features(["a", "b"], ["2024-01-01", "2024-01-02"], [1.0, 2.0], cutoff="2024-02-01",
                              extra=engagement)  # fmt: skip
    assert seen == [pd.Timestamp("2024-02-01")]
    assert features.loc["a", "interactions_90d"] == 3.0 and np.isnan(features.loc["b", "interactions_90d"])
    with pytest.raises(ValueError, match="numeric"):
        churn_features(["a"], ["2024-01-01"], [1.0], cutoff="2024-02-01",
                       extra=pd.DataFrame({"tier": ["gold"]}, index=["a"]))  # fmt: skip


@pytest.mark.parametrize(
    ("ids", "dates", "amounts", "message"),
    [
        ([], [], [], "empty"),
        (["a", "b"], ["2024-01-01"], [1.0, 2.0], "dates has 1"),
        (["a", None], ["2024-01-01", "2024-01-02"], [1.0, 2.0], "customer ids are missing"),
        (["a", "b"], ["2024-01-01", "garbage"], [1.0, 2.0], "dates are missing"),
        (["a", "b"], ["2024-01-01", "2024-01-02"], [1.0, np.nan], "amounts are missing"),
        (["a"], ["2025-01-01"], [1.0], "No purchase on or before"),
    ],
)
def test_features_reject_bad_input_with_a_clear_message(ids, dates, amounts, message):
    with pytest.raises(ValueError, match=message):
        churn_features(ids, dates, amounts, cutoff="2024-06-01")


def test_workflow_rejects_future_dates_and_too_short_history(shop):
    customer, dates, amounts, end = shop
    with pytest.raises(ValueError, match="future dates"):
        churn_workflow(customer, dates, amounts, data_end=end - pd.Timedelta(days=30))
    with pytest.raises(ValueError, match="at least 180 days"):
        churn_workflow(["a", "a"], ["2024-01-01", "2024-03-01"], [1.0, 1.0], data_end="2024-04-01")


# --------------------------------------------------------------------------- metrics


def test_metrics_equal_scikit_learn_on_the_same_inputs():
    """AUC (Mann-Whitney form, Hanley & McNeil 1982) and precision/recall/F1 match
    ``sklearn.metrics`` to 1e-12, ties in the scores included."""
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 500)
    risk = np.round(np.clip(0.3 * y + rng.normal(0.35, 0.25, 500), 0, 1), 2)  # many ties
    result = evaluate_churn(y, risk, threshold=0.5)
    flagged = (risk >= 0.5).astype(int)
    assert result["auc"] == pytest.approx(skm.roc_auc_score(y, risk), abs=1e-12)
    assert result["precision"] == pytest.approx(skm.precision_score(y, flagged), abs=1e-12)
    assert result["recall"] == pytest.approx(skm.recall_score(y, flagged), abs=1e-12)
    assert result["f1"] == pytest.approx(skm.f1_score(y, flagged), abs=1e-12)


def test_metrics_are_defined_for_degenerate_cases():
    only_churners = evaluate_churn([1, 1, 1], [0.2, 0.4, 0.9])
    assert np.isnan(only_churners["auc"]) and only_churners["recall"] == pytest.approx(1 / 3)
    nobody_flagged = evaluate_churn([0, 1], [0.1, 0.2])
    assert nobody_flagged["precision"] == 0.0 and nobody_flagged["f1"] == 0.0
    with pytest.raises(ValueError, match="same, non-zero"):
        evaluate_churn([0, 1], [0.5])


def test_a_tie_goes_to_the_simpler_model():
    close = {"baseline": {"auc": 0.801}, "logistic": {"auc": 0.804}, "gradient_boosting": {"auc": 0.805}}
    assert _choose(close) == "baseline"
    clear = {"baseline": {"auc": 0.70}, "logistic": {"auc": 0.78}, "gradient_boosting": {"auc": 0.80}}
    assert _choose(clear) == "gradient_boosting"
    assert _choose({"baseline": {"auc": float("nan")}, "logistic": None}) == "baseline"


# --------------------------------------------------------------------------- models


def test_the_workflow_learns_churn_far_better_than_chance(workflow):
    """On simulated buy-till-you-die data with a fixed seed the chosen model's out-of-time
    AUC is above 0.7 (0.5 = random), and every customer gets a risk in [0, 1]."""
    chosen = workflow.metrics[workflow.chosen]
    assert chosen["auc"] > 0.7
    for kind in ("logistic", "gradient_boosting"):
        assert workflow.metrics[kind]["auc"] > 0.7
    assert workflow.baseline == "recency"
    assert workflow.risk.between(0, 1).all() and workflow.risk.index.size == 1500
    cut = workflow.cutoffs
    assert cut["data_end"] - cut["holdout"] == cut["holdout"] - cut["train"] == pd.Timedelta(days=90)
    json.dumps(workflow.to_dict())


def test_the_workflow_compares_against_p_alive_when_given(shop):
    customer, dates, amounts, end = shop
    calls = []

    def p_alive(cutoff):
        calls.append(cutoff)
        known = pd.Index(np.unique(customer[dates <= cutoff]))
        return pd.Series(0.5, index=known)  # an uninformative P(alive): AUC 0.5

    result = churn_workflow(customer, dates, amounts, data_end=end, p_alive=p_alive)
    assert result.baseline == "p_alive" and calls[0] == end - pd.Timedelta(days=90)
    assert result.metrics["baseline"]["auc"] == pytest.approx(0.5)
    assert result.chosen != "baseline"


def test_selection_records_every_candidate(shop):
    customer, dates, amounts, end = shop
    train_cut, hold_cut = end - pd.Timedelta(days=180), end - pd.Timedelta(days=90)
    train_X = churn_features(customer, dates, amounts, cutoff=train_cut)
    train_y = churn_labels(customer, dates, cutoff=train_cut, horizon_days=90)
    hold_X = churn_features(customer, dates, amounts, cutoff=hold_cut)
    hold_y = churn_labels(customer, dates, cutoff=hold_cut, horizon_days=90)
    oracle = 1.0 - hold_y.to_numpy()  # a perfect P(alive) must win
    selection = select_churn_model(train_X, train_y, hold_X, hold_y, p_alive_holdout=oracle)
    assert selection.chosen == "baseline" and selection.metrics["baseline"]["auc"] == 1.0
    assert set(selection.models) == {"logistic", "gradient_boosting"}


def test_a_logistic_model_survives_a_json_round_trip(shop):
    customer, dates, amounts, end = shop
    cut = end - pd.Timedelta(days=90)
    X = churn_features(customer, dates, amounts, cutoff=cut)
    X["last_survey_score"] = np.where(np.arange(len(X)) % 3 == 0, np.nan, 7.0)  # with gaps
    model = ChurnModel("logistic").fit(X, churn_labels(customer, dates, cutoff=cut, horizon_days=90))
    again = ChurnModel.from_dict(json.loads(json.dumps(model.to_dict())))
    np.testing.assert_allclose(again.predict_proba(X), model.predict_proba(X), rtol=0, atol=1e-12)
    assert "last_survey_score_missing" in model.coefficients_.index
    assert model.feature_importance_.index[0] in [*X.columns.tolist(), "last_survey_score_missing"]


def test_a_boosting_model_stores_importances_and_must_be_refitted(shop):
    customer, dates, amounts, end = shop
    cut = end - pd.Timedelta(days=90)
    X = churn_features(customer, dates, amounts, cutoff=cut)
    model = ChurnModel("gradient_boosting").fit(X, churn_labels(customer, dates, cutoff=cut, horizon_days=90))
    data = json.loads(json.dumps(model.to_dict()))
    assert set(data["feature_importance"]) == set(X.columns)
    with pytest.raises(ValueError, match="re-fit"):
        ChurnModel.from_dict(data).predict_proba(X)
    with pytest.raises(ValueError, match="kind"):
        ChurnModel("forest")
