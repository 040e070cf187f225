"""Tests of association rules, the co-purchase recommender and the hit-rate holdout."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics.pairwise import cosine_similarity

from solocrm.analytics.basket import (
    CoPurchaseRecommender,
    MostPopularRecommender,
    association_rules,
    hit_rate_holdout,
)

# Tan, Steinbach & Kumar, "Introduction to Data Mining" (2006), Table 6.1: the market-basket
# transactions used throughout chapter 6.
TAN = [
    {"Bread", "Milk"},
    {"Bread", "Diapers", "Beer", "Eggs"},
    {"Milk", "Diapers", "Beer", "Cola"},
    {"Bread", "Milk", "Diapers", "Beer"},
    {"Bread", "Milk", "Diapers", "Cola"},
]


def _rule(rules: pd.DataFrame, antecedent: tuple, consequent: tuple) -> pd.Series:
    match = rules[(rules["antecedent"] == antecedent) & (rules["consequent"] == consequent)]
    assert len(match) == 1, f"{antecedent} -> {consequent} not found"
    return match.iloc[0]


def test_rules_match_the_worked_example_of_tan_steinbach_kumar():
    """Tan et al. ch. 6.1: {Milk, Diapers} -> {Beer} has support 2/5 = 0.4 and confidence
    2/3 = 0.67. From Table 6.1 by hand: {Diapers} -> {Beer} support 3/5, confidence 3/4,
    lift 0.75 / 0.6 = 1.25; {Beer} -> {Diapers} confidence 1."""
    rules = association_rules(TAN, min_support=0.2, min_confidence=0.0, max_len=3)
    three = _rule(rules, ("Diapers", "Milk"), ("Beer",))
    assert three["support"] == pytest.approx(0.4, abs=1e-12)
    assert three["confidence"] == pytest.approx(2 / 3, abs=1e-12)
    assert three["lift"] == pytest.approx((2 / 3) / 0.6, abs=1e-12)
    pair = _rule(rules, ("Diapers",), ("Beer",))
    assert (pair["support"], pair["confidence"], pair["lift"]) == pytest.approx((0.6, 0.75, 1.25), abs=1e-12)
    assert _rule(rules, ("Beer",), ("Diapers",))["confidence"] == pytest.approx(1.0, abs=1e-12)


def test_apriori_pruning_matches_tan_figure_6_5():
    """Tan et al. Fig. 6.5 (minsup = 60%, count 3): the frequent itemsets are the four items
    Bread, Milk, Diapers, Beer and the pairs {Bread, Milk}, {Bread, Diapers}, {Milk, Diapers},
    {Beer, Diapers}; no 3-itemset is frequent ({Bread, Milk, Diapers} has count 2). So there
    are exactly 8 rules, two per frequent pair."""
    rules = association_rules(TAN, min_support=0.6, min_confidence=0.0, max_len=3)
    pairs = {frozenset(a + c) for a, c in zip(rules["antecedent"], rules["consequent"], strict=True)}
    expected = [("Bread", "Milk"), ("Bread", "Diapers"), ("Diapers", "Milk"), ("Beer", "Diapers")]
    assert pairs == {frozenset(p) for p in expected}
    assert len(rules) == 8 and (rules["count"] == 3).all()


def test_a_long_basket_item_frame_gives_the_same_rules_as_lists():
    long = pd.DataFrame([(i, item) for i, basket in enumerate(TAN) for item in sorted(basket)])
    from_lists = association_rules(TAN, min_support=0.2, min_confidence=0.3)
    from_frame = association_rules(long, min_support=0.2, min_confidence=0.3)
    pd.testing.assert_frame_equal(from_lists, from_frame)
    assert (from_lists["confidence"] >= 0.3).all() and list(from_lists.columns[:5]) == [
        "antecedent", "consequent", "support", "confidence", "lift",
    ]  # fmt: skip


def test_sparse_counts_agree_with_a_brute_force_count_on_random_baskets():
    rng = np.random.default_rng(5)
    baskets = [set(rng.choice(12, size=rng.integers(1, 5), replace=False).tolist()) for _ in range(300)]
    rules = association_rules(baskets, min_support=0.02, min_confidence=0.0, max_len=2)
    n = len(baskets)
    for _, rule in rules.sample(20, random_state=0).iterrows():
        a, c = rule["antecedent"][0], rule["consequent"][0]
        both = sum(a in b and c in b for b in baskets)
        with_a = sum(a in b for b in baskets)
        with_c = sum(c in b for b in baskets)
        assert rule["support"] == pytest.approx(both / n, abs=1e-12)
        assert rule["confidence"] == pytest.approx(both / with_a, abs=1e-12)
        assert rule["lift"] == pytest.approx(both * n / (with_a * with_c), abs=1e-12)


@pytest.mark.parametrize(
    ("baskets", "kwargs", "message"),
    [
        ([], {}, "No baskets"),
        ([[], []], {}, "empty"),
        (["Milk", "Bread"], {}, "collection of items"),
        (TAN, {"min_support": 0}, "min_support"),
        (TAN, {"max_len": 1}, "max_len"),
    ],
)
def test_rules_reject_bad_input(baskets, kwargs, message):
    with pytest.raises(ValueError, match=message):
        association_rules(baskets, **kwargs)


# --------------------------------------------------------------------------- recommender

CUSTOMERS = ["ann", "ann", "bob", "bob", "bob", "cat", "cat", "dan", "eve"]
ITEMS = ["tea", "cup", "tea", "cup", "pot", "tea", "pot", "honey", "tea"]


def test_item_similarity_is_the_cosine_over_the_customer_item_matrix():
    """Linden, Smith & York (2003): sim(i, j) = cos(B[:, i], B[:, j])."""
    model = CoPurchaseRecommender(n=2).fit(CUSTOMERS, ITEMS)
    matrix = model.matrix_.toarray()
    expected = cosine_similarity(matrix.T)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(model.similarity_.toarray(), expected, atol=1e-12)


def test_recommendations_skip_owned_items_and_fall_back_to_popular():
    model = CoPurchaseRecommender(n=2).fit(CUSTOMERS, ITEMS)
    recs = model.recommend(["ann", "dan", "zoe"])
    ann = recs[recs["customer"] == "ann"]
    assert ann["item"].tolist() == ["pot", "honey"] and ann["source"].tolist() == ["co_purchase", "popular"]
    assert ann["rank"].tolist() == [1, 2]
    # dan only bought honey, which nobody else bought: no co-purchase signal.
    dan = recs[recs["customer"] == "dan"]
    assert dan["item"].tolist() == ["tea", "cup"] and (dan["source"] == "popular").all()
    assert recs[recs["customer"] == "zoe"]["item"].tolist() == ["tea", "cup"]  # unknown customer
    owned = set(zip(CUSTOMERS, ITEMS, strict=True))
    assert not any((c, i) in owned for c, i in zip(recs["customer"], recs["item"], strict=True))
    json.dumps(model.to_dict())


def test_most_popular_recommends_by_distinct_buyers():
    model = MostPopularRecommender(n=3).fit([*CUSTOMERS, "ann"], [*ITEMS, "tea"])  # repeats count once
    assert model.popularity_.to_dict() == {"tea": 4, "cup": 2, "pot": 2, "honey": 1}
    assert model.recommend(["eve"])["item"].tolist() == ["cup", "pot", "honey"]
    with pytest.raises(ValueError, match="fit"):
        MostPopularRecommender().recommend()


def test_co_purchase_beats_most_popular_on_a_holdout_with_real_structure():
    """Simulated shop (fixed seed): products come in families of 5 and customers buy within
    one family, with a few global bestsellers as noise. Co-purchase should find the family."""
    rng = np.random.default_rng(0)
    n = 2000
    family = rng.integers(0, 20, n)
    first = family[:, None] * 5 + rng.integers(0, 5, (n, 3))
    later = family * 5 + rng.integers(0, 5, n)
    noise = rng.integers(100, 103, n)
    customers = np.concatenate([np.repeat(np.arange(n), 3), np.arange(n), np.arange(n)])
    items = np.concatenate([first.ravel(), noise, later])
    dates = np.concatenate([np.full(3 * n, "2024-01-10"), np.full(n, "2024-02-10"), np.full(n, "2024-06-01")])
    report = hit_rate_holdout(customers, items, dates, split_date="2024-05-01", n=3)
    assert report["customers"] == n
    assert report["hit_rate"] > 0.5 > report["baseline_hit_rate"]
    assert report["lift"] > 2


def test_hit_rate_rejects_bad_input():
    with pytest.raises(ValueError, match="dates has 1"):
        hit_rate_holdout(["a", "b"], ["x", "y"], ["2024-01-01"], split_date="2024-02-01")
    with pytest.raises(ValueError, match="both before and after"):
        hit_rate_holdout(["a", "b"], ["x", "y"], ["2024-01-01", "2024-03-01"], split_date="2024-02-01")
    with pytest.raises(ValueError, match="missing"):
        CoPurchaseRecommender().fit(["a", None], ["x", "y"])
