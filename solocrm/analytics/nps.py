"""Satisfaction metrics: Net Promoter Score, CSAT and Customer Effort Score, and their trend.

Django-free: numpy and pandas only. Survey answers arrive as parallel arrays of
(date, metric in {"nps", "csat", "ces"}, score, customer segment).

* **NPS** — "How likely is it that you would recommend us to a friend or colleague?" on 0..10.
  Promoters answer 9-10, passives 7-8, detractors 0-6;
  ``NPS = 100 * (promoters - detractors) / responses``, from -100 to 100 (Reichheld, 2003).
* **CSAT** — "How satisfied were you?" on 1..5; the share of satisfied answers (4 or 5), in
  percent (ACSI / common practice). It is a *share*, not the mean score.
* **CES** — Customer Effort Score 2.0: "The company made it easy for me to handle my issue" on
  1 (strongly disagree) .. 7 (strongly agree); the mean answer, higher = less effort (Dixon,
  Freeman & Toman, 2010; CEB's CES 2.0 scale, Dixon, Toman & DeLisi, 2013).

References
----------
.. [1] Reichheld, F. F. (2003). The one number you need to grow. *Harvard Business Review*,
   81(12), 46-54.
.. [2] Dixon, M., Freeman, K., & Toman, N. (2010). Stop trying to delight your customers.
   *Harvard Business Review*, 88(7/8), 116-122.
.. [3] Dixon, M., Toman, N., & DeLisi, R. (2013). *The Effortless Experience*. Portfolio/Penguin.
   (CES 2.0: seven-point agreement scale.)
.. [4] Rocks, B. (2016). Interval estimation for the "Net Promoter Score". *The American
   Statistician*, 70(4), 365-372. (Variance of NPS as a difference of multinomial shares.)
.. [5] American Customer Satisfaction Index; Farris, P. W., Bendle, N. T., Pfeifer, P. E., &
   Reibstein, D. J. (2010). *Marketing Metrics* (2nd ed.), ch. 2 "Customer satisfaction":
   satisfaction reported as the percentage of customers in the top two boxes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["ALL_PERIODS", "METRICS", "ces", "csat", "nps", "nps_breakdown", "satisfaction_trend"]

#: Period label of :func:`satisfaction_trend` with ``freq=None``.
ALL_PERIODS = "all"

#: Allowed score range (inclusive) of each metric.
METRICS: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}

# z for a two-sided 95% normal interval.
_Z95 = 1.959963984540054


def _scores(scores: object, metric: str) -> np.ndarray:
    """Validate answers of one metric: whole numbers inside the metric's range."""
    try:
        values = np.asarray(scores, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{metric} scores must be numbers") from exc
    if values.ndim != 1:
        raise ValueError(f"{metric} scores must be a one-dimensional array")
    low, high = METRICS[metric]
    bad = np.isnan(values) | (values < low) | (values > high) | (values != np.round(values))
    if bad.any():
        example = values[bad][0]
        raise ValueError(f"{metric} scores must be whole numbers from {low} to {high}; got {example:g}")
    return values


def nps_breakdown(scores: object) -> dict[str, float | int] | None:
    """Counts and shares of promoters (9-10), passives (7-8) and detractors (0-6).

    Parameters
    ----------
    scores : array-like of int
        Answers on the 0..10 scale.

    Returns
    -------
    dict or None
        ``responses``, ``promoters``, ``passives``, ``detractors`` (counts), their shares
        ``promoters_pct``, ``passives_pct``, ``detractors_pct`` (0..100) and ``nps``; None when
        there are no answers.

    Raises
    ------
    ValueError
        If a score is missing, not a whole number or outside 0..10.

    References
    ----------
    .. [1] Reichheld, F. F. (2003). The one number you need to grow. *Harvard Business
       Review*, 81(12), 46-54.
    """
    values = _scores(scores, "nps")
    n = len(values)
    if n == 0:
        return None
    promoters = int((values >= 9).sum())
    detractors = int((values <= 6).sum())
    passives = n - promoters - detractors
    return {
        "responses": n,
        "promoters": promoters,
        "passives": passives,
        "detractors": detractors,
        "promoters_pct": 100.0 * promoters / n,
        "passives_pct": 100.0 * passives / n,
        "detractors_pct": 100.0 * detractors / n,
        "nps": 100.0 * (promoters - detractors) / n,
    }


def nps(scores: object) -> float | None:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6).

    Parameters
    ----------
    scores : array-like of int
        Answers on the 0..10 scale.

    Returns
    -------
    float or None
        NPS from -100 to 100; None when there are no answers.

    Raises
    ------
    ValueError
        If a score is missing, not a whole number or outside 0..10.

    References
    ----------
    .. [1] Reichheld, F. F. (2003). The one number you need to grow. *Harvard Business
       Review*, 81(12), 46-54.

    Examples
    --------
    >>> nps([9, 7, 5, 1, 10])
    0.0
    """
    breakdown = nps_breakdown(scores)
    return None if breakdown is None else breakdown["nps"]


def csat(scores: object) -> float | None:
    """Customer satisfaction score: percentage of answers that are 4 or 5 on a 1..5 scale.

    Parameters
    ----------
    scores : array-like of int
        Answers on the 1..5 scale.

    Returns
    -------
    float or None
        Share of satisfied answers in percent (0..100); None when there are no answers.

    Raises
    ------
    ValueError
        If a score is missing, not a whole number or outside 1..5.

    Notes
    -----
    ``CSAT = 100 * |{answers in {4, 5}}| / |answers|``. The mean score (e.g. 3.9 / 5) is a
    different number and is not called CSAT here.

    References
    ----------
    .. [1] Farris, P. W., Bendle, N. T., Pfeifer, P. E., & Reibstein, D. J. (2010). *Marketing
       Metrics* (2nd ed.), ch. 2. Wharton School Publishing.

    Examples
    --------
    >>> csat([5, 4, 3, 2, 5])
    60.0
    """
    values = _scores(scores, "csat")
    if len(values) == 0:
        return None
    return 100.0 * float(np.mean(values >= 4))


def ces(scores: object) -> float | None:
    """Customer Effort Score (CES 2.0): mean agreement, 1..7, that the company made it easy.

    Parameters
    ----------
    scores : array-like of int
        Answers on the 1 (strongly disagree) .. 7 (strongly agree) scale to "The company made
        it easy for me to handle my issue". Higher is better (less effort).

    Returns
    -------
    float or None
        Mean answer (1..7); None when there are no answers.

    Raises
    ------
    ValueError
        If a score is missing, not a whole number or outside 1..7.

    Notes
    -----
    The original CES (Dixon et al., 2010) asked "How much effort did you personally have to
    put forth to handle your request?" on 1..5 where *lower* was better; CES 2.0 reversed the
    direction and moved to seven points. Do not mix the two scales.

    References
    ----------
    .. [1] Dixon, M., Freeman, K., & Toman, N. (2010). Stop trying to delight your customers.
       *Harvard Business Review*, 88(7/8), 116-122.
    .. [2] Dixon, M., Toman, N., & DeLisi, R. (2013). *The Effortless Experience*.
       Portfolio/Penguin.

    Examples
    --------
    >>> ces([7, 6, 5, 2])
    5.0
    """
    values = _scores(scores, "ces")
    if len(values) == 0:
        return None
    return float(np.mean(values))


def _answers(
    dates: object, metric: object, scores: object, groups: object | None, counts: object | None
) -> pd.DataFrame:
    """Validate the parallel survey arrays into a frame with date, metric, score[, group], weight."""
    columns = {"date": dates, "metric": metric, "score": scores}
    if groups is not None:
        columns["group"] = groups
    if counts is not None:
        columns["weight"] = counts
    lengths = {name: len(np.atleast_1d(np.asarray(values, dtype=object))) for name, values in columns.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"dates, metric, scores (and groups) must have the same length, got {lengths}")
    frame = pd.DataFrame({name: pd.Series(values).reset_index(drop=True) for name, values in columns.items()})
    unknown = set(frame["metric"].unique()) - set(METRICS)
    if unknown:
        raise ValueError(f"unknown metric(s) {sorted(map(str, unknown))}; use one of {sorted(METRICS)}")
    if pd.api.types.is_numeric_dtype(frame["date"]) and not frame.empty:
        # Numbers would be read as nanoseconds since 1970; month numbers must become "YYYY-MM".
        raise ValueError('dates must be dates or "YYYY-MM" strings, not numbers')
    try:
        frame["date"] = pd.to_datetime(frame["date"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"dates could not be read as dates: {exc}") from exc
    if frame["date"].isna().any():
        raise ValueError("dates must not contain missing values")
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce")
    for name in METRICS:
        _scores(frame.loc[frame["metric"] == name, "score"].to_numpy(dtype=float), name)
    frame["weight"] = _weights(frame["weight"]) if counts is not None else 1.0
    return frame[frame["weight"] > 0]


def _weights(counts: pd.Series) -> np.ndarray:
    weights = pd.to_numeric(counts, errors="coerce").to_numpy(dtype=float)
    if np.isnan(weights).any() or (weights < 0).any() or (weights != np.round(weights)).any():
        raise ValueError("counts must be whole numbers of at least 0")
    return weights


def _contribution(frame: pd.DataFrame) -> np.ndarray:
    """Per answer, the value whose mean is the metric: +-100/0 for NPS, 100/0 for CSAT, score for CES."""
    metric = frame["metric"].to_numpy()
    score = frame["score"].to_numpy(dtype=float)
    nps_value = np.where(score >= 9, 100.0, np.where(score <= 6, -100.0, 0.0))
    csat_value = np.where(score >= 4, 100.0, 0.0)
    return np.select([metric == "nps", metric == "csat"], [nps_value, csat_value], default=score)


def satisfaction_trend(
    dates: object,
    metric: object,
    scores: object,
    *,
    freq: str | None = "M",
    groups: object | None = None,
    counts: object | None = None,
) -> pd.DataFrame:
    """NPS, CSAT and CES per period (and per group) with response counts and a 95% margin.

    Parameters
    ----------
    dates : array-like of dates, shape (n,)
        When each answer was given.
    metric : array-like of str, shape (n,)
        ``"nps"``, ``"csat"`` or ``"ces"`` for each answer.
    scores : array-like of int, shape (n,)
        The answer, validated against its metric's range.
    freq : str or None, default "M"
        pandas period frequency: ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``; None puts every answer
        in one period labelled :data:`ALL_PERIODS` (the all-time figures).
    groups : array-like, shape (n,), optional
        A group per answer (e.g. the customer's RFM segment); missing groups form their own
        group.
    counts : array-like of int, shape (n,), optional
        How many identical answers each row stands for, when the answers were counted in the
        database (``GROUP BY month, metric, score, segment``). Default: one per row.

    Returns
    -------
    pandas.DataFrame
        One row per (period, metric[, group]) with columns ``period`` (str, e.g.
        ``"2024-03"``), ``metric``, [``group``], ``value`` (as :func:`nps`, :func:`csat`,
        :func:`ces`), ``responses`` and ``margin`` (half-width of an approximate 95% interval;
        NaN with a single answer). Sorted by period, metric and group. Empty input gives an
        empty frame with those columns.

    Raises
    ------
    ValueError
        On mismatched lengths, unknown metrics, unreadable or missing dates, out-of-range
        scores, negative or fractional counts, an unknown ``freq``.

    Notes
    -----
    Each value is computed from the raw answers of its cell, never by averaging other
    values. The margin is ``1.96 * s / sqrt(n)`` where ``s`` is the standard deviation of the
    per-answer contributions (+100/0/-100 for NPS, 100/0 for CSAT, the score for CES; sample
    standard deviation for CES, population for the shares). For NPS this is the multinomial
    variance ``p_P + p_D - (p_P - p_D)^2`` of Rocks (2016). With few answers the interval is
    rough; it is meant to warn the owner that a 30-point swing on 8 answers is noise.

    References
    ----------
    .. [1] Reichheld, F. F. (2003). The one number you need to grow. *Harvard Business
       Review*, 81(12), 46-54.
    .. [2] Rocks, B. (2016). Interval estimation for the "Net Promoter Score". *The American
       Statistician*, 70(4), 365-372.
    .. [3] Dixon, M., Freeman, K., & Toman, N. (2010). Stop trying to delight your customers.
       *Harvard Business Review*, 88(7/8), 116-122.
    """
    frame = _answers(dates, metric, scores, groups, counts)
    keys = ["period", "metric"] + (["group"] if groups is not None else [])
    if frame.empty:
        return pd.DataFrame(columns=[*keys, "value", "responses", "margin"])
    frame["period"] = _periods(frame["date"], freq)
    x = _contribution(frame)
    frame["wx"] = frame["weight"] * x
    frame["wx2"] = frame["weight"] * x**2
    cells = frame.groupby(keys, dropna=False, sort=True)[["weight", "wx", "wx2"]].sum().reset_index()
    cells["value"] = cells["wx"] / cells["weight"]
    cells["mean_sq"] = cells["wx2"] / cells["weight"]
    cells["responses"] = cells["weight"].astype(np.int64)
    cells["margin"] = _margin(cells)
    return cells[[*keys, "value", "responses", "margin"]]


def _periods(dates: pd.Series, freq: str | None) -> pd.Series:
    if freq is None:
        return pd.Series(ALL_PERIODS, index=dates.index)
    local = dates.dt.tz_localize(None) if dates.dt.tz is not None else dates
    try:
        return local.dt.to_period(freq).astype(str)
    except ValueError as exc:
        raise ValueError(f"freq {freq!r} is not a pandas period frequency (use W, M, Q or Y)") from exc


def _margin(cells: pd.DataFrame) -> np.ndarray:
    n = cells["responses"].to_numpy(dtype=float)
    variance = np.maximum(cells["mean_sq"].to_numpy() - cells["value"].to_numpy() ** 2, 0.0)
    is_ces = (cells["metric"] == "ces").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = np.where(is_ces, variance * n / (n - 1), variance)
        margin = _Z95 * np.sqrt(variance / n)
    return np.where(n > 1, margin, np.nan)
