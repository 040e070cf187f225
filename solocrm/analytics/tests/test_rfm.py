"""RFM quintile scores and the eleven named segments (``solocrm.analytics.rfm``).

The segment grid is the published Putler table (https://www.putler.com/rfm-analysis/), read as
ranges on a 0..5 axis where score k covers (k - 1, k]; the expected grid below is that table
drawn cell by cell. Scores follow Hughes (1994), *Strategic Database Marketing*: quintiles with
5 = best, here by mid-rank percentile (Hyndman & Fan 1996, definition 5).
"""

import ast
import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import solocrm.analytics.rfm as rfm_module
from solocrm.analytics.choices import RfmSegment
from solocrm.analytics.rfm import NO_SEGMENT, SEGMENT_RULES, rfm_scores, rfm_segment, segment_grid

# Rows R = 5..1, columns F + M = 2..10 (FM = 1, 1.5, ..., 5), abbreviated codes.
EXPECTED_GRID = """
R5: new  pot  pot  pot  pot  loy  loy  cha  cha
R4: pro  pot  pot  pot  pot  loy  loy  loy  loy
R3: abo  abo  abo  nee  nee  loy  loy  loy  loy
R2: los  hib  hib  atr  atr  atr  atr  atr  atr
R1: los  los  los  atr  atr  atr  atr  can  can
"""
ABBREVIATIONS = {
    "cha": "champions",
    "loy": "loyal",
    "pot": "potential_loyalist",
    "new": "new",
    "pro": "promising",
    "nee": "need_attention",
    "abo": "about_to_sleep",
    "atr": "at_risk",
    "can": "cant_lose",
    "hib": "hibernating",
    "los": "lost",
}


def _expected(r: int, f: int, m: int) -> str:
    rows = {line[:2]: line[3:].split() for line in EXPECTED_GRID.strip().splitlines()}
    return ABBREVIATIONS[rows[f"R{r}"][f + m - 2]]


def test_every_one_of_the_125_score_combinations_maps_to_exactly_one_segment():
    """Exhaustive over R, F, M in 1..5: exactly one rule wins, and it is the published cell."""
    combos = np.array(list(itertools.product(range(1, 6), repeat=3)))
    segments = rfm_segment(combos[:, 0], combos[:, 1], combos[:, 2])
    assert len(segments) == 125
    assert NO_SEGMENT not in set(segments)
    for (r, f, m), segment in zip(combos, segments, strict=True):
        assert segment == _expected(r, f, m), (r, f, m)
    assert set(segments) == set(SEGMENT_RULES)


def test_published_rectangles_cover_the_grid_and_overlap_only_in_three_nested_pairs():
    """Putler's ranges tile the grid; the only overlaps are a specific segment inside a broad one,
    and the specific one is listed first so it wins."""
    r, f_plus_m = np.meshgrid(np.arange(1, 6), np.arange(2, 11), indexing="ij")
    masks = {code: rule.matches(r, f_plus_m / 2) for code, rule in SEGMENT_RULES.items()}
    assert (sum(masks.values()) >= 1).all()
    overlaps = {(a, b) for a, b in itertools.combinations(SEGMENT_RULES, 2) if (masks[a] & masks[b]).any()}
    assert overlaps == {("champions", "loyal"), ("cant_lose", "at_risk"), ("hibernating", "lost")}
    for inner, outer in overlaps:
        assert not (masks[inner] & ~masks[outer]).any()  # nested, not just touching


def test_the_5_by_5_map_for_drawing_is_exact_for_every_combination():
    """Column c of the map holds every customer with (F + M) / 2 in (c - 1, c]."""
    grid = segment_grid()
    assert list(grid) == [5, 4, 3, 2, 1]
    for r, f, m in itertools.product(range(1, 6), repeat=3):
        column = math.ceil((f + m) / 2)
        assert grid[r][column - 1] == rfm_segment([r], [f], [m])[0]


def test_segment_rules_document_every_segment_with_name_rule_and_action():
    assert list(SEGMENT_RULES) == [
        "champions",
        "loyal",
        "potential_loyalist",
        "new",
        "promising",
        "need_attention",
        "about_to_sleep",
        "cant_lose",
        "at_risk",
        "hibernating",
        "lost",
    ]
    assert set(SEGMENT_RULES) == set(RfmSegment.values)
    for code, rule in SEGMENT_RULES.items():
        assert rule.code == code
        assert rule.name and rule.rule and rule.description and rule.action


def test_scores_of_a_hand_checkable_example():
    """Five customers, no ties: ranks 1..5 give p = 0.1, 0.3, 0.5, 0.7, 0.9, i.e. scores 1..5."""
    scores = rfm_scores(
        days_since_last=[400, 3, 30, 90, 10],
        frequency=[1, 12, 4, 2, 6],
        monetary=[20.0, 900.0, 150.0, 60.0, 300.0],
    )
    assert scores["r"].tolist() == [1, 5, 3, 2, 4]
    assert scores["f"].tolist() == [1, 5, 3, 2, 4]
    assert scores["m"].tolist() == [1, 5, 3, 2, 4]
    segments = rfm_segment(scores["r"], scores["f"], scores["m"])
    assert segments.tolist() == ["lost", "champions", "need_attention", "hibernating", "loyal"]


def test_ties_share_a_score_and_get_the_quintile_of_their_middle():
    """Six one-order customers out of ten occupy ranks 1..6 (middle 3.5, p = 0.3): all score 2."""
    frequency = [1, 1, 1, 1, 1, 1, 2, 3, 5, 8]
    scores = rfm_scores(np.arange(10.0), frequency, np.ones(10))
    assert scores["f"].tolist() == [2, 2, 2, 2, 2, 2, 4, 4, 5, 5]
    assert scores["m"].tolist() == [3] * 10  # everybody equal: the middle score


def test_it_gives_sensible_scores_with_fewer_customers_than_bins():
    assert rfm_scores([5], [1], [10.0]).iloc[0].tolist() == [3, 3, 3]
    assert rfm_scores([5, 50], [3, 1], [10.0, 5.0])["r"].tolist() == [4, 2]
    assert rfm_scores([1, 2, 3], [3, 2, 1], [3.0, 2.0, 1.0])["f"].tolist() == [5, 3, 1]


def test_scores_do_not_depend_on_the_order_of_the_rows():
    rng = np.random.default_rng(7)
    days, freq, money = rng.integers(0, 50, 200), rng.integers(1, 4, 200), rng.integers(1, 5, 200) * 10.0
    order = rng.permutation(200)
    direct = rfm_scores(days, freq, money).to_numpy()
    shuffled = rfm_scores(days[order], freq[order], money[order]).to_numpy()
    np.testing.assert_array_equal(direct[order], shuffled)


def test_quintiles_are_equal_sized_without_ties():
    scores = rfm_scores(np.arange(1000.0), np.arange(1000), np.arange(1000.0))
    assert scores["f"].value_counts().sort_index().tolist() == [200] * 5


def test_customers_without_purchases_get_no_score_and_no_segment():
    scores = rfm_scores(
        pd.Series([2.0, np.nan, 40.0], index=["a", "b", "c"]), [3, 0, 1], [100.0, np.nan, 10.0]
    )
    assert list(scores.index) == ["a", "b", "c"]
    assert str(scores["r"].dtype) == "Int8"
    assert scores.loc["b"].isna().all()
    assert scores.loc[["a", "c"], "r"].tolist() == [4, 2]  # ranked among the two buyers only
    assert rfm_segment(scores["r"], scores["f"], scores["m"]).tolist() == ["loyal", NO_SEGMENT, "hibernating"]


def test_nobody_bought_gives_all_missing_scores():
    scores = rfm_scores([np.nan, np.nan], [0, 0], [0.0, 0.0])
    assert scores.isna().all().all()


@pytest.mark.parametrize(
    ("days", "freq", "money", "message"),
    [
        ([], [], [], "empty"),
        ([1, 2], [1], [1.0, 2.0], "same length"),
        ([1, -2], [1, 1], [1.0, 2.0], "negative"),
        ([1, 2], [1, np.nan], [1.0, 2.0], "NaN"),
        ([1, np.inf], [1, 1], [1.0, 2.0], "infinite"),
        ([1, 2], [1, 1], ["a", "b"], "numbers"),
    ],
)
def test_it_rejects_bad_input_with_a_clear_message(days, freq, money, message):
    with pytest.raises(ValueError, match=message):
        rfm_scores(days, freq, money)


def test_it_rejects_bins_below_two():
    with pytest.raises(ValueError, match="bins"):
        rfm_scores([1, 2], [1, 2], [1.0, 2.0], bins=1)


@pytest.mark.parametrize("bad", [[0], [6], [2.5]])
def test_segment_rejects_scores_outside_one_to_five(bad):
    with pytest.raises(ValueError, match="1 to 5"):
        rfm_segment(bad, [1], [1])


def test_segment_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        rfm_segment([1, 2], [1], [1])


def test_one_million_customers_are_scored_and_segmented():
    """Performance sanity (timing lives in bench/): 1M customers, 10% without purchases."""
    rng = np.random.default_rng(0)
    n = 1_000_000
    days = rng.exponential(120, n)
    days[rng.random(n) < 0.1] = np.nan
    scores = rfm_scores(days, rng.poisson(2, n), rng.lognormal(4, 1, n))
    segments = rfm_segment(scores["r"], scores["f"], scores["m"])
    assert len(segments) == n
    assert (segments == NO_SEGMENT).sum() == np.isnan(days).sum()
    assert set(np.unique(segments)) <= {*SEGMENT_RULES, NO_SEGMENT}


def test_module_does_not_import_django():
    """The analytics core is a library usable from a notebook without Django: no django import and
    no relative import of a Django-aware module."""
    tree = ast.parse(Path(rfm_module.__file__).read_text(encoding="utf-8"))
    absolute = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    absolute |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0}
    relative = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level > 0}
    assert not [name for name in absolute if name.split(".")[0] in ("django", "solocrm")]
    assert relative <= set()
