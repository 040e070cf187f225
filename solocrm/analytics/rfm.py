"""RFM (recency, frequency, monetary) quintile scores and the eleven named RFM segments.

Django-free: numpy and pandas only. The Django side passes one value per customer (numpy
arrays or pandas Series) and writes ``r``, ``f``, ``m`` and the segment code back onto
``CustomerScore``.

Scoring
-------
Each of R, F and M is scored 1..``bins`` (5 = best: most recent, most frequent, highest spend)
by the *mid-rank percentile* of the customer among all customers who bought something:
``p = (rank - 0.5) / n`` with tied values sharing their average rank, and
``score = floor(p * bins) + 1``. This is the classic quintile scoring of Hughes (1994) with two
properties the usual ``pd.qcut(values, 5)`` lacks:

* ties never split: customers with the same value always get the same score (``qcut`` on
  ``rank(method="first")`` gives two identical one-order customers different F scores depending on
  the order of the rows in the database);
* it works for any number of customers: one customer scores 3 (the middle), two score 2 and 4,
  three score 1, 3 and 5, and a column where everybody is equal scores 3 for everybody
  (``qcut`` raises "Bin edges must be unique" in those cases).

A tied group gets the score of the quintile that contains the middle of the group, so when most
customers bought exactly once they all get the same, middling F score rather than an arbitrary
mix of 1, 2 and 3.

Segments
--------
The segment of a customer is read from a grid of R against the combined score
``FM = (F + M) / 2``, using the published table of score ranges (Putler, "RFM Analysis for
Successful Customer Segmentation"). The ranges are boundaries on a 0..5 axis where score ``k``
covers ``(k - 1, k]``: "R 4-5" means R = 5, "FM ≤ 1" means FM = 1. Read that way the eleven
rectangles tile the grid except for three nested pairs (Champions inside Loyal, Can't lose them
inside At risk, Hibernating inside Lost), where the smaller, more specific rectangle wins.
:data:`SEGMENT_RULES` lists them in that order of precedence.

References
----------
.. [1] Hughes, A. M. (1994). *Strategic Database Marketing*. Chicago: Probus. (Quintile RFM
   scoring, 5 = best.)
.. [2] Miglautsch, J. R. (2000). Thoughts on RFM scoring. *Journal of Database Marketing*, 8(1),
   67-72.
.. [3] Putler. RFM Analysis for Successful Customer Segmentation.
   https://www.putler.com/rfm-analysis/ (segment table: recency score range and
   frequency-and-monetary combined score range per segment, with suggested actions).
.. [4] Hyndman, R. J., & Fan, Y. (1996). Sample quantiles in statistical packages. *The American
   Statistician*, 50(4), 361-365. (Definition 5: plotting position ``(k - 0.5) / n``.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

__all__ = ["NO_SEGMENT", "SEGMENT_RULES", "SegmentRule", "rfm_scores", "rfm_segment", "segment_grid"]

#: Segment code given to customers without scores (no purchase yet).
NO_SEGMENT = ""


@dataclass(frozen=True)
class SegmentRule:
    """One named RFM segment: where it sits on the R x (F+M)/2 grid and what to do about it.

    ``r`` and ``fm`` are the published ranges as half-open intervals ``(low, high]`` on the
    0..5 score axis. ``rule`` is the effective rule in plain words, after the more specific
    segments listed before it in :data:`SEGMENT_RULES` have taken their share.
    """

    code: str
    name: str
    r: tuple[float, float]
    fm: tuple[float, float]
    rule: str
    description: str
    action: str

    def matches(self, r: np.ndarray, fm: np.ndarray) -> np.ndarray:
        """Boolean mask of the customers inside this segment's published rectangle."""
        return (r > self.r[0]) & (r <= self.r[1]) & (fm > self.fm[0]) & (fm <= self.fm[1])


_RULES = (
    SegmentRule(
        "champions",
        "Champions",
        (4, 5),
        (4, 5),
        "R = 5 and (F+M)/2 ≥ 4.5",
        "Bought recently, buy often and spend the most.",
        "Reward them. They can be early adopters of new products and will promote your brand.",
    ),
    SegmentRule(
        "loyal",
        "Loyal",
        (2, 5),
        (3, 5),
        "R ≥ 3 and (F+M)/2 ≥ 3.5, except Champions",
        "Spend good money and buy often. Responsive to promotions.",
        "Upsell higher-value products. Ask for reviews. Engage them.",
    ),
    SegmentRule(
        "potential_loyalist",
        "Potential loyalist",
        (3, 5),
        (1, 3),
        "R ≥ 4 and 1.5 ≤ (F+M)/2 ≤ 3",
        "Recent customers who spent a good amount and bought more than once.",
        "Offer a membership or loyalty programme; recommend other products.",
    ),
    SegmentRule(
        "new",
        "New",
        (4, 5),
        (0, 1),
        "R = 5 and F = M = 1",
        "Bought very recently, but only once and not much.",
        "Provide onboarding support, give them early success, start building the relationship.",
    ),
    SegmentRule(
        "promising",
        "Promising",
        (3, 4),
        (0, 1),
        "R = 4 and F = M = 1",
        "Recent shoppers who have not spent much yet.",
        "Create brand awareness; offer free trials.",
    ),
    SegmentRule(
        "need_attention",
        "Need attention",
        (2, 3),
        (2, 3),
        "R = 3 and 2.5 ≤ (F+M)/2 ≤ 3",
        "Average recency, frequency and spend; may not have bought very recently.",
        "Make limited-time offers; recommend based on past purchases; reactivate them.",
    ),
    SegmentRule(
        "about_to_sleep",
        "About to sleep",
        (2, 3),
        (0, 2),
        "R = 3 and (F+M)/2 ≤ 2",
        "Below-average recency, frequency and spend. Will be lost if not reactivated.",
        "Share valuable resources; recommend popular products or renewals at a discount; reconnect.",
    ),
    SegmentRule(
        "cant_lose",
        "Can't lose them",
        (0, 1),
        (4, 5),
        "R = 1 and (F+M)/2 ≥ 4.5",
        "Made big and frequent purchases, but a long time ago.",
        "Win them back with renewals or newer products; talk to them; don't lose them to a competitor.",
    ),
    SegmentRule(
        "at_risk",
        "At risk",
        (0, 2),
        (2, 5),
        "R ≤ 2 and (F+M)/2 ≥ 2.5, except Can't lose them",
        "Spent big money and bought often, but long ago.",
        "Send personalised e-mails to reconnect; offer renewals; provide helpful resources.",
    ),
    SegmentRule(
        "hibernating",
        "Hibernating",
        (1, 2),
        (1, 2),
        "R = 2 and 1.5 ≤ (F+M)/2 ≤ 2",
        "Last purchase long ago, few orders and low spend.",
        "Offer other relevant products and special discounts; recreate brand value.",
    ),
    SegmentRule(
        "lost",
        "Lost",
        (0, 2),
        (0, 2),
        "R ≤ 2 and (F+M)/2 ≤ 2, except Hibernating",
        "Lowest recency, frequency and spend.",
        "Revive interest with a reach-out campaign; otherwise ignore.",
    ),
)

#: The eleven segments, keyed by code, in order of precedence (first match wins).
SEGMENT_RULES: dict[str, SegmentRule] = {rule.code: rule for rule in _RULES}


def _as_float_array(values: object, name: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers") from exc
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if np.isinf(array).any():
        raise ValueError(f"{name} contains infinite values")
    return array


def _check_inputs(recency: np.ndarray, frequency: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """Validate the three columns; return the mask of customers who bought something."""
    if not len(recency) == len(frequency) == len(monetary):
        raise ValueError(
            "days_since_last, frequency and monetary must have the same length, got "
            f"{len(recency)}, {len(frequency)} and {len(monetary)}"
        )
    if len(recency) == 0:
        raise ValueError("no customers: the arrays are empty")
    bought = ~np.isnan(recency)
    if (recency[bought] < 0).any():
        raise ValueError("days_since_last must not be negative")
    if np.isnan(frequency[bought]).any() or np.isnan(monetary[bought]).any():
        raise ValueError("frequency and monetary must not be NaN for a customer who bought something")
    if (frequency[bought] < 0).any():
        raise ValueError("frequency must not be negative")
    return bought


def _quantile_scores(values: np.ndarray, bins: int) -> np.ndarray:
    """Score 1..bins by mid-rank percentile; higher values get higher scores, ties share one."""
    n = len(values)
    twice_rank = np.rint(2 * rankdata(values, method="average")).astype(np.int64)
    # floor(((rank - 0.5) / n) * bins) + 1 in exact integer arithmetic.
    return ((twice_rank - 1) * bins) // (2 * n) + 1


def rfm_scores(
    days_since_last: object,
    frequency: object,
    monetary: object,
    *,
    bins: int = 5,
) -> pd.DataFrame:
    """Quantile R, F and M scores, 1..``bins``, with ``bins`` the best.

    Parameters
    ----------
    days_since_last : array-like of float, shape (n,)
        Days since the customer's last purchase; NaN for a customer who never bought.
        Fewer days is better (higher R).
    frequency : array-like of float, shape (n,)
        How often the customer bought (orders, purchase days or repeat purchases: any count
        works, only the ranking matters). More is better.
    monetary : array-like of float, shape (n,)
        What the customer spent (total or per order). More is better.
    bins : int, default 5
        Number of score levels (5 gives quintiles; the named segments need 5).

    Returns
    -------
    pandas.DataFrame
        Columns ``r``, ``f``, ``m`` of nullable ``Int8`` dtype, one row per customer (the index
        of ``days_since_last`` when it is a Series, else 0..n-1). Customers who never bought
        (``days_since_last`` NaN) get ``<NA>`` in all three and are left out of the ranking, so
        they do not push the buyers' scores up.

    Raises
    ------
    ValueError
        On empty or mismatched inputs, infinite values, negative days or frequency, or a
        missing frequency or spend for a customer who bought something.

    Notes
    -----
    ``score = floor(((rank - 0.5) / n) * bins) + 1`` where ``rank`` is the average rank among
    the ``n`` buyers (ties share it). Recency is ranked on ``-days_since_last``.

    References
    ----------
    .. [1] Hughes, A. M. (1994). *Strategic Database Marketing*. Probus.
    .. [2] Miglautsch, J. R. (2000). Thoughts on RFM scoring. *Journal of Database Marketing*,
       8(1), 67-72.
    .. [3] Hyndman, R. J., & Fan, Y. (1996). Sample quantiles in statistical packages. *The
       American Statistician*, 50(4), 361-365.

    Examples
    --------
    >>> rfm_scores([1, 10, 100], [5, 2, 1], [500.0, 50.0, 5.0]).to_numpy().tolist()
    [[5, 5, 5], [3, 3, 3], [1, 1, 1]]
    """
    if not isinstance(bins, int | np.integer) or bins < 2:
        raise ValueError(f"bins must be an integer of at least 2, got {bins!r}")
    index = days_since_last.index if isinstance(days_since_last, pd.Series) else None
    recency = _as_float_array(days_since_last, "days_since_last")
    freq = _as_float_array(frequency, "frequency")
    money = _as_float_array(monetary, "monetary")
    bought = _check_inputs(recency, freq, money)
    scores = np.zeros((len(recency), 3), dtype=np.int8)
    if bought.any():
        for column, values in enumerate((-recency, freq, money)):
            scores[bought, column] = _quantile_scores(values[bought], bins)
    mask = np.repeat(~bought[:, None], 3, axis=1)
    columns = {name: pd.arrays.IntegerArray(scores[:, i], mask[:, i]) for i, name in enumerate("rfm")}
    return pd.DataFrame(columns, index=index)


def _as_score_array(values: object, name: str) -> np.ndarray:
    try:
        array = pd.Series(values).astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a one-dimensional array of scores") from exc
    known = array[~np.isnan(array)]
    if ((known < 1) | (known > 5) | (known != np.round(known))).any():
        raise ValueError(f"{name} scores must be whole numbers from 1 to 5 (or missing)")
    return array


def rfm_segment(r: object, f: object, m: object) -> np.ndarray:
    """Map R, F and M scores (1..5) to the named segment codes of :data:`SEGMENT_RULES`.

    Parameters
    ----------
    r, f, m : array-like, shape (n,)
        Scores from :func:`rfm_scores` with ``bins=5``; missing values (NaN or ``<NA>``) mark
        customers without purchases.

    Returns
    -------
    numpy.ndarray of str, shape (n,)
        The segment code of each customer, or :data:`NO_SEGMENT` (``""``) where a score is
        missing.

    Raises
    ------
    ValueError
        On mismatched lengths or a score that is not a whole number from 1 to 5.

    Notes
    -----
    ``FM = (F + M) / 2``; the first rule in :data:`SEGMENT_RULES` whose published rectangle
    ``r[0] < R <= r[1]`` and ``fm[0] < FM <= fm[1]`` contains the customer wins. Every one of
    the 125 score combinations lands in exactly one segment. The rules are evaluated once on
    the 5 x 9 grid of (R, F + M) and customers are looked up in that table.

    References
    ----------
    .. [1] Putler. RFM Analysis for Successful Customer Segmentation.
       https://www.putler.com/rfm-analysis/

    Examples
    --------
    >>> rfm_segment([5, 1, 3], [5, 5, 1], [5, 4, 1]).tolist()
    ['champions', 'cant_lose', 'about_to_sleep']
    """
    r_arr, f_arr, m_arr = (_as_score_array(v, name) for v, name in ((r, "r"), (f, "f"), (m, "m")))
    if not len(r_arr) == len(f_arr) == len(m_arr):
        raise ValueError(
            f"r, f and m must have the same length, got {len(r_arr)}, {len(f_arr)}, {len(m_arr)}"
        )
    known = ~(np.isnan(r_arr) | np.isnan(f_arr) | np.isnan(m_arr))
    table = _segment_table()
    segments = np.full(len(r_arr), NO_SEGMENT, dtype=table.dtype)
    r_idx = r_arr[known].astype(np.intp) - 1
    fm_idx = (f_arr[known] + m_arr[known]).astype(np.intp) - 2
    segments[known] = table[r_idx, fm_idx]
    return segments


def _segment_table() -> np.ndarray:
    """Segment code for every (R, F + M) cell: shape (5, 9), R = 1..5 and F + M = 2..10."""
    r, f_plus_m = np.meshgrid(np.arange(1, 6), np.arange(2, 11), indexing="ij")
    conditions = [rule.matches(r, f_plus_m / 2) for rule in _RULES]
    codes = [rule.code for rule in _RULES]
    width = max(len(code) for code in codes)
    return np.select(conditions, codes, default=NO_SEGMENT).astype(f"<U{width}")


def segment_grid() -> dict[int, list[str]]:
    """The segment map for drawing: R (5..1) against the FM column ``ceil((F + M) / 2)`` (1..5).

    Every (R, F, M) combination whose ``(F + M) / 2`` falls in column ``c`` (i.e. in
    ``(c - 1, c]``) has the segment shown in that cell, so a 5 x 5 picture is exact.

    Returns
    -------
    dict of int to list of str
        ``{5: [code for FM column 1..5], 4: [...], ..., 1: [...]}``.

    References
    ----------
    .. [1] Putler. RFM Analysis for Successful Customer Segmentation.
       https://www.putler.com/rfm-analysis/
    """
    table = _segment_table()
    # F + M = 2 is column 1; F + M = 2c - 1 and 2c share column c (c = 2..5).
    columns = [0, 2, 4, 6, 8]
    return {r: [str(code) for code in table[r - 1, columns]] for r in range(5, 0, -1)}
