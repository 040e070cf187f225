"""Per-customer and per-contact features: one definition of every model's input.

Django-free. The refresh reads aggregates from the database (``queries``) and the library
functions read transactions; both build the model inputs here, so the churn model, the lead
scorer and the personas see one meaning of each column wherever their data comes from.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy
   way: an alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284 (frequency
   counts repeat purchase days; recency and tenure).
.. [2] Neslin, S. A., Gupta, S., Kamakura, W., Lu, J. & Mason, C. H. (2006). Defection
   detection: measuring and understanding the predictive accuracy of customer churn models.
   *Journal of Marketing Research* 43(2), 204-211 (recency, frequency, monetary value and
   tenure as the core churn predictors).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "CHURN_COLUMNS",
    "PERSONA_FEATURES",
    "churn_behaviour",
    "churn_features_from_aggregates",
    "customer_table",
    "lead_features",
    "persona_features",
]

CHURN_COLUMNS = [
    "recency_days", "tenure_days", "orders", "frequency", "total_spend", "avg_order_value",
    "orders_90d", "orders_365d", "spend_365d", "mean_days_between", "overdue_ratio",
]  # fmt: skip
PERSONA_FEATURES = ["total_spend", "orders", "days_since_last", "average_order_value", "tenure_days"]


def churn_behaviour(
    *,
    recency_days: np.ndarray,
    tenure_days: np.ndarray,
    orders: np.ndarray,
    purchase_days: np.ndarray,
    total_spend: np.ndarray,
    recent_90: np.ndarray,
    recent_365: np.ndarray,
    spend_365: np.ndarray,
    index: pd.Index,
    one_time_gap: Literal["tenure", "missing"],
) -> pd.DataFrame:
    """The behaviour features of the churn model (columns ``CHURN_COLUMNS``) from per-customer
    aggregates as of a cutoff.

    Parameters
    ----------
    recency_days, tenure_days : array-like
        Days from the last / first purchase to the cutoff.
    orders, purchase_days : array-like
        Orders, and distinct purchase days (``frequency`` is ``purchase_days - 1``, as in [1]).
    total_spend : array-like
    recent_90, recent_365, spend_365 : array-like
        Purchases in the last 90 and 365 days (the caller says what it counts: orders, or
        purchase days) and the spend of the last 365 days.
    index : pandas.Index
        The customers, in the order of the arrays.
    one_time_gap : {"tenure", "missing"}
        ``mean_days_between`` of a one-time buyer: the tenure (a lower bound of the gap) or
        missing (a model with missing-value indicators learns "one purchase" itself).

    Returns
    -------
    pandas.DataFrame
        ``recency_days``, ``tenure_days``, ``orders``, ``frequency``, ``total_spend``,
        ``avg_order_value``, ``orders_90d``, ``orders_365d``, ``spend_365d``,
        ``mean_days_between`` (span between first and last purchase over ``frequency``) and
        ``overdue_ratio`` (recency over the mean gap, the gap counted as at least one day).

    References
    ----------
    .. [1] Fader, Hardie & Lee (2005).
    .. [2] Neslin et al. (2006).
    """
    recency = np.asarray(recency_days, dtype=float)
    tenure = np.asarray(tenure_days, dtype=float)
    count = np.asarray(orders, dtype=float)
    spend = np.asarray(total_spend, dtype=float)
    frequency = np.asarray(purchase_days, dtype=float) - 1.0
    span = tenure - recency
    otherwise = tenure if one_time_gap == "tenure" else np.full(len(tenure), np.nan)
    gap = np.divide(span, frequency, out=otherwise.copy(), where=frequency > 0)
    frame = pd.DataFrame(
        {
            "recency_days": recency,
            "tenure_days": tenure,
            "orders": count,
            "frequency": frequency,
            "total_spend": spend,
            "avg_order_value": spend / count,
            "orders_90d": np.asarray(recent_90, dtype=float),
            "orders_365d": np.asarray(recent_365, dtype=float),
            "spend_365d": np.asarray(spend_365, dtype=float),
            "mean_days_between": gap,
            "overdue_ratio": recency / np.maximum(gap, 1.0),
        },
        index=index,
    )
    return frame


def churn_features_from_aggregates(aggregates: pd.DataFrame, end: date) -> pd.DataFrame:
    """The churn features as of the end of ``end`` from database aggregates (the columns of
    ``queries.customer_aggregates``): recent purchases count purchase days (same-day orders
    merged) and a one-time buyer's mean gap is missing. Training and scoring both use this, so
    the model sees one meaning."""
    stop = np.datetime64(end, "D")
    return churn_behaviour(
        recency_days=(stop - aggregates["last_day"].to_numpy("datetime64[D]")).astype("int64"),
        tenure_days=(stop - aggregates["first_day"].to_numpy("datetime64[D]")).astype("int64"),
        orders=aggregates["orders"].to_numpy(),
        purchase_days=aggregates["active_days"].to_numpy(),
        total_spend=aggregates["total_spend"].to_numpy(),
        recent_90=aggregates["days_90"].to_numpy(),
        recent_365=aggregates["days_365"].to_numpy(),
        spend_365=aggregates["spend_365"].to_numpy(),
        index=aggregates.index,
        one_time_gap="missing",
    )


def customer_table(summary: pd.DataFrame, aggregates: pd.DataFrame) -> pd.DataFrame:
    """The refresh's table of buyers: the buy-till-you-die summary in days (``summary`` from
    ``summary.summary_from_aggregates``) with the first and last order day and the spend
    figures the scores show (days as ``datetime64``: no Python object per customer)."""
    frame = pd.DataFrame(index=summary.index)
    frame["orders"] = summary["orders"].astype("int64")
    frame["frequency"] = summary["frequency"].astype("int64")
    frame["recency_days"] = summary["recency"]
    frame["tenure_days"] = summary["T"]
    frame["days_since_last"] = summary["T"] - summary["recency"]
    frame["monetary_value"] = summary["monetary_value"]
    frame["first_order_at"] = aggregates["first_day"].to_numpy("datetime64[D]")
    frame["last_order_at"] = aggregates["last_day"].to_numpy("datetime64[D]")
    frame["total_spend"] = summary["total_spend"].round(2)
    frame["average_order_value"] = (summary["total_spend"] / summary["orders"]).round(2)
    return frame


def lead_features(contacts: pd.DataFrame) -> pd.DataFrame:
    """The lead scorer's input per contact (``queries.contact_attributes``): the acquisition
    channel as the source, engagement in the first 30 days and what is known about them."""
    return pd.DataFrame(
        {
            "source": contacts["channel"].replace("", "unknown"),
            "early_interactions": contacts["early_interactions"].astype(float),
            "has_company": contacts["has_company"].astype(bool),
            "has_phone": contacts["has_phone"].astype(bool),
            "has_consent": contacts["has_consent"].astype(bool),
        },
        index=contacts.index,
    )


def persona_features(customers: pd.DataFrame) -> pd.DataFrame:
    """The personas' clustering input (``PERSONA_FEATURES``) from the customer table."""
    return customers[PERSONA_FEATURES].astype(float)
