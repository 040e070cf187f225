"""Models explained: the plain sentence, the trust badge and the fit warnings of each kind, on
several shapes of business (frequent buyers who never leave, rare buyers who do, thin data),
in English and Chinese; and the Models page and API that show them."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from solocrm.analytics.choices import ModelKind
from solocrm.analytics.explain import BADGE_LEVELS, MIN_DATA, explain
from solocrm.analytics.models import FittedModel

# The CDNOW estimates of Fader, Hardie & Lee (2005), table 1, converted from weeks to days.
CDNOW = {"r": 0.243, "alpha": 4.414 * 7, "a": 0.793, "b": 2.426}


def _holdout(actual: int, predicted: float) -> dict:
    return {
        "days": 90,
        "customers": 1000,
        "actual": actual,
        "predicted": predicted,
        "mean_absolute_error": 0.4,
    }


# --- BG/NBD ------------------------------------------------------------------------------------


def test_a_frequent_shop_where_nobody_leaves_reads_as_such():
    result = explain("bgnbd", {"r": 5.0, "alpha": 30.0, "a": 0.0, "b": 1.0}, {"boundary": "no_dropout"}, 5000)
    assert (
        result.sentence == "While they are active, customers buy about 5 times a month; almost nobody leaves."
    )
    assert any(
        w.startswith("Boundary fit: the data show no sign of customers leaving") for w in result.warnings
    )


def test_cdnow_buyers_buy_a_few_times_a_year_and_a_quarter_leave_after_each_purchase():
    result = explain("bgnbd", CDNOW, {"n_repeat": 1000, "holdout": _holdout(1000, 1060)}, 2357)
    assert "about 3 times a year" in result.sentence
    assert "about 25 % of them stop buying for good" in result.sentence
    assert result.badge.level == "good" and "off by 6 %" in result.badge.detail
    assert result.warnings == []


def test_rare_buyers_buy_once_every_few_years():
    result = explain("bgnbd", {"r": 0.5, "alpha": 500.0, "a": 1.0, "b": 1.0}, {}, 1000)
    assert "about once every 3 years" in result.sentence and "50 %" in result.sentence


@pytest.mark.parametrize(
    ("actual", "predicted", "level"),
    [
        (100, 114, "good"),
        (100, 86, "good"),
        (100, 130, "fair"),
        (100, 65, "fair"),
        (100, 140, "poor"),
        (100, 10, "poor"),
    ],
)
def test_the_bgnbd_badge_follows_the_holdout_error(actual, predicted, level):
    result = explain("bgnbd", CDNOW, {"holdout": _holdout(actual, predicted)}, 1000)
    assert result.badge.level == level
    assert f"customers made {actual}" in result.badge.detail


def test_no_badge_without_a_holdout_or_with_too_few_holdout_purchases():
    assert explain("bgnbd", CDNOW, {"holdout": None}, 1000).badge is None
    thin = explain("bgnbd", CDNOW, {"holdout": _holdout(5, 50)}, 1000)
    assert thin.badge is None and "too few purchases" in thin.unchecked


def test_a_common_dropout_boundary_and_thin_data_are_warned_about():
    result = explain("bgnbd", CDNOW, {"boundary": "common_dropout", "n_repeat": 12}, 80)
    text = " ".join(result.warnings)
    assert "same chance" in text
    assert "only 12 customers bought more than once" in text
    assert f"fitted on 80 records (a stable fit wants {MIN_DATA['bgnbd']} or more)" in text


# --- the other kinds ----------------------------------------------------------------------------


@pytest.mark.parametrize(("auc", "level"), [(0.82, "good"), (0.75, "good"), (0.7, "fair"), (0.6, "poor")])
def test_the_churn_badge_follows_the_holdout_auc(auc, level):
    metrics = {
        "candidates": {"logistic": {"auc": auc, "precision": 0.5, "recall": 0.4}, "p_alive": {"auc": 0.5}},
        "holdout_customers": 900,
        "at_risk_customers": 42,
    }
    result = explain("churn", {"chosen": "logistic", "horizon_days": 90}, metrics, 1800)
    assert result.sentence.startswith("42 customers have a churn risk of 60 % or more")
    assert result.badge.level == level and f"AUC {auc:.2f}" in result.badge.detail
    assert "Logistic regression" in result.badge.detail


@pytest.mark.parametrize(
    ("hit", "base", "level"), [(0.3, 0.2, "good"), (0.2, 0.2, "fair"), (0.1, 0.2, "poor"), (0.1, 0.0, "good")]
)
def test_the_recommendations_badge_compares_with_the_best_sellers(hit, base, level):
    metrics = {"hit_rate": hit, "baseline_hit_rate": base, "holdout_customers": 300}
    assert explain("basket", {"rules": [{}, {}]}, metrics, 5000).badge.level == level


@pytest.mark.parametrize(
    ("mape", "naive", "level"),
    [(10, 20, "good"), (10, 5, "fair"), (25, 40, "fair"), (25, 20, "poor"), (50, 60, "poor")],
)
def test_the_forecast_badge_wants_a_small_error_and_beating_last_year(mape, naive, level):
    params = {"forecast": [{"mean": 1000.0}] * 12}
    metrics = {"mape": mape, "naive_mape": naive, "backtest_months": 12}
    result = explain("forecast", params, metrics, 36, currency="EUR")
    assert result.sentence == "Revenue of the next 12 months is forecast at about 12,000 EUR."
    assert result.badge.level == level


@pytest.mark.parametrize(("silhouette", "level"), [(0.6, "good"), (0.3, "fair"), (0.1, "poor")])
def test_the_personas_badge_follows_the_silhouette(silhouette, level):
    params = {
        "personas": [
            {"name": "Big spenders", "customers": 30, "share": 0.3},
            {"name": "Once", "customers": 70, "share": 0.7},
        ]
    }
    result = explain("personas", params, {"silhouette": silhouette}, 100)
    assert "2 groups" in result.sentence and "“Once” (70 %" in result.sentence
    assert result.badge.level == level


def test_lead_scores_are_at_best_fair_since_they_are_measured_in_sample():
    params = {
        "prior": 0.1,
        "mode": "logistic",
        "by_source": [{"source": "referral", "rate": 0.3}, {"source": "ads", "rate": 0.05}],
    }
    result = explain("leads", params, {"auc": 0.9, "leads": 400}, 400)
    assert result.badge.level == "fair" and "“Referral” (30 %)" in result.sentence
    prior = explain("leads", {**params, "mode": "prior"}, {"leads": 5}, 5)
    assert prior.badge is None and "too few conversions" in prior.unchecked
    assert any("Too little data" in w for w in prior.warnings)


def test_counts_have_no_badge_and_say_why():
    rfm = explain(
        "rfm",
        {"segments": [{"code": "champions", "customers": 10}, {"code": "lost", "customers": 30}]},
        {},
        40,
    )
    assert rfm.sentence == "Your largest group is “Lost”: 30 of 40 customers (75 %)."
    cohorts = explain("cohorts", {}, {"repeat_rate": 0.35, "median_days_between_orders": 41.6}, 500)
    assert (
        cohorts.sentence.startswith("35 % of customers have bought more than once.")
        and "42 days" in cohorts.sentence
    )
    for result in (rfm, cohorts):
        assert result.badge is None and "not a prediction" in result.unchecked


def test_the_spend_model_and_the_clv_report():
    gg = explain("gamma_gamma", {"p": 6.25, "q": 3.74, "v": 15.44}, {}, 946, currency="USD")
    assert gg.sentence.startswith("An average order is worth about 35.22 USD")
    params = {"total_clv": 123456.0, "months": 12, "quantiles": {"p50": 40.0, "p99": 900.0}}
    clv = explain("clv", params, {}, 3000, currency="USD")
    assert "expected to bring 123,456 USD" in clv.sentence and "the top 1 % more than 900 USD" in clv.sentence
    heuristic = explain(
        "clv", {**params, "method": "spend_x_historical_rate", "reason": "nobody bought twice"}, {}, 3000
    )
    assert heuristic.warnings == ["Rule of thumb, not a model: nobody bought twice"]


@pytest.mark.parametrize("kind", ModelKind.values)
def test_every_kind_survives_empty_and_malformed_reports(kind):
    for params, metrics in (
        ({}, {}),
        ({"r": "x", "segments": "no", "forecast": [1, None]}, {"holdout": 3}),
        (None, []),
    ):
        result = explain(kind, params, metrics, 0)
        assert isinstance(result.sentence, str) and result.sentence
        assert result.badge is None or result.badge.level in BADGE_LEVELS


def test_the_explanations_are_in_chinese_too():
    with translation.override("zh-hans"):
        result = explain(
            "bgnbd",
            {"r": 5.0, "alpha": 30.0, "a": 0.0, "b": 1.0},
            {"boundary": "no_dropout", "holdout": _holdout(100, 110)},
            50,
        )
    texts = [result.sentence, result.badge.label, result.badge.detail, *result.warnings]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in texts), texts


# --- the page and the API ----------------------------------------------------------------------


@pytest.fixture
def stored(db):
    FittedModel.objects.create(
        kind=ModelKind.BGNBD,
        params={"r": 5.0, "alpha": 30.0, "a": 0.0, "b": 1.0},
        metrics={"boundary": "no_dropout", "n_repeat": 900, "holdout": _holdout(1000, 1300)},
        n_samples=1000,
        code_version="t",
    )
    FittedModel.objects.create(
        kind=ModelKind.RFM, params={"segments": []}, metrics={}, n_samples=0, code_version="t"
    )


def test_the_models_page_says_what_each_model_means(viewer_client, stored):
    page = viewer_client.get(reverse("analytics:models")).content.decode()
    assert "What the models say" in page
    assert "customers buy about 5 times a month; almost nobody leaves." in page
    assert 'class="trust trust-fair" title="Fitted on the data up to 90 days ago' in page
    assert "Boundary fit: the data show no sign of customers leaving" in page
    assert "Nothing to check: a count of what happened" in page


def test_the_models_page_is_in_chinese(viewer_client, stored):
    page = viewer_client.get(
        reverse("analytics:models"), headers={"accept-language": "zh-hans"}
    ).content.decode()
    assert "Trust: fair" not in page and "Boundary fit" not in page


def test_the_api_gives_each_model_its_explanation(viewer_client, stored):
    body = viewer_client.get("/api/v1/analytics/models").json()
    bgnbd = next(item for item in body if item["kind"] == "bgnbd")
    assert bgnbd["explanation"]["badge"]["level"] == "fair"
    assert "almost nobody leaves" in bgnbd["explanation"]["sentence"]
    assert bgnbd["explanation"]["warnings"]
    rfm = next(item for item in body if item["kind"] == "rfm")
    assert rfm["explanation"]["badge"] is None and rfm["explanation"]["unchecked"]


# --- the BG/NBD holdout check of the refresh -----------------------------------------------------


def test_the_refresh_checks_bgnbd_on_the_last_90_days(db, settings):
    """``metrics.holdout.actual`` is the repeat purchase days, in the 90 days before the refresh's
    day, of the customers who had bought before them, counted here from the orders themselves."""
    from datetime import date, timedelta

    from solocrm.analytics import services
    from solocrm.sales.choices import REVENUE_STATUSES
    from solocrm.sales.models import Order
    from solocrm.web.demo import load_demo

    settings.TIME_ZONE = "UTC"
    end = date(2025, 6, 30)
    load_demo(contacts=200, seed=6, end=end)
    services.refresh(today=end)
    cutoff = end - timedelta(days=90)
    paid = Order.objects.filter(
        status__in=REVENUE_STATUSES, currency=settings.SOLOCRM_CURRENCY, contact__isnull=False
    )
    earlier = set(paid.filter(ordered_at__date__lte=cutoff).values_list("contact_id", flat=True))
    days = {
        (contact, moment.date())
        for contact, moment in paid.filter(
            ordered_at__date__gt=cutoff, ordered_at__date__lte=end, contact_id__in=earlier
        ).values_list("contact_id", "ordered_at")
    }
    holdout = FittedModel.latest(ModelKind.BGNBD).metrics["holdout"]
    assert holdout["days"] == 90 and holdout["customers"] == len(earlier)
    assert holdout["actual"] == len(days) > 0
    assert holdout["predicted"] > 0
    result = explain(
        "bgnbd", FittedModel.latest(ModelKind.BGNBD).params, FittedModel.latest(ModelKind.BGNBD).metrics, 200
    )
    assert result.badge is not None and f"customers made {len(days)}" in result.badge.detail
