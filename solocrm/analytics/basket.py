"""Market-basket analysis: association rules and "customers who bought X also bought Y".

Django-free. Everything is a sparse-matrix product: baskets (or customers) x items as a
``scipy.sparse`` 0/1 matrix ``B``, co-occurrence counts as ``B.T @ B``. No Python loop runs
over baskets or customers, so a million orders take seconds.

References
----------
.. [1] Agrawal, R., Imieliński, T. & Swami, A. (1993). Mining association rules between sets
   of items in large databases. *Proc. ACM SIGMOD*, 207-216.
.. [2] Agrawal, R. & Srikant, R. (1994). Fast algorithms for mining association rules.
   *Proc. 20th VLDB*, 487-499 (Apriori: every subset of a frequent itemset is frequent).
.. [3] Brin, S., Motwani, R., Ullman, J. D. & Tsur, S. (1997). Dynamic itemset counting and
   implication rules for market basket data. *Proc. ACM SIGMOD*, 255-264 (lift, "interest").
.. [4] Linden, G., Smith, B. & York, J. (2003). Amazon.com recommendations: item-to-item
   collaborative filtering. *IEEE Internet Computing* 7(1), 76-80.
.. [5] Tan, P.-N., Steinbach, M. & Kumar, V. (2006). *Introduction to Data Mining*, ch. 6.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = [
    "CoPurchaseRecommender",
    "MostPopularRecommender",
    "association_rules",
    "hit_rate_holdout",
]

_CHUNK_CELLS = 4_000_000  # dense scores per chunk of customers (~32 MB of float64)


# --------------------------------------------------------------------------- input


def _pairs(owners: Any, items: Any, what: str = "customer_ids") -> pd.DataFrame:
    left = pd.Series(owners).reset_index(drop=True)
    right = pd.Series(items).reset_index(drop=True)
    if len(left) == 0:
        raise ValueError(f"No purchases: {what} and items are empty.")
    if len(left) != len(right):
        raise ValueError(f"{what} has {len(left)} values but items has {len(right)}.")
    if left.isna().any() or right.isna().any():
        raise ValueError(f"Some {what} or items are missing (NaN/None).")
    return pd.DataFrame({"owner": left, "item": right})


def _to_utc_naive(values: Any) -> pd.Series:
    """Parse dates (mixed string formats too) to naive UTC timestamps; bad values become NaT."""
    series = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(series):
        parsed = pd.to_datetime(series, utc=True)
    else:
        parsed = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
    return parsed.dt.tz_localize(None)


def _baskets_frame(baskets: Any) -> pd.DataFrame:
    """Accept a list of item collections or a two-column (basket, item) frame."""
    if isinstance(baskets, pd.DataFrame):
        if baskets.shape[1] != 2:
            raise ValueError("A baskets DataFrame needs exactly two columns: basket id and item.")
        return _pairs(baskets.iloc[:, 0], baskets.iloc[:, 1], "basket ids")
    series = pd.Series(list(baskets), dtype=object)
    if series.empty:
        raise ValueError("No baskets given.")
    if series.map(lambda b: isinstance(b, str) or not isinstance(b, Iterable)).any():
        raise ValueError("Each basket must be a collection of items (a list or set), not a single item.")
    long = series.explode().dropna()
    if long.empty:
        raise ValueError("Every basket is empty.")
    frame = pd.DataFrame({"owner": long.index.to_numpy(), "item": long.to_numpy()})
    frame.attrs["n_baskets"] = len(series)  # empty baskets still count in N
    return frame


def _binary_matrix(
    owner_codes: np.ndarray, item_codes: np.ndarray, shape: tuple[int, int]
) -> sparse.csr_matrix:
    ones = np.ones(owner_codes.size, dtype=np.float64)
    matrix = sparse.csr_matrix((ones, (owner_codes, item_codes)), shape=shape)
    matrix.data[:] = 1.0  # duplicates were summed; an item is in a basket or not
    return matrix


# --------------------------------------------------------------------------- association rules


def association_rules(
    baskets: Sequence[Iterable[Any]] | pd.DataFrame,
    *,
    min_support: float = 0.01,
    min_confidence: float = 0.1,
    max_len: int = 2,
) -> pd.DataFrame:
    """Association rules ``X -> Y`` between frequent itemsets.

    With :math:`N` baskets and :math:`\\sigma(Z)` the number of baskets containing every item
    of :math:`Z`:

    .. math::
        \\mathrm{support}(X \\to Y) = \\frac{\\sigma(X \\cup Y)}{N}, \\quad
        \\mathrm{confidence}(X \\to Y) = \\frac{\\sigma(X \\cup Y)}{\\sigma(X)}, \\quad
        \\mathrm{lift}(X \\to Y) = \\frac{\\mathrm{confidence}(X \\to Y)}{\\sigma(Y)/N}

    Frequent itemsets are grown level by level (Apriori, [2]); the counts of every
    ``(k-1)``-itemset extended by one item come from one sparse product ``I.T @ B``, where
    ``I`` marks the baskets holding each ``(k-1)``-itemset.

    Parameters
    ----------
    baskets : list of collections, or DataFrame
        Either one collection of items per basket, or a long two-column frame
        ``(basket_id, item)`` as a database returns it.
    min_support : float, default 0.01
        Minimum support of the whole itemset :math:`X \\cup Y`.
    min_confidence : float, default 0.1
    max_len : int, default 2
        Largest itemset size (2 = pairs, rules of one item to one item).

    Returns
    -------
    pandas.DataFrame
        Columns ``antecedent`` and ``consequent`` (tuples of items, sorted), ``support``,
        ``confidence``, ``lift``, ``antecedent_support``, ``consequent_support``, ``count``;
        sorted by lift, then confidence. Lift above 1 means the items go together more than
        chance; confidence alone is misleading when the consequent is popular anyway ([3]).

    Raises
    ------
    ValueError
        No baskets, thresholds outside (0, 1], ``max_len < 2``.

    References
    ----------
    .. [1] Agrawal, Imieliński & Swami (1993): support and confidence.
    .. [2] Agrawal & Srikant (1994): the Apriori property.
    .. [3] Brin, Motwani, Ullman & Tsur (1997): lift ("interest").
    .. [5] Tan, Steinbach & Kumar (2006), ch. 6.2 and 6.7.
    """
    _check_thresholds(min_support, min_confidence, max_len)
    frame = _baskets_frame(baskets)
    basket_codes, basket_ids = pd.factorize(frame["owner"])
    n = int(frame.attrs.get("n_baskets", basket_ids.size))
    item_codes, items = pd.factorize(frame["item"])
    matrix = _binary_matrix(basket_codes, item_codes, (n, items.size)).tocsc()
    min_count = max(1, math.ceil(min_support * n - 1e-9))
    counts1 = np.asarray(matrix.sum(axis=0)).ravel()
    frequent = np.flatnonzero(counts1 >= min_count)
    levels = _frequent_itemsets(matrix[:, frequent], counts1[frequent], min_count, max_len)
    rules = [_rules_for_level(levels, k, n) for k in range(2, len(levels) + 1)]
    out = pd.concat(rules, ignore_index=True) if rules else _empty_rules()
    out = out[out["confidence"] >= min_confidence - 1e-12]
    labels = np.asarray(items, dtype=object)[frequent]
    for column in ("antecedent", "consequent"):
        out[column] = [tuple(sorted(labels[list(codes)], key=str)) for codes in out[column]]
    # Deterministic order: best rules first, ties by the items' names.
    keys = out.assign(_a=out["antecedent"].map(str), _c=out["consequent"].map(str))
    keys = keys.sort_values(["lift", "confidence", "support", "_a", "_c"], ascending=[False] * 3 + [True] * 2)
    return out.loc[keys.index].reset_index(drop=True)


def _check_thresholds(min_support: float, min_confidence: float, max_len: int) -> None:
    if not 0 < min_support <= 1:
        raise ValueError(f"min_support must be in (0, 1], not {min_support}.")
    if not 0 <= min_confidence <= 1:
        raise ValueError(f"min_confidence must be in [0, 1], not {min_confidence}.")
    if int(max_len) < 2:
        raise ValueError(f"max_len must be at least 2 (a rule needs two items), not {max_len}.")


def _frequent_itemsets(
    matrix: sparse.csc_matrix, counts1: np.ndarray, min_count: int, max_len: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``levels[k-1] = (itemsets (m x k) of column codes, sorted; their basket counts)``."""
    levels = [(np.arange(counts1.size)[:, None], counts1.astype(np.int64))]
    marks = matrix  # baskets x itemsets of the current level
    for _ in range(2, int(max_len) + 1):  # one pass per itemset size
        sets, _counts = levels[-1]
        grown = (marks.T @ matrix).tocoo()
        keep = (grown.col > sets[grown.row, -1]) & (grown.data >= min_count)
        rows, cols = grown.row[keep], grown.col[keep]
        if rows.size == 0:
            break
        levels.append((np.column_stack([sets[rows], cols]), np.rint(grown.data[keep]).astype(np.int64)))
        marks = marks[:, rows].multiply(matrix[:, cols]).tocsc()
    return levels


def _count_of(levels: list[tuple[np.ndarray, np.ndarray]], query: np.ndarray) -> np.ndarray:
    sets, counts = levels[query.shape[1] - 1]
    if query.shape[1] == 1:
        return counts[query[:, 0]]
    index = pd.MultiIndex.from_arrays(list(sets.T))
    return counts[index.get_indexer(pd.MultiIndex.from_arrays(list(query.T)))]


def _rules_for_level(levels: list[tuple[np.ndarray, np.ndarray]], k: int, n: int) -> pd.DataFrame:
    sets, counts = levels[k - 1]
    parts = []
    for size in range(1, k):  # split patterns of a k-itemset: 2**k - 2 of them
        for left in itertools.combinations(range(k), size):
            right = [p for p in range(k) if p not in left]
            ante, cons = sets[:, list(left)], sets[:, right]
            ante_count, cons_count = _count_of(levels, ante), _count_of(levels, cons)
            parts.append(
                pd.DataFrame(
                    {
                        "antecedent": list(map(tuple, ante)),
                        "consequent": list(map(tuple, cons)),
                        "support": counts / n,
                        "confidence": counts / ante_count,
                        "lift": counts * n / (ante_count * cons_count),
                        "antecedent_support": ante_count / n,
                        "consequent_support": cons_count / n,
                        "count": counts,
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def _empty_rules() -> pd.DataFrame:
    columns = ["antecedent", "consequent", "support", "confidence", "lift"]
    return pd.DataFrame(columns=[*columns, "antecedent_support", "consequent_support", "count"])


# --------------------------------------------------------------------------- recommenders


class MostPopularRecommender:
    """Baseline: the items bought by the most customers, minus what each already has.

    Parameters
    ----------
    n : int, default 5
        Recommendations per customer.

    Attributes
    ----------
    items_ : pandas.Index
    popularity_ : pandas.Series
        Distinct buyers per item.

    References
    ----------
    .. [1] Cremonesi, P., Koren, Y. & Turrin, R. (2010). Performance of recommender algorithms
       on top-N recommendation tasks. *Proc. RecSys*, 39-46 (the popularity baseline that
       sophisticated recommenders must beat).
    """

    source = "popular"

    def __init__(self, n: int = 5) -> None:
        if int(n) < 1:
            raise ValueError(f"n must be at least 1, not {n}.")
        self.n = int(n)

    def fit(
        self, customer_ids: Sequence[Any] | pd.Series, items: Sequence[Any] | pd.Series
    ) -> MostPopularRecommender:
        """Learn from one row per purchase (customer, item); repeats count once."""
        frame = _pairs(customer_ids, items)
        owner_codes, self.customers_ = pd.factorize(frame["owner"])
        item_codes, self.items_ = pd.factorize(frame["item"])
        self.matrix_ = _binary_matrix(owner_codes, item_codes, (self.customers_.size, self.items_.size))
        buyers = np.asarray(self.matrix_.sum(axis=0)).ravel()
        self.popularity_ = pd.Series(buyers, index=self.items_, name="buyers").sort_values(ascending=False)
        # Popularity mapped to [0, 1): ranks below any co-purchase score (see recommend).
        self._pop_key = buyers / (buyers.max() + 1.0)
        self._post_fit()
        return self

    def _post_fit(self) -> None:
        """Hook for subclasses."""

    def _scores(self, rows: sparse.csr_matrix) -> np.ndarray:
        return np.zeros(rows.shape, dtype=float)

    def recommend(self, customer_ids: Sequence[Any] | None = None, n: int | None = None) -> pd.DataFrame:
        """Top-``n`` items per customer, never one they already bought.

        Parameters
        ----------
        customer_ids : sequence, optional
            Customers to recommend for (default: everyone seen in ``fit``). Unknown customers
            get the most popular items.
        n : int, optional
            Overrides the ``n`` given at construction.

        Returns
        -------
        pandas.DataFrame
            ``customer, item, score, rank, source``: ``source`` is ``co_purchase`` when the
            item comes from co-purchase similarity and ``popular`` when it is the fallback
            (then ``score`` is 0). Fewer than ``n`` rows for a customer who owns almost
            everything.
        """
        if not hasattr(self, "matrix_"):
            raise ValueError("Call fit() before recommend().")
        top = self.n if n is None else int(n)
        if top < 1:
            raise ValueError(f"n must be at least 1, not {n}.")
        wanted = self.customers_ if customer_ids is None else pd.Index(pd.unique(pd.Series(customer_ids)))
        rows = self.customers_.get_indexer(wanted)
        history = self.matrix_[np.maximum(rows, 0)]
        history = sparse.diags((rows >= 0).astype(float)) @ history  # unknown customers own nothing
        top = min(top, self.items_.size)
        step = max(1, _CHUNK_CELLS // max(self.items_.size, 1))
        parts = [
            self._top_n(history[start : start + step], wanted[start : start + step], top)
            for start in range(0, wanted.size, step)  # chunks bound memory; each is vectorised
        ]
        if not parts:
            return pd.DataFrame(columns=["customer", "item", "score", "rank", "source"])
        return pd.concat(parts, ignore_index=True)

    def _top_n(self, history: sparse.csr_matrix, customers: pd.Index, top: int) -> pd.DataFrame:
        scores = self._scores(history)
        # Ranking key: any positive co-purchase score (>= 2) beats the popularity
        # fallback (< 1); items already bought (-1) never come up.
        key = np.where(scores > 0, scores + 2.0, self._pop_key[None, :])
        key[history.toarray() > 0] = -1.0
        best = np.argpartition(-key, top - 1, axis=1)[:, :top]
        order = np.argsort(-np.take_along_axis(key, best, axis=1), axis=1, kind="stable")
        best = np.take_along_axis(best, order, axis=1)
        chosen_key = np.take_along_axis(key, best, axis=1)
        keep = chosen_key.ravel() >= 0
        return pd.DataFrame(
            {
                "customer": np.repeat(np.asarray(customers, dtype=object), top)[keep],
                "item": np.asarray(self.items_, dtype=object)[best.ravel()][keep],
                "score": np.take_along_axis(scores, best, axis=1).ravel()[keep],
                "rank": np.tile(np.arange(1, top + 1), len(customers))[keep],
                "source": np.where(chosen_key.ravel() >= 2.0, "co_purchase", "popular")[keep],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: the popularity table (enough to rebuild the baseline's ranking)."""
        return {
            "kind": type(self).__name__,
            "n": self.n,
            "popularity": {str(k): int(v) for k, v in self.popularity_.items()},
        }


class CoPurchaseRecommender(MostPopularRecommender):
    """Item-to-item collaborative filtering on co-purchases (Linden, Smith & York 2003).

    Items are vectors over customers (1 = bought); their similarity is the cosine

    .. math:: \\mathrm{sim}(i, j) = \\frac{|C_i \\cap C_j|}{\\sqrt{|C_i|\\,|C_j|}}

    with :math:`C_i` the set of buyers of item :math:`i`, computed for all pairs at once as
    :math:`B^\\top B` scaled by the item norms. A customer's score for an item is the sum of its
    similarities to everything the customer bought; bought items are excluded and, where no
    co-purchase signal exists (new customers, or owners of only "lonely" items), the most
    popular items fill the list.

    Parameters
    ----------
    n : int, default 5
    neighbours : int, default 50
        Keep only each item's ``neighbours`` most similar items (the pruning in [1] that keeps
        the similarity table small and the recommendations focused).

    Attributes
    ----------
    similarity_ : scipy.sparse.csr_matrix
        Item x item cosine similarities (zero diagonal), rows pruned to ``neighbours``.

    Notes
    -----
    The "also bought" tables on many blogs use the raw co-purchase count or the confidence
    :math:`|C_i \\cap C_j| / |C_i|`; both rank bestsellers first for every item. The cosine
    divides by the popularity of *both* items, which is what makes the list specific.

    References
    ----------
    .. [1] Linden, Smith & York (2003). Amazon.com recommendations: item-to-item collaborative
       filtering. *IEEE Internet Computing* 7(1), 76-80.
    .. [2] Sarwar, B., Karypis, G., Konstan, J. & Riedl, J. (2001). Item-based collaborative
       filtering recommendation algorithms. *Proc. WWW10*, 285-295.
    """

    source = "co_purchase"

    def __init__(self, n: int = 5, neighbours: int = 50) -> None:
        super().__init__(n)
        if int(neighbours) < 1:
            raise ValueError(f"neighbours must be at least 1, not {neighbours}.")
        self.neighbours = int(neighbours)

    def _post_fit(self) -> None:
        counts = (self.matrix_.T @ self.matrix_).tocoo()
        off = counts.row != counts.col
        rows, cols, both = counts.row[off], counts.col[off], counts.data[off]
        norms = np.sqrt(np.asarray(self.matrix_.sum(axis=0)).ravel())
        cosine = both / (norms[rows] * norms[cols])
        order = np.lexsort((-cosine, rows))  # by item, most similar first
        rows, cols, cosine = rows[order], cols[order], cosine[order]
        starts = np.searchsorted(rows, rows, side="left")
        keep = (np.arange(rows.size) - starts) < self.neighbours
        size = self.items_.size
        self.similarity_ = sparse.csr_matrix((cosine[keep], (rows[keep], cols[keep])), shape=(size, size))

    def _scores(self, rows: sparse.csr_matrix) -> np.ndarray:
        return np.asarray((rows @ self.similarity_).toarray(), dtype=float)

    def to_dict(self) -> dict[str, Any]:
        """Popularity plus each item's top similar items (its "also bought" list)."""
        data = super().to_dict()
        coo = self.similarity_.tocoo()
        names = np.asarray(self.items_, dtype=object).astype(str)
        table = pd.DataFrame({"item": names[coo.row], "other": names[coo.col], "sim": coo.data})
        top = table.sort_values(["item", "sim"], ascending=[True, False]).groupby("item").head(10)
        data["neighbours"] = self.neighbours
        data["similar"] = {
            item: list(zip(group["other"], group["sim"].round(6).astype(float), strict=True))
            for item, group in top.groupby("item")
        }
        return data


# --------------------------------------------------------------------------- evaluation


def hit_rate_holdout(
    customer_ids: Sequence[Any] | pd.Series,
    items: Sequence[Any] | pd.Series,
    dates: Sequence[Any] | pd.Series,
    *,
    split_date: Any,
    n: int = 5,
    recommender: MostPopularRecommender | None = None,
) -> dict[str, Any]:
    """Hit rate of top-``n`` recommendations on later purchases, against most-popular.

    The recommender is fitted on purchases dated before ``split_date``; each customer who
    bought both before and on/after the split gets ``n`` recommendations, and scores a hit
    when any of them is among the items bought on/after the split.

    .. math:: \\mathrm{HR@}n = \\frac{\\#\\{u : \\mathrm{top}_n(u) \\cap \\mathrm{later}(u) \\neq
       \\emptyset\\}}{\\#\\{u\\}}

    Parameters
    ----------
    customer_ids, items, dates : array-like
        One row per purchased item.
    split_date : date-like
    n : int, default 5
    recommender : recommender, optional
        An unfitted :class:`CoPurchaseRecommender` (default) or any object with the same
        ``fit``/``recommend``; it is fitted here.

    Returns
    -------
    dict
        ``hit_rate``, ``baseline_hit_rate`` (most popular), ``lift`` (ratio, nan when the
        baseline has no hit), ``customers`` (evaluated), ``n``.

    Notes
    -----
    Re-purchases of items already owned cannot be hits: recommendations exclude them, as
    they would in an e-mail.

    References
    ----------
    .. [1] Deshpande, M. & Karypis, G. (2004). Item-based top-N recommendation algorithms.
       *ACM TOIS* 22(1), 143-177 (hit rate).
    .. [2] Cremonesi, Koren & Turrin (2010), the most-popular baseline.
    """
    frame = _pairs(customer_ids, items)
    when = _to_utc_naive(dates)
    if len(when) != len(frame):
        raise ValueError(f"customer_ids has {len(frame)} values but dates has {len(when)}.")
    if when.isna().any():
        raise ValueError(f"{int(when.isna().sum())} dates are missing or not dates.")
    split = pd.Timestamp(split_date)
    split = split.tz_convert("UTC").tz_localize(None) if split.tzinfo else split
    before, after = frame[when < split], frame[when >= split]
    customers = pd.Index(before["owner"].unique()).intersection(pd.Index(after["owner"].unique()))
    if customers.empty:
        raise ValueError("No customer bought both before and after split_date; move the split.")
    model = recommender if recommender is not None else CoPurchaseRecommender(n=n)
    rate = _hit_rate(model.fit(before["owner"], before["item"]), customers, after, n)
    base = _hit_rate(MostPopularRecommender(n=n).fit(before["owner"], before["item"]), customers, after, n)
    return {
        "hit_rate": rate,
        "baseline_hit_rate": base,
        "lift": rate / base if base > 0 else float("nan"),
        "customers": int(customers.size),
        "n": int(n),
    }


def _hit_rate(model: MostPopularRecommender, customers: pd.Index, after: pd.DataFrame, n: int) -> float:
    recs = model.recommend(customers, n=n)[["customer", "item"]]
    later = after.drop_duplicates().rename(columns={"owner": "customer"})
    hits = recs.merge(later, on=["customer", "item"], how="inner")["customer"].nunique()
    return float(hits / customers.size)
