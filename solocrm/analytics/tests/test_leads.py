"""Tests of the lead scorer: the empirical-Bayes prior, the logistic layer and storage."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from solocrm.analytics.leads import DEFAULT_RATE, LeadScorer


def simulate(n: int = 2000, seed: int = 0, engagement_effect: float = 0.5):
    """Leads from three sources with different true rates; opening e-mails and having a
    company raise the odds of converting."""
    rng = np.random.default_rng(seed)
    source = rng.choice(["web", "referral", "ads"], n, p=[0.5, 0.2, 0.3])
    opens = rng.poisson(2, n)
    company = rng.random(n) < 0.5
    base = np.select([source == "web", source == "referral"], [0.0, 1.2], -0.5)
    p = 1 / (1 + np.exp(-(-2.5 + base + engagement_effect * opens + 0.7 * company)))
    frame = pd.DataFrame({"source": source, "emails_opened": opens, "has_company": company})
    return frame, (rng.random(n) < p).astype(int)


def test_no_history_scores_every_lead_at_the_documented_default():
    scorer = LeadScorer().fit(pd.DataFrame({"source": pd.Series([], dtype=object)}), [])
    assert scorer.mode_ == "prior" and scorer.overall_rate_ == DEFAULT_RATE == 0.10
    assert scorer.predict_proba(pd.DataFrame({"source": ["web", None]})).tolist() == [0.10, 0.10]


def test_a_source_with_no_conversion_yet_is_shrunk_towards_the_overall_rate_not_zero():
    """Beta-binomial posterior mean (Gelman et al., Bayesian Data Analysis, 3rd ed., §2.4):
    (c + m p0) / (n + m). Here p0 = (2 + 10 * 0.1) / (10 + 10) = 0.15 and the source
    'fair' with 0 of 3 converted gets (0 + 10 * 0.15) / (3 + 10) = 0.1154 > 0."""
    frame = pd.DataFrame({"source": ["fair"] * 3 + ["web"] * 7})
    scorer = LeadScorer(prior_strength=10).fit(frame, [0, 0, 0, 1, 1, 0, 0, 0, 0, 0])
    assert scorer.overall_rate_ == pytest.approx(0.15, abs=1e-12)
    table = scorer.by_source_.set_index("source")
    assert table.loc["fair", "rate"] == pytest.approx(1.5 / 13, abs=1e-12) and table.loc["fair", "rate"] > 0
    assert table.loc["fair", "raw_rate"] == 0 and table.loc["web", "leads"] == 7
    assert table.loc["web", "rate"] == pytest.approx((2 + 1.5) / 17, abs=1e-12)
    unseen = scorer.predict_proba(pd.DataFrame({"source": ["podcast"]}))
    assert unseen[0] == pytest.approx(0.15)


def test_the_logistic_layer_needs_thirty_leads_of_each_outcome():
    frame = pd.DataFrame({"source": ["web"] * 100, "visits": np.arange(100)})
    few = LeadScorer().fit(frame, [1] * 29 + [0] * 71)
    enough = LeadScorer().fit(frame, [1] * 30 + [0] * 70)
    assert few.mode_ == "prior" and enough.mode_ == "logistic"


def test_scores_rise_with_engagement_and_rank_leads_well():
    frame, converted = simulate()
    scorer = LeadScorer().fit(frame, converted)
    assert scorer.mode_ == "logistic" and scorer.metrics_["auc"] > 0.7
    grid = pd.DataFrame({"source": "web", "emails_opened": np.arange(0, 15), "has_company": False})
    scores = scorer.predict_proba(grid)
    assert np.all(np.diff(scores) > 0)
    ranked = scorer.by_source_["source"].tolist()
    assert ranked == ["referral", "web", "ads"]


def test_engagement_never_lowers_a_score_even_when_the_data_say_so():
    frame, converted = simulate(engagement_effect=-0.4, seed=1)
    scorer = LeadScorer().fit(frame, converted)
    assert scorer.coefficients_["emails_opened"] == 0.0
    grid = pd.DataFrame({"source": "web", "emails_opened": np.arange(0, 15), "has_company": True})
    assert np.all(np.diff(scorer.predict_proba(grid)) >= 0)


def test_a_fitted_scorer_survives_a_json_round_trip():
    frame, converted = simulate(n=800, seed=2)
    for data in (frame, frame.iloc[:20]):
        scorer = LeadScorer().fit(data, converted[: len(data)])
        again = LeadScorer.from_dict(json.loads(json.dumps(scorer.to_dict())))
        np.testing.assert_allclose(again.predict_proba(frame), scorer.predict_proba(frame), atol=1e-12)


@pytest.mark.parametrize(
    ("frame", "converted", "message"),
    [
        (pd.DataFrame({"source": ["a", "b"]}), [1], "converted has 1"),
        (pd.DataFrame({"source": ["a", "b"]}), [1, np.nan], "0/1"),
        (pd.DataFrame({"source": ["a", "b"]}), [1, 2], "0/1"),
        (pd.DataFrame({"source": ["a"], "city": ["Paris"]}), [1], "numeric or boolean"),
        ([("a", 1)], [1], "DataFrame"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(frame, converted, message):
    with pytest.raises(ValueError, match=message):
        LeadScorer().fit(frame, converted)


def test_scoring_before_fitting_or_without_fitted_columns_fails_clearly():
    with pytest.raises(ValueError, match="not fitted"):
        LeadScorer().predict_proba(pd.DataFrame({"source": ["a"]}))
    frame, converted = simulate(n=500)
    scorer = LeadScorer().fit(frame, converted)
    with pytest.raises(ValueError, match="emails_opened"):
        scorer.predict_proba(pd.DataFrame({"source": ["web"]}))
