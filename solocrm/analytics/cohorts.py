"""Acquisition cohorts, retention, repeat purchase rate and time between orders.

Django-free: numpy and pandas only. Input is one row per purchase (or per customer and purchase
day): parallel arrays of customer ids, dates and amounts, as ``queries.py`` pulls them from the
database. Several rows for the same customer on the same day count as one purchase day.

A customer's *cohort* is the calendar month of their first purchase. *Month offset* ``j`` is the
number of calendar months between the cohort month and the month of a purchase (0 = the month
of the first purchase).

References
----------
.. [1] Fader, P. S., & Hardie, B. G. S. (2007). How to project customer retention. *Journal of
   Interactive Marketing*, 21(1), 76-90. (Cohort retention curves; why curves from cohorts of
   different ages must not be pooled naively.)
.. [2] Gupta, S., Hanssens, D., Hardie, B., et al. (2006). Modeling customer lifetime value.
   *Journal of Service Research*, 9(2), 139-155.
.. [3] Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy
   way: An alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284. (Purchases
   on the same day are one transaction; repeat purchases are the transactions after the
   first.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "GAP_BINS",
    "CohortTables",
    "TimeBetweenOrders",
    "cohort_tables",
    "cohort_tables_from_counts",
    "repeat_purchase_rate",
    "time_between_orders",
]

#: Upper edges (days, inclusive) of the buckets of :attr:`TimeBetweenOrders.histogram`.
GAP_BINS: tuple[int, ...] = (7, 14, 30, 60, 90, 180, 365)


@dataclass(frozen=True)
class CohortTables:
    """Cohort tables, each indexed by cohort month ``"YYYY-MM"`` (index name ``cohort``).

    Attributes
    ----------
    sizes : pandas.DataFrame
        Column ``customers``: how many customers made their first purchase in the month.
    active : pandas.DataFrame
        Customers of the cohort with at least one purchase in month offset ``j`` (columns
        ``0..J``, name ``months_since_first``). NaN where the offset lies after the end of the
        data (the cohort is too young to have been observed there).
    retention : pandas.DataFrame
        ``active / sizes``: share of the cohort active in month offset ``j`` (0..1; offset 0 is
        1 by construction). NaN where not observed.
    revenue : pandas.DataFrame
        Sum of amounts of the cohort in month offset ``j``; NaN where not observed.
    """

    sizes: pd.DataFrame
    active: pd.DataFrame
    retention: pd.DataFrame
    revenue: pd.DataFrame

    def average_retention(self) -> pd.Series:
        """Size-weighted retention curve over the cohorts that were observed at each offset.

        At offset ``j`` only cohorts old enough to have reached ``j`` count:
        ``sum(active[c, j]) / sum(size[c])`` over those cohorts. Averaging the rows of
        :attr:`retention` instead gives small cohorts the weight of big ones; dividing by all
        cohorts' sizes makes retention appear to fall simply because young cohorts have not
        reached ``j`` yet.

        Returns
        -------
        pandas.Series
            Retention (0..1) per month offset.

        References
        ----------
        .. [1] Fader, P. S., & Hardie, B. G. S. (2007). How to project customer retention.
           *Journal of Interactive Marketing*, 21(1), 76-90.
        """
        observed = self.active.notna().to_numpy()
        sizes = self.sizes["customers"].to_numpy(dtype=float)[:, None]
        # The oldest cohort is observed at every offset, so no column divides by zero.
        eligible = (sizes * observed).sum(axis=0)
        active = np.nansum(self.active.to_numpy(dtype=float), axis=0)
        return pd.Series(active / eligible, index=self.active.columns, name="retention")


@dataclass(frozen=True)
class TimeBetweenOrders:
    """Days between consecutive purchase days of the same customer.

    Attributes
    ----------
    gaps : numpy.ndarray of int
        Every gap, in days (one per repeat purchase day).
    median, mean : float or None
        Median and mean gap; None when no customer bought on two different days.
    quantiles : pandas.Series
        Gap at the 10th, 25th, 50th, 75th and 90th percentiles (NaN without gaps).
    histogram : pandas.DataFrame
        Columns ``gaps`` (count) and ``share`` per bucket ``"1-7"``, ``"8-14"``, ...,
        ``"366+"`` (see :data:`GAP_BINS`).
    """

    gaps: np.ndarray
    median: float | None
    mean: float | None
    quantiles: pd.Series
    histogram: pd.DataFrame


def _purchases(customer_ids: object, dates: object, amounts: object | None = None) -> pd.DataFrame:
    """Validate the parallel arrays; return columns customer (codes), day, month, amount."""
    if np.ndim(customer_ids) != 1 or np.ndim(dates) != 1:
        raise ValueError("customer_ids and dates must be one-dimensional arrays")
    ids = pd.Series(customer_ids).reset_index(drop=True)
    when = pd.Series(dates).reset_index(drop=True)
    lengths = [len(ids), len(when)] + ([] if amounts is None else [len(np.atleast_1d(amounts))])
    if len(set(lengths)) != 1:
        raise ValueError(f"customer_ids, dates and amounts must have the same length, got {lengths}")
    if lengths[0] == 0:
        raise ValueError("no purchases: the arrays are empty")
    if ids.isna().any():
        raise ValueError("customer_ids must not contain missing values")
    days = _as_days(when)
    codes, _ = pd.factorize(ids, sort=False)
    frame = pd.DataFrame({"customer": codes, "day": days})
    frame["month"] = _month_number(days)
    if amounts is not None:
        frame["amount"] = _as_amounts(amounts)
    return frame


def _as_days(dates: pd.Series) -> np.ndarray:
    """Dates as whole days since 1970-01-01 (int64); the local calendar day of aware times."""
    try:
        parsed = pd.to_datetime(dates)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"dates could not be read as dates: {exc}") from exc
    if parsed.isna().any():
        raise ValueError("dates must not contain missing values")
    if parsed.dt.tz is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.to_numpy().astype("datetime64[D]").astype(np.int64)


def _as_amounts(amounts: object) -> np.ndarray:
    try:
        values = np.asarray(amounts, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError("amounts must be numbers") from exc
    if not np.isfinite(values).all():
        raise ValueError("amounts must not contain NaN or infinite values")
    return values


def _month_number(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 for day numbers."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _month_labels(months: np.ndarray) -> pd.Index:
    return pd.Index(np.asarray(months, dtype="datetime64[M]").astype(str), name="cohort")


def _observed_mask(cohorts: np.ndarray, offsets: np.ndarray, last_month: int) -> np.ndarray:
    """True where cohort month + offset is not after the last month with data."""
    return cohorts[:, None] + offsets[None, :] <= last_month


def cohort_tables(
    customer_ids: object, dates: object, amounts: object, *, end: object = None
) -> CohortTables:
    """Monthly acquisition cohorts by months since first purchase.

    Parameters
    ----------
    customer_ids : array-like, shape (n,)
        Customer of each purchase (any hashable ids).
    dates : array-like of dates, shape (n,)
        Date of each purchase (``datetime64``, ``datetime.date``, ISO strings; aware times are
        taken on their local calendar day).
    amounts : array-like of float, shape (n,)
        Amount of each purchase.
    end : date-like, optional
        Last day of the data. Months up to the month of ``end`` count as observed (zero
        activity is a real zero); later cells are NaN. Defaults to the latest purchase.

    Returns
    -------
    CohortTables
        ``sizes``, ``active``, ``retention`` and ``revenue``, one row per month in which at
        least one customer made a first purchase. Cells after the end of the data are NaN,
        never 0.

    Raises
    ------
    ValueError
        On empty or mismatched arrays, missing ids or dates, NaN or infinite amounts, or an
        ``end`` before the last purchase.

    Notes
    -----
    ``retention[c, j] = |{customers of c who bought in month c + j}| / |c|`` and
    ``revenue[c, j] = sum of amounts of customers of c in month c + j``.

    References
    ----------
    .. [1] Fader, P. S., & Hardie, B. G. S. (2007). How to project customer retention.
       *Journal of Interactive Marketing*, 21(1), 76-90.
    .. [2] Gupta, S., et al. (2006). Modeling customer lifetime value. *Journal of Service
       Research*, 9(2), 139-155.
    """
    frame = _purchases(customer_ids, dates, amounts)
    frame["cohort"] = frame.groupby("customer", sort=False)["month"].transform("min").to_numpy()
    active = frame.drop_duplicates(["customer", "month"]).groupby(["cohort", "month"]).size()
    revenue = frame.groupby(["cohort", "month"])["amount"].sum()
    cells = pd.DataFrame({"active": active, "revenue": revenue}).reset_index()
    return _build(cells, _last_month(int(frame["month"].max()), end))


def cohort_tables_from_counts(
    cohorts: object, months: object, customers: object, revenue: object, *, end: object = None
) -> CohortTables:
    """Cohort tables from the long form aggregated in the database.

    Parameters
    ----------
    cohorts : array-like, shape (n,)
        Acquisition month of the cell: ``"YYYY-MM"`` strings, dates, or integers
        ``year * 12 + month - 1``.
    months : array-like, shape (n,)
        Activity month of the cell, in the same form.
    customers : array-like of int, shape (n,)
        Customers of the cohort active in that month. The cell with ``months == cohorts``
        holds the cohort size.
    revenue : array-like of float, shape (n,)
        Revenue of the cohort in that month.
    end : date-like, optional
        Last day of the data (see :func:`cohort_tables`).

    Returns
    -------
    CohortTables
        Exactly what :func:`cohort_tables` returns for the underlying purchases.

    Raises
    ------
    ValueError
        On empty or mismatched arrays, a month before its cohort, duplicate cells, a cohort
        without its month-0 cell, negative or missing counts, NaN revenue.

    References
    ----------
    .. [1] Fader, P. S., & Hardie, B. G. S. (2007). How to project customer retention.
       *Journal of Interactive Marketing*, 21(1), 76-90.
    """
    lengths = {len(pd.Series(v)) for v in (cohorts, months, customers, revenue)}
    if len(lengths) != 1:
        raise ValueError("cohorts, months, customers and revenue must have the same length")
    if lengths == {0}:
        raise ValueError("no cohort cells: the arrays are empty")
    cells = pd.DataFrame(
        {
            "cohort": _as_month_numbers(cohorts, "cohorts"),
            "month": _as_month_numbers(months, "months"),
            "active": _as_counts(customers),
            "revenue": _as_amounts(pd.Series(revenue).to_numpy()),
        }
    )
    _check_cells(cells)
    return _build(cells, _last_month(int(cells["month"].max()), end))


def _as_month_numbers(values: object, name: str) -> np.ndarray:
    """Months since 1970-01 from "YYYY-MM" strings, dates or ``year * 12 + month - 1`` integers."""
    series = pd.Series(values).reset_index(drop=True)
    if series.isna().any():
        raise ValueError(f"{name} must not contain missing values")
    if pd.api.types.is_integer_dtype(series) or pd.api.types.is_float_dtype(series):
        return series.to_numpy(dtype=np.int64) - 1970 * 12
    try:
        parsed = pd.to_datetime(series)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} could not be read as months: {exc}") from exc
    if parsed.dt.tz is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.to_numpy().astype("datetime64[M]").astype(np.int64)


def _as_counts(values: object) -> np.ndarray:
    try:
        counts = pd.Series(values).to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError("customers must be numbers") from exc
    if np.isnan(counts).any() or (counts < 0).any() or (counts != np.round(counts)).any():
        raise ValueError("customers must be whole numbers of at least 0")
    return counts.astype(np.int64)


def _check_cells(cells: pd.DataFrame) -> None:
    if (cells["month"] < cells["cohort"]).any():
        raise ValueError("a month cannot come before its cohort")
    if cells.duplicated(["cohort", "month"]).any():
        raise ValueError("each (cohort, month) cell must appear once")
    first = cells.loc[cells["month"] == cells["cohort"], "cohort"]
    if not np.isin(cells["cohort"].unique(), first).all():
        raise ValueError("every cohort needs its month-0 cell (the cohort size)")


def _last_month(latest: int, end: object) -> int:
    if end is None:
        return latest
    try:
        month = int(np.datetime64(pd.Timestamp(end).date(), "M").astype(np.int64))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"end could not be read as a date: {exc}") from exc
    if month < latest:
        raise ValueError("end must not come before the last purchase")
    return month


def _build(cells: pd.DataFrame, last_month: int) -> CohortTables:
    """Wide tables from long cells (cohort, month, active, revenue), masking unobserved cells."""
    cells = cells.assign(offset=cells["month"] - cells["cohort"])
    sizes = cells.loc[cells["offset"] == 0].set_index("cohort")["active"].sort_index()
    offsets = np.arange(last_month - int(sizes.index.min()) + 1)
    observed = _observed_mask(sizes.index.to_numpy(), offsets, last_month)
    wide = {}
    for column in ("active", "revenue"):  # two tables, not a loop over customers
        table = cells.pivot_table(index="cohort", columns="offset", values=column, aggfunc="sum")
        table = table.reindex(index=sizes.index, columns=offsets, fill_value=0).fillna(0)
        wide[column] = table.astype(float).where(observed)
    retention = wide["active"].div(sizes.to_numpy(dtype=float), axis=0)
    return _label(sizes, wide["active"], retention, wide["revenue"])


def _label(sizes: pd.Series, *tables: pd.DataFrame) -> CohortTables:
    labels = _month_labels(sizes.index.to_numpy())
    columns = pd.Index(tables[0].columns.to_numpy(), name="months_since_first")
    sizes_frame = pd.DataFrame({"customers": sizes.to_numpy()}, index=labels)
    labelled = [pd.DataFrame(table.to_numpy(), index=labels, columns=columns) for table in tables]
    return CohortTables(sizes_frame, *labelled)


def _purchase_days(customer_ids: object, dates: object) -> pd.DataFrame:
    """Unique (customer, day) pairs sorted by customer then day."""
    frame = _purchases(customer_ids, dates)
    return frame.drop_duplicates(["customer", "day"]).sort_values(["customer", "day"], kind="stable")


def repeat_purchase_rate(customer_ids: object, dates: object) -> float:
    """Share of customers who bought on at least two different days.

    Parameters
    ----------
    customer_ids : array-like, shape (n,)
        Customer of each purchase.
    dates : array-like of dates, shape (n,)
        Date of each purchase.

    Returns
    -------
    float
        ``customers with >= 2 purchase days / customers`` (0..1).

    Raises
    ------
    ValueError
        On empty or mismatched arrays, missing ids or dates.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the
       easy way. *Marketing Science*, 24(2), 275-284. (Same-day purchases are one transaction.)
    """
    days = _purchase_days(customer_ids, dates)
    per_customer = np.bincount(days["customer"].to_numpy())
    return float(np.mean(per_customer >= 2))


def time_between_orders(customer_ids: object, dates: object) -> TimeBetweenOrders:
    """Median and distribution of days between a customer's consecutive purchase days.

    Parameters
    ----------
    customer_ids : array-like, shape (n,)
        Customer of each purchase.
    dates : array-like of dates, shape (n,)
        Date of each purchase.

    Returns
    -------
    TimeBetweenOrders
        All gaps, their median, mean, quantiles and a histogram. A customer with ``k``
        purchase days contributes ``k - 1`` gaps, so frequent buyers weigh more: this is the
        distribution of the time *between orders*, not of customers' typical gaps.

    Raises
    ------
    ValueError
        On empty or mismatched arrays, missing ids or dates.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the
       easy way. *Marketing Science*, 24(2), 275-284.
    """
    days = _purchase_days(customer_ids, dates)
    customer = days["customer"].to_numpy()
    day = days["day"].to_numpy()
    same_customer = customer[1:] == customer[:-1]
    gaps = (day[1:] - day[:-1])[same_customer]
    return _summarise_gaps(gaps)


def _summarise_gaps(gaps: np.ndarray) -> TimeBetweenOrders:
    levels = [0.1, 0.25, 0.5, 0.75, 0.9]
    edges = [0, *GAP_BINS, np.inf]
    labels = [f"{lo + 1}-{hi}" for lo, hi in zip(edges[:-2], GAP_BINS, strict=True)]
    labels.append(f"{GAP_BINS[-1] + 1}+")
    counts = np.histogram(gaps, bins=np.asarray(edges, dtype=float) + 0.5)[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = counts / counts.sum() if counts.sum() else np.full(len(counts), np.nan)
    histogram = pd.DataFrame({"gaps": counts, "share": share}, index=pd.Index(labels, name="days"))
    if len(gaps) == 0:
        return TimeBetweenOrders(gaps, None, None, pd.Series(np.nan, index=levels), histogram)
    quantiles = pd.Series(np.quantile(gaps, levels), index=levels)
    return TimeBetweenOrders(gaps, float(np.median(gaps)), float(np.mean(gaps)), quantiles, histogram)
