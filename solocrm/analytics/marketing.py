"""Marketing metrics: response and conversion rates, per-channel performance, AOV, repeat rate.

Django-free: numpy and pandas only. Rates are fractions (0..1); a rate whose denominator is 0
is None (scalars) or NaN (arrays and tables), never infinite.

References
----------
.. [1] Farris, P. W., Bendle, N. T., Pfeifer, P. E., & Reibstein, D. J. (2010). *Marketing
   Metrics: The Definitive Guide to Measuring Marketing Performance* (2nd ed.). Wharton School
   Publishing. (Ch. 8-9: response rate, conversion rate, average order value; ch. 5: repeat
   rate.)
.. [2] Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy
   way. *Marketing Science*, 24(2), 275-284. (Same-day purchases are one transaction.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cohorts import repeat_purchase_rate

__all__ = [
    "CHANNEL_COLUMNS",
    "NO_CHANNEL",
    "average_order_value",
    "channel_metrics",
    "conversion_rate",
    "repeat_rate",
    "response_rate",
]

#: Channel label of contacts whose acquisition channel is unknown.
NO_CHANNEL = ""

#: Columns of :func:`channel_metrics`, in order.
CHANNEL_COLUMNS = ["contacts", "customers", "conversion_rate", "revenue", "orders", "aov", "repeat_rate"]


def _rate(numerator: object, denominator: object, names: tuple[str, str]) -> float | np.ndarray | None:
    """``numerator / denominator`` for counts, None/NaN where the denominator is 0."""
    try:
        num = np.asarray(numerator, dtype=float)
        den = np.asarray(denominator, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{names[0]} and {names[1]} must be numbers") from exc
    if num.shape != den.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got {num.shape} and {den.shape}"
        )
    if not (np.isfinite(num).all() and np.isfinite(den).all()):
        raise ValueError(f"{names[0]} and {names[1]} must not contain NaN or infinite values")
    if (num < 0).any() or (den < 0).any():
        raise ValueError(f"{names[0]} and {names[1]} must not be negative")
    if (num > den).any():
        raise ValueError(f"{names[0]} cannot be larger than {names[1]}")
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    if rate.ndim == 0:
        return None if den == 0 else float(rate)
    return rate


def response_rate(responded: object, sent: object) -> float | np.ndarray | None:
    """Share of contacted people who responded: ``responded / sent``.

    Parameters
    ----------
    responded : int or array-like of int
        How many responded (opened, clicked, replied — whatever the campaign counts).
    sent : int or array-like of int
        How many were contacted (delivered messages, not attempted ones).

    Returns
    -------
    float, numpy.ndarray or None
        0..1; None for a scalar with ``sent == 0``, NaN in arrays.

    Raises
    ------
    ValueError
        On negative counts, NaN, mismatched shapes or ``responded > sent``.

    References
    ----------
    .. [1] Farris, P. W., et al. (2010). *Marketing Metrics* (2nd ed.), ch. 9. Wharton School
       Publishing.

    Examples
    --------
    >>> response_rate(25, 1000)
    0.025
    >>> response_rate(0, 0) is None
    True
    """
    return _rate(responded, sent, ("responded", "sent"))


def conversion_rate(converted: object, total: object) -> float | np.ndarray | None:
    """Share of prospects who became buyers: ``converted / total``.

    Parameters
    ----------
    converted : int or array-like of int
        How many converted (e.g. placed a first order).
    total : int or array-like of int
        How many had the chance to (contacts, leads, visitors).

    Returns
    -------
    float, numpy.ndarray or None
        0..1; None for a scalar with ``total == 0``, NaN in arrays.

    Raises
    ------
    ValueError
        On negative counts, NaN, mismatched shapes or ``converted > total``.

    References
    ----------
    .. [1] Farris, P. W., et al. (2010). *Marketing Metrics* (2nd ed.), ch. 9. Wharton School
       Publishing.

    Examples
    --------
    >>> conversion_rate(3, 40)
    0.075
    """
    return _rate(converted, total, ("converted", "total"))


def average_order_value(amounts: object) -> float | None:
    """Average order value: revenue divided by the number of orders.

    Parameters
    ----------
    amounts : array-like of float
        The total of each order.

    Returns
    -------
    float or None
        ``sum(amounts) / len(amounts)``; None without orders.

    Raises
    ------
    ValueError
        On NaN or infinite amounts.

    References
    ----------
    .. [1] Farris, P. W., et al. (2010). *Marketing Metrics* (2nd ed.), ch. 8. Wharton School
       Publishing.

    Examples
    --------
    >>> average_order_value([10.0, 30.0])
    20.0
    """
    values = _amounts(amounts)
    return None if len(values) == 0 else float(values.mean())


def repeat_rate(customer_ids: object, dates: object) -> float | None:
    """Share of buying customers who bought on at least two different days.

    Parameters
    ----------
    customer_ids : array-like, shape (n,)
        Customer of each order.
    dates : array-like of dates, shape (n,)
        Date of each order.

    Returns
    -------
    float or None
        0..1; None without orders.

    Raises
    ------
    ValueError
        On mismatched lengths, missing ids or dates.

    References
    ----------
    .. [1] Farris, P. W., et al. (2010). *Marketing Metrics* (2nd ed.), ch. 5. Wharton School
       Publishing.
    .. [2] Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the
       easy way. *Marketing Science*, 24(2), 275-284.
    """
    if len(pd.Series(customer_ids)) == 0 and len(pd.Series(dates)) == 0:
        return None
    return repeat_purchase_rate(customer_ids, dates)


def _amounts(amounts: object) -> np.ndarray:
    try:
        values = np.asarray(amounts, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise ValueError("amounts must be numbers") from exc
    if not np.isfinite(values).all():
        raise ValueError("amounts must not contain NaN or infinite values")
    return values


def _require_columns(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame")
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {missing}; it needs {columns}")


def _orders_per_customer(orders: pd.DataFrame) -> pd.DataFrame:
    """Per customer: revenue, orders and distinct purchase days."""
    if orders["customer"].isna().any():
        raise ValueError("orders.customer must not contain missing values")
    amount = _amounts(orders["amount"])
    try:
        day = pd.to_datetime(orders["date"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"orders.date could not be read as dates: {exc}") from exc
    if day.isna().any():
        raise ValueError("orders.date must not contain missing values")
    if day.dt.tz is not None:
        day = day.dt.tz_localize(None)  # the local calendar day of aware times
    day = day.dt.normalize()
    frame = pd.DataFrame({"customer": orders["customer"].to_numpy(), "amount": amount, "day": day.to_numpy()})
    grouped = frame.groupby("customer", sort=False)
    return pd.DataFrame(
        {"revenue": grouped["amount"].sum(), "orders": grouped.size(), "days": grouped["day"].nunique()}
    )


def channel_metrics(contacts: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """Performance of each acquisition channel.

    Parameters
    ----------
    contacts : pandas.DataFrame
        Columns ``customer`` (unique id) and ``channel`` (where the contact came from; missing
        channels are grouped under :data:`NO_CHANNEL`).
    orders : pandas.DataFrame
        Columns ``customer``, ``date``, ``amount``: one row per order. Orders of customers not
        in ``contacts`` are ignored.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``channel`` (sorted), columns :data:`CHANNEL_COLUMNS`:

        * ``contacts`` — contacts acquired through the channel;
        * ``customers`` — of those, how many placed at least one order;
        * ``conversion_rate`` — ``customers / contacts``;
        * ``revenue`` — sum of their orders;
        * ``orders`` — number of their orders;
        * ``aov`` — ``revenue / orders`` (NaN without orders);
        * ``repeat_rate`` — share of ``customers`` who bought on two or more different days
          (NaN without customers).

        Empty ``contacts`` give an empty frame with these columns.

    Raises
    ------
    ValueError
        On missing columns, duplicate contacts, missing ids or dates, NaN amounts.

    References
    ----------
    .. [1] Farris, P. W., et al. (2010). *Marketing Metrics* (2nd ed.), ch. 5, 8, 9. Wharton
       School Publishing.
    """
    _require_columns(contacts, ["customer", "channel"], "contacts")
    _require_columns(orders, ["customer", "date", "amount"], "orders")
    if contacts["customer"].isna().any():
        raise ValueError("contacts.customer must not contain missing values")
    if contacts["customer"].duplicated().any():
        raise ValueError("contacts.customer must be unique: one acquisition channel per contact")
    per_customer = _orders_per_customer(orders)
    channel = contacts["channel"].astype(object).where(contacts["channel"].notna(), NO_CHANNEL)
    frame = pd.DataFrame({"channel": channel.to_numpy(), "customer": contacts["customer"].to_numpy()})
    frame = frame.join(per_customer, on="customer")
    frame = frame.fillna({"revenue": 0.0, "orders": 0, "days": 0})
    return _aggregate_channels(frame)


def _aggregate_channels(frame: pd.DataFrame) -> pd.DataFrame:
    frame["bought"] = frame["orders"] > 0
    frame["repeat"] = frame["days"] >= 2
    table = frame.groupby("channel", sort=True).agg(
        contacts=("customer", "size"),
        customers=("bought", "sum"),
        revenue=("revenue", "sum"),
        orders=("orders", "sum"),
        repeaters=("repeat", "sum"),
    )
    table = table.astype({"contacts": "int64", "customers": "int64", "orders": "int64"})
    table["revenue"] = table["revenue"].astype(float)
    table["conversion_rate"] = _rate(table["customers"], table["contacts"], ("customers", "contacts"))
    table["aov"] = _safe_divide(table["revenue"], table["orders"])
    table["repeat_rate"] = _rate(table["repeaters"], table["customers"], ("repeaters", "customers"))
    table.index.name = "channel"
    return table[CHANNEL_COLUMNS]


def _safe_divide(numerator: pd.Series, denominator: pd.Series) -> np.ndarray:
    num = numerator.to_numpy(dtype=float)
    den = denominator.to_numpy(dtype=float)
    return np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0)
