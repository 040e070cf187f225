"""NPS, CSAT, CES and their trend (``solocrm.analytics.nps``), against published worked examples.

Sources: the issue text (NPS of [9, 7, 5, 1, 10] is 0); Delighted's NPS example
(https://help.delighted.com/article/531-nps-surveys: 10 promoters, 5 passives, 5 detractors ->
25); DELA's annual-report glossary (30% promoters, 20% detractors -> +10); Delighted's CSAT
example (https://help.delighted.com/article/240-how-is-csat-calculated: 42 fives, 32 fours,
10 threes, 9 twos, 14 ones -> 74/107 = 69.16); CYS Group's CES 2.0 example
(https://support.cys.group/support/solutions/articles/3000095529: 1000 answers on 1..7 summing
to 4080 -> 4.08). The NPS margin uses Rocks (2016), The American Statistician 70(4).
"""

import ast
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import solocrm.analytics.nps as nps_module
from solocrm.analytics.nps import ces, csat, nps, nps_breakdown, satisfaction_trend


def _answers(counts: dict[int, int]) -> list[int]:
    return [score for score, n in counts.items() for _ in range(n)]


def test_nps_of_the_issue_example_is_zero():
    assert nps([9, 7, 5, 1, 10]) == 0.0


def test_nps_of_delighted_worked_example_is_25():
    scores = _answers({10: 6, 9: 4, 8: 3, 7: 2, 6: 2, 3: 3})
    assert nps(scores) == pytest.approx(25.0, abs=1e-12)
    breakdown = nps_breakdown(scores)
    assert (breakdown["promoters"], breakdown["passives"], breakdown["detractors"]) == (10, 5, 5)
    assert breakdown["promoters_pct"] == pytest.approx(50.0)


def test_nps_of_dela_worked_example_is_plus_10():
    scores = _answers({9: 30, 8: 50, 0: 20})
    assert nps(scores) == pytest.approx(10.0, abs=1e-12)


def test_nps_spans_minus_100_to_100():
    assert nps([10, 9, 9]) == 100.0
    assert nps([0, 6, 3]) == -100.0
    assert nps([7, 8]) == 0.0


def test_csat_of_delighted_worked_example_is_69_16():
    scores = _answers({5: 42, 4: 32, 3: 10, 2: 9, 1: 14})
    assert csat(scores) == pytest.approx(69.16, abs=0.005)


def test_csat_is_a_share_of_satisfied_answers_not_a_mean():
    scores = [5, 5, 1, 1]  # mean 3/5 = 60%, but half are satisfied
    assert csat(scores) == 50.0


def test_ces_of_cys_group_worked_example_is_4_08():
    scores = _answers({1: 80, 2: 210, 3: 140, 4: 110, 5: 160, 6: 180, 7: 120})
    assert ces(scores) == pytest.approx(4.08, abs=1e-12)


def test_no_responses_give_none():
    assert nps([]) is None
    assert csat([]) is None
    assert ces([]) is None
    assert nps_breakdown([]) is None


@pytest.mark.parametrize(
    ("function", "scores", "message"),
    [
        (nps, [11], "0 to 10"),
        (nps, [-1], "0 to 10"),
        (nps, [7.5], "whole numbers"),
        (nps, [np.nan], "0 to 10"),
        (csat, [0], "1 to 5"),
        (csat, [6], "1 to 5"),
        (ces, [8], "1 to 7"),
        (ces, ["x"], "numbers"),
    ],
)
def test_out_of_range_scores_are_rejected_with_a_clear_message(function, scores, message):
    with pytest.raises(ValueError, match=message):
        function(scores)


def test_trend_computes_each_period_from_raw_answers():
    dates = ["2024-01-03", "2024-01-20", "2024-01-25", "2024-02-01", "2024-02-02", "2024-01-09", "2024-01-10"]
    metric = ["nps", "nps", "nps", "nps", "csat", "ces", "ces"]
    scores = [10, 3, 8, 9, 4, 7, 5]
    trend = satisfaction_trend(dates, metric, scores)
    assert list(trend.columns) == ["period", "metric", "value", "responses", "margin"]
    rows = {
        (p, m): (v, n) for p, m, v, n in trend[["period", "metric", "value", "responses"]].itertuples(False)
    }
    assert rows == {
        ("2024-01", "ces"): (6.0, 2),
        ("2024-01", "nps"): (0.0, 3),
        ("2024-02", "csat"): (100.0, 1),
        ("2024-02", "nps"): (100.0, 1),
    }
    assert math.isnan(trend.set_index(["period", "metric"]).loc[("2024-02", "nps"), "margin"])


def test_trend_margin_of_nps_follows_the_multinomial_variance():
    """Delighted example: p_P = 0.5, p_D = 0.25, n = 20.
    Var = 0.5 + 0.25 - 0.25^2 = 0.6875; margin = 1.96 * 100 * sqrt(0.6875 / 20) = 36.34."""
    scores = _answers({10: 10, 7: 5, 2: 5})
    trend = satisfaction_trend(["2024-03-01"] * 20, ["nps"] * 20, scores)
    assert trend.loc[0, "value"] == pytest.approx(25.0)
    assert trend.loc[0, "margin"] == pytest.approx(1.959964 * 100 * math.sqrt(0.6875 / 20), rel=1e-6)


def test_trend_per_group_weights_answers_not_groups():
    """Two segments: NPS 100 on 1 answer and 0 on 9 answers. Pooled NPS is 10, not (100 + 0) / 2."""
    scores = [10, 9, 9, 9, 0, 0, 0, 7, 7, 8]  # the vip first
    groups = ["vip"] + ["other"] * 9
    dates = ["2024-05-01"] * 10
    by_group = satisfaction_trend(dates, ["nps"] * 10, scores, groups=groups, freq="Q")
    assert dict(zip(by_group["group"], by_group["value"], strict=True)) == {"other": 0.0, "vip": 100.0}
    pooled = satisfaction_trend(dates, ["nps"] * 10, scores, freq="Q")
    assert pooled.loc[0, "value"] == pytest.approx(10.0)
    assert pooled.loc[0, "period"] == "2024Q2"


def test_trend_keeps_answers_without_a_group():
    trend = satisfaction_trend(["2024-01-01"] * 2, ["csat", "csat"], [5, 1], groups=["a", None])
    assert len(trend) == 2


def test_trend_from_database_counts_equals_the_trend_from_single_answers():
    """queries.py counts answers per (month, metric, score, segment); counts weigh the rows."""
    rng = np.random.default_rng(12)
    n = 2_000
    metric = rng.choice(["nps", "csat", "ces"], n)
    scores = np.select([metric == "nps", metric == "csat"], [rng.integers(0, 11, n), rng.integers(1, 6, n)])
    scores = np.where(metric == "ces", rng.integers(1, 8, n), scores)
    answers = pd.DataFrame(
        {
            "month": rng.choice(["2024-01", "2024-02", "2024-03"], n),
            "metric": metric,
            "score": scores,
            "segment": rng.choice(["loyal", "lost", ""], n),
        }
    )
    single = satisfaction_trend(
        answers["month"], answers["metric"], answers["score"], groups=answers["segment"]
    )
    counted = answers.value_counts().rename("answers").reset_index()
    weighted = satisfaction_trend(
        counted["month"],
        counted["metric"],
        counted["score"],
        groups=counted["segment"],
        counts=counted["answers"],
    )
    pd.testing.assert_frame_equal(weighted, single, check_exact=False, rtol=1e-9)


def test_trend_without_a_frequency_gives_the_all_time_figures():
    trend = satisfaction_trend(["2023-01-05", "2024-07-01"], ["nps", "nps"], [10, 0], freq=None)
    assert trend[["period", "value", "responses"]].values.tolist() == [["all", 0.0, 2]]


def test_trend_rejects_bad_counts_and_unknown_frequencies():
    with pytest.raises(ValueError, match="counts"):
        satisfaction_trend(["2024-01-01"], ["nps"], [9], counts=[-2])
    with pytest.raises(ValueError, match="freq"):
        satisfaction_trend(["2024-01-01"], ["nps"], [9], freq="fortnight")


def test_trend_of_no_answers_is_an_empty_frame():
    trend = satisfaction_trend([], [], [])
    assert trend.empty
    assert list(trend.columns) == ["period", "metric", "value", "responses", "margin"]


@pytest.mark.parametrize(
    ("dates", "metric", "scores", "message"),
    [
        (["2024-01-01"], ["nps", "nps"], [1, 2], "same length"),
        (["2024-01-01"], ["stars"], [4], "unknown metric"),
        (["2024-01-01"], ["csat"], [9], "1 to 5"),
        ([None], ["nps"], [9], "dates"),
        (["soon"], ["nps"], [9], "dates"),
        ([24291], ["nps"], [9], "not numbers"),
    ],
)
def test_trend_rejects_bad_input_with_a_clear_message(dates, metric, scores, message):
    with pytest.raises(ValueError, match=message):
        satisfaction_trend(dates, metric, scores)


def test_trend_handles_many_answers():
    rng = np.random.default_rng(3)
    n = 200_000
    metric = rng.choice(["nps", "csat", "ces"], n)
    high = np.select([metric == "nps", metric == "csat"], [11, 6], 8)
    low = np.where(metric == "nps", 0, 1)
    scores = rng.integers(low, high)
    dates = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    trend = satisfaction_trend(dates, metric, scores)
    assert trend["responses"].sum() == n
    assert len(trend) == 36


def test_module_does_not_import_django():
    """The analytics core is a library usable from a notebook without Django: no django import and
    no relative import of a Django-aware module."""
    tree = ast.parse(Path(nps_module.__file__).read_text(encoding="utf-8"))
    absolute = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    absolute |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0}
    relative = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level > 0}
    assert not [name for name in absolute if name.split(".")[0] in ("django", "solocrm")]
    assert relative <= set()
