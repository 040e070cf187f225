"""BG/NBD, Gamma-Gamma and CLV on the shapes of data that break them (issue 16).

Every population is generated with a fixed seed (``populations.py``). Each test asserts that
every number a model defines is finite, that the predictions are ordered as the model implies
(at the same age, more purchases with the last one just now, or a more recent last purchase,
mean more expected purchases and a higher CLV), and agreement with ``lifetimes`` 0.11.3 where
lifetimes converges: a likelihood at least as high as lifetimes' (we never stop at a worse
point), and the same predictions within 1 % when both reach the same maximum.

Sources: Fader, Hardie & Lee (2005), "Counting Your Customers" the Easy Way, Marketing Science
24(2) (BG/NBD, eq. 10); Fader & Hardie (2013), The Gamma-Gamma Model of Monetary Value,
http://brucehardie.com/notes/025/; Morrison & Schmittlein (1988), JBES 6(2) (the NBD).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter
from lifetimes.utils import ConvergenceError

from solocrm.analytics.clv import (
    HEURISTIC_METHODS,
    BetaGeoModel,
    GammaGammaModel,
    ModelUnusable,
    customer_lifetime_value,
    heuristic_clv,
)
from solocrm.analytics.summary import summarize

from .populations import START, YEAR_END, buy_till_you_die, grocery, no_dropout

YEAR = 365.25


def summary_of(tx: pd.DataFrame, unit: str = "D", end: str = YEAR_END) -> pd.DataFrame:
    return summarize(tx["customer"], tx["date"], tx["amount"], observation_end=end, time_unit=unit)


def fit_quietly(s: pd.DataFrame) -> tuple[BetaGeoModel, GammaGammaModel]:
    """Both models, with every numpy warning turned into an error (an overflow is a bug)."""
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        bg = BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])
        spenders = (s["frequency"] > 0) & (s["monetary_value"] > 0)
        gg = GammaGammaModel().fit(s.loc[spenders, "frequency"], s.loc[spenders, "monetary_value"])
    return bg, gg


def predictions(bg: BetaGeoModel, gg: GammaGammaModel, s: pd.DataFrame, unit: str = "D") -> pd.DataFrame:
    per_unit = 7.0 if unit == "W" else 1.0
    columns = [s[c].to_numpy(float) for c in ("frequency", "recency", "T")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return pd.DataFrame({
            "p_alive": bg.probability_alive(*columns),
            "expected": bg.expected_purchases(YEAR / per_unit, *columns),
            "clv": customer_lifetime_value(bg, gg, *columns, s["monetary_value"], time_unit=unit),
        })  # fmt: skip


def assert_finite(frame: pd.DataFrame) -> None:
    values = frame.to_numpy(float)
    assert np.isfinite(values).all(), frame[~np.isfinite(values).all(axis=1)].head()
    assert (frame["p_alive"].between(0.0, 1.0)).all()
    assert (frame["expected"] >= 0).all() and (frame["clv"] >= 0).all()


def assert_ordered(bg: BetaGeoModel, gg: GammaGammaModel, T: float, *, most: int) -> None:
    """At age T: x = 1..most purchases, the last one today, are worth strictly more as x grows;
    with x fixed, a more recent last purchase is worth at least as much (the BG/NBD's iso-value
    curves, Fader, Hardie & Lee 2005, JMR 42(4), fig. 4)."""
    x = np.arange(1.0, most + 1.0)
    just_bought = bg.expected_purchases(YEAR, x, T, T)
    assert np.all(np.diff(just_bought) > 0)
    value = customer_lifetime_value(bg, gg, x, T, T, 50.0)
    assert np.all(np.diff(value) > 0)
    recency = np.linspace(0.0, T, 12)
    for purchases in (1.0, float(most)):
        by_recency = bg.expected_purchases(YEAR, purchases, recency, T)
        assert np.all(np.diff(by_recency) >= -1e-12 * by_recency.max())
        assert np.all(np.diff(bg.probability_alive(purchases, recency, T)) >= 0)
    assert np.isfinite(just_bought).all() and np.isfinite(value).all()


def lifetimes_fit(s: pd.DataFrame) -> BetaGeoFitter | None:
    """lifetimes' fit when it converges to finite parameters, else None."""
    fitter = BetaGeoFitter()
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            fitter.fit(s["frequency"], s["recency"], s["T"])
    except (ConvergenceError, ValueError, FloatingPointError):
        return None
    return fitter if np.isfinite(fitter.params_.to_numpy()).all() else None


def assert_agrees_with_lifetimes(bg: BetaGeoModel, s: pd.DataFrame) -> bool:
    """Our maximum is at least as high as lifetimes' (1e-6 relative), and when the two are the
    same maximum (within 0.01) the expected purchases agree within 1 %. Returns whether
    lifetimes converged."""
    theirs = lifetimes_fit(s)
    if theirs is None:
        return False
    # lifetimes fits on times divided by the largest T; the likelihood of the purchase times
    # then gains sum(x) ln(max T) (one density per purchase), which is taken back out here.
    their_ll = -theirs._negative_log_likelihood_ * len(s) + s["frequency"].sum() * np.log(theirs._scale)
    assert bg.log_likelihood_ >= their_ll - 1e-6 * abs(their_ll)
    if bg.log_likelihood_ - their_ll < 0.01:
        columns = [s[c].to_numpy(float) for c in ("frequency", "recency", "T")]
        with np.errstate(all="ignore"):
            reference = theirs.conditional_expected_number_of_purchases_up_to_time(YEAR, *columns)
        ok = np.isfinite(reference)
        ours = bg.expected_purchases(YEAR, *columns)
        np.testing.assert_allclose(ours[ok], reference[ok], rtol=0.01)
    return True


@pytest.fixture(scope="module")
def shop() -> pd.DataFrame:
    return grocery()


def test_the_grocery_population_has_the_shape_of_the_issue(shop):
    """~2,500 households, ~60 purchase days each in one year, nearly everybody still buying."""
    s = summary_of(shop)
    assert len(s) == 2469
    assert 55 <= (s["frequency"] + 1).mean() <= 70
    assert (s["T"] - s["recency"]).median() < 10


def test_very_frequent_buyers_get_finite_ordered_values(shop):
    """The issue's shop: the fit used to run to a = 2e5, b = 3e8 (days) and leave every CLV
    NaN. Now every customer gets a finite P(alive), expected purchases and CLV."""
    s = summary_of(shop)
    bg, gg = fit_quietly(s)
    scores = predictions(bg, gg, s)
    assert_finite(scores)
    assert scores["expected"].mean() > 40  # they keep buying ~60 times a year
    assert_ordered(bg, gg, float(s["T"].median()), most=300)
    assert_agrees_with_lifetimes(bg, s)
    spend_rank = s["total_spend"].rank(pct=True).to_numpy()
    assert scores["clv"][spend_rank > 0.9].mean() > scores["clv"][spend_rank <= 0.1].mean()


def test_days_and_weeks_give_the_same_predictions_on_the_ridge(shop):
    """The same data in days and in weeks only rescale alpha: predictions agree within 1 %
    (they used to land at different points of a flat ridge)."""
    daily, weekly = summary_of(shop, "D"), summary_of(shop, "W")
    bg_d, gg_d = fit_quietly(daily)
    bg_w, gg_w = fit_quietly(weekly)
    assert bg_w.alpha_ * 7 == pytest.approx(bg_d.alpha_, rel=0.01)
    for name in ("r", "a", "b"):
        assert getattr(bg_w, f"{name}_") == pytest.approx(getattr(bg_d, f"{name}_"), rel=0.01)
    in_days, in_weeks = predictions(bg_d, gg_d, daily, "D"), predictions(bg_w, gg_w, weekly, "W")
    np.testing.assert_allclose(in_weeks.to_numpy(), in_days.to_numpy(), rtol=0.01)


def test_without_any_dropout_the_fit_is_the_nbd_in_closed_form():
    """Nobody leaves: the likelihood is highest at the boundary a/(a+b) -> 0. The model is the
    NBD (a = 0), P(alive) = 1 and E[Y(t)] = (r+x) t / (alpha+T) exactly."""
    s = summary_of(no_dropout())
    bg, gg = fit_quietly(s)
    assert bg.boundary_ == "no_dropout" and bg.a_ == 0.0
    scores = predictions(bg, gg, s)
    assert_finite(scores)
    assert (scores["p_alive"] == 1.0).all()
    x, T = s["frequency"].to_numpy(float), s["T"].to_numpy(float)
    np.testing.assert_allclose(scores["expected"], (bg.r_ + x) * YEAR / (bg.alpha_ + T), rtol=1e-12)
    assert_ordered(bg, gg, float(s["T"].median()), most=40)
    assert_agrees_with_lifetimes(bg, s)
    restored = BetaGeoModel.from_dict(bg.to_dict())
    assert restored.boundary_ == "no_dropout"
    assert restored.expected_purchases(YEAR, 3, 100, 200) == bg.expected_purchases(YEAR, 3, 100, 200)


def test_a_stored_model_from_the_ridge_still_predicts_finite_numbers(shop):
    """Parameters a fit used to store on the ridge (issue 16: r = 1.41, alpha = 9.76 days,
    a = 2.0e5, b = 3.0e8) give finite predictions close to the NBD's, without warnings."""
    stored = BetaGeoModel.from_dict({"params": {"r": 1.41, "alpha": 9.76, "a": 2.0e5, "b": 3.0e8}})
    nbd = BetaGeoModel.from_dict({"params": {"r": 1.41, "alpha": 9.76, "a": 0.0, "b": 1.0}})
    s = summary_of(shop)
    columns = [s[c].to_numpy(float) for c in ("frequency", "recency", "T")]
    x, T = columns[0], columns[2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(stored.expected_purchases(YEAR, *columns)).all()
        assert np.isfinite(stored.probability_alive(*columns)).all()
        just_bought = stored.expected_purchases(YEAR, x, T, T)  # P(alive) ~ 1: compare the rates
        limit = nbd.expected_purchases(YEAR, x, T, T)
    # A drop-out chance of 6.7e-4 per purchase costs a customer expecting k purchases at most
    # about 1 - (1 - 6.7e-4)^k of them: under 18 % for the k < 290 of this shop.
    assert np.all(just_bought <= limit)
    assert np.all(just_bought >= 0.82 * limit)


def test_one_time_buyers_only_cannot_be_modelled_and_fall_back_to_a_labelled_heuristic():
    """Nobody came back: the purchase and drop-out rates cannot be told apart. The core says
    why (ModelUnusable) and the heuristic gives every customer a finite value: 0 purchases
    expected, so a CLV of 0."""
    tx = buy_till_you_die(400, seed=3, rate_shape=1.0, rate_scale_days=1e9)
    s = summary_of(tx)
    assert (s["frequency"] == 0).all()
    with pytest.raises(ModelUnusable, match="at least one repeat buyer") as raised:
        BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])
    fallback = heuristic_clv(s["frequency"], s["recency"], s["T"], s["total_spend"], reason=str(raised.value))
    assert fallback.method == "spend_x_historical_rate"
    assert fallback.label == HEURISTIC_METHODS[fallback.method] and "heuristic" in fallback.label
    assert "repeat buyer" in fallback.reason
    assert np.isfinite(fallback.clv).all() and (fallback.clv == 0).all()
    np.testing.assert_allclose(fallback.average_value, s["total_spend"])


def test_a_single_customer_gets_finite_ordered_predictions():
    """One customer, 12 purchase days in a year: four parameters for one data point. The fit
    ends on a boundary and still predicts finite numbers for anybody."""
    days = np.array([0, 20, 41, 70, 95, 120, 150, 181, 200, 240, 270, 300])
    tx = pd.DataFrame({"customer": 1, "date": START + days.astype("timedelta64[D]"), "amount": 25.0})
    s = summary_of(tx)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bg = BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])
    expected = bg.expected_purchases(YEAR, s["frequency"], s["recency"], s["T"])
    assert np.isfinite(expected).all() and expected[0] > 0
    assert np.isfinite(bg.probability_alive(s["frequency"], s["recency"], s["T"])).all()
    assert_agrees_with_lifetimes(bg, s)
    x = np.arange(1.0, 30.0)
    assert np.all(np.diff(bg.expected_purchases(YEAR, x, 364.0, 364.0)) > 0)
    assert np.all(np.diff(bg.expected_purchases(YEAR, 11.0, np.linspace(0, 364, 10), 364.0)) >= 0)
    # Gamma-Gamma cannot be fitted on one customer's mean: the spend side falls back
    fallback = heuristic_clv(
        s["frequency"], s["recency"], s["T"], s["total_spend"], reason="one customer", bgnbd=bg
    )
    assert fallback.method == "spend_x_model_purchases"
    assert fallback.average_value[0] == pytest.approx(25.0)
    assert fallback.clv[0] > 0 and np.isfinite(fallback.clv).all()
    assert fallback.expected_purchases[0] == pytest.approx(expected[0], rel=1e-9)


def test_all_purchases_on_one_day_fall_back_with_a_reason():
    """Every order of every customer on the same day (an opening day, a one-day import):
    no repeat purchase day exists, so no purchase model; the fallback is finite and 0."""
    rng = np.random.default_rng(8)
    owner = np.repeat(np.arange(300), rng.integers(1, 6, 300))
    tx = pd.DataFrame({"customer": owner, "date": START, "amount": rng.gamma(2.0, 20.0, len(owner))})
    s = summary_of(tx, end=str(START))
    assert (s["T"] == 0).all() and (s["frequency"] == 0).all()
    with pytest.raises(ModelUnusable) as raised:
        BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])
    fallback = heuristic_clv(s["frequency"], s["recency"], s["T"], s["total_spend"], reason=str(raised.value))
    assert np.isfinite(fallback.clv).all() and (fallback.clv == 0).all()
    assert np.isfinite(fallback.average_value).all() and (fallback.average_value > 0).all()


def test_same_day_buyers_mixed_into_a_normal_base_stay_finite():
    """A third of the customers placed all their orders on their first day (frequency 0 and
    T > 0): their predictions are finite like everybody else's."""
    base = buy_till_you_die(
        1200, seed=9, rate_shape=0.5, rate_scale_days=25.0, dropout=lambda r, n: r.beta(1.0, 6.0, n)
    )
    same_day = base.groupby("customer")["date"].transform("min")
    base.loc[base["customer"] % 3 == 0, "date"] = same_day[base["customer"] % 3 == 0]
    s = summary_of(base)
    bg, gg = fit_quietly(s)
    assert_finite(predictions(bg, gg, s))
    assert_ordered(bg, gg, float(s["T"].median()), most=30)
    assert_agrees_with_lifetimes(bg, s)


def test_extreme_spend_outliers_give_finite_values_or_a_clear_fallback():
    """Five customers spend a million times the usual on every order. Gamma-Gamma either keeps
    a finite mean (q > 1) or says it cannot (ModelUnusable); either way every customer gets
    a finite CLV, and the outliers rank first."""
    tx = buy_till_you_die(
        1500, seed=11, rate_shape=0.6, rate_scale_days=20.0, dropout=lambda r, n: r.beta(1.0, 5.0, n)
    )
    whales = tx["customer"].isin(range(5))
    tx.loc[whales, "amount"] *= 1e6
    s = summary_of(tx)
    bg = BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])
    repeat = s["frequency"] > 0
    gg = GammaGammaModel().fit(s.loc[repeat, "frequency"], s.loc[repeat, "monetary_value"])
    columns = [s[c].to_numpy(float) for c in ("frequency", "recency", "T")]
    try:
        clv = customer_lifetime_value(bg, gg, *columns, s["monetary_value"])
    except ModelUnusable as error:
        clv = heuristic_clv(*columns, s["total_spend"], reason=str(error), bgnbd=bg).clv
    assert np.isfinite(clv).all() and (clv >= 0).all()
    assert np.argmax(clv) < 5  # the most valuable customer is one of them
    assert_agrees_with_lifetimes(bg, s)


def test_a_spend_model_without_a_finite_mean_says_so():
    """q <= 1 (the spend distribution has no mean): the model refuses to value customers."""
    gg = GammaGammaModel.from_dict({"params": {"p": 2.0, "q": 0.8, "v": 10.0}})
    with pytest.raises(ModelUnusable, match="no finite mean"):
        gg.expected_average_value([0, 3], [0.0, 20.0])


def test_zero_and_negative_amounts_mixed_in_give_finite_non_negative_values():
    """One order in eight is free and one in ten a refund (negative): the spend model is fitted
    on positive means only, and customers whose repeat purchases net to zero or less are valued
    as having spent nothing (never a negative or NaN value)."""
    tx = buy_till_you_die(
        1500, seed=12, rate_shape=0.6, rate_scale_days=20.0, dropout=lambda r, n: r.beta(1.0, 5.0, n)
    )
    rng = np.random.default_rng(12)
    draw = rng.random(len(tx))
    tx.loc[draw < 0.125, "amount"] = 0.0
    tx.loc[draw > 0.9, "amount"] *= -1.0
    s = summary_of(tx)
    assert (s.loc[s["frequency"] > 0, "monetary_value"] <= 0).any()
    bg, gg = fit_quietly(s)
    scores = predictions(bg, gg, s)
    assert_finite(scores)
    assert_ordered(bg, gg, float(s["T"].median()), most=30)
    value = gg.expected_average_value(s["frequency"], s["monetary_value"])
    assert np.isfinite(value).all() and (value > 0).all()
    assert_agrees_with_lifetimes(bg, s)


def test_spend_too_heavy_tailed_for_a_mean_falls_back_to_the_labelled_heuristic():
    """Customers' spend levels nu ~ Gamma(0.6, 1): the fitted q is below 1, so the spend
    distribution has no mean. The CLV says so and every customer gets the heuristic value
    (historical spend per purchase x the BG/NBD's purchases), finite and ordered by it."""
    tx = buy_till_you_die(
        1500,
        seed=13,
        rate_shape=0.6,
        rate_scale_days=20.0,
        dropout=lambda r, n: r.beta(1.0, 5.0, n),
        spend_q=0.6,
        spend_gamma=1.0,
    )
    s = summary_of(tx)
    bg, gg = fit_quietly(s)
    assert gg.q_ < 1.0
    columns = [s[c].to_numpy(float) for c in ("frequency", "recency", "T")]
    with pytest.raises(ModelUnusable, match="no finite mean") as raised:
        customer_lifetime_value(bg, gg, *columns, s["monetary_value"])
    fallback = heuristic_clv(*columns, s["total_spend"], reason=str(raised.value), bgnbd=bg)
    assert fallback.method == "spend_x_model_purchases" and "q = 0.628" in fallback.reason
    assert np.isfinite(fallback.clv).all() and (fallback.clv >= 0).all()
    purchases = bg.expected_purchases(YEAR, *columns)
    np.testing.assert_allclose(fallback.expected_purchases, purchases, rtol=1e-9)
    # the same history, more spent per purchase so far -> a higher value
    frame = s[["frequency", "recency", "T"]].assign(value=fallback.average_value, clv=fallback.clv)
    frame = frame.sort_values(["frequency", "recency", "T", "value"])
    steps = frame.groupby(["frequency", "recency", "T"])["clv"].diff().dropna()
    assert len(steps) > 50 and (steps >= 0).all()
