"""Database → numpy/pandas: the only Django-aware module of the analytics core.

Every function here aggregates inside the database (GROUP BY, window functions) and returns one
row per customer, month or product, never one row per order, so a refresh over ten million orders
moves a few million numbers at most. The SQL is written by hand because the Django ORM cannot
aggregate over an aggregate; it runs on SQLite and PostgreSQL alike, with the few expressions
that differ (day and month numbers) chosen by ``Dialect``. Table and column names come from the
models; every value is a query parameter.

Days are whole days since 1970-01-01 in the owner's time zone (``settings.TIME_ZONE``) at its
current UTC offset: purchases on the same local day merge, as the buy-till-you-die models want.
Money is in the owner's currency (``settings.SOLOCRM_CURRENCY``); orders in other currencies
are left out of the money figures (a model of spend cannot add yen to euros).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection

from solocrm.sales.choices import REVENUE_STATUSES

EPOCH = date(1970, 1, 1)
_reused: dict[tuple, pd.DataFrame] | None = None


@contextmanager
def reusing_results() -> Iterator[None]:
    """Inside this block a reusable query asked again with the same arguments is answered with
    a copy of its first result. The refresh asks for the aggregates as of the same day from
    several steps, and nothing it reads changes before its final write."""
    global _reused
    outer, _reused = _reused, {}
    try:
        yield
    finally:
        _reused = outer


DAILY_TABLE = "analytics_daily_purchases"
_daily_end: date | None = None  # the last day the temporary daily table holds, while it exists


@contextmanager
def daily_purchases(end: date) -> Iterator[None]:
    """Inside this block the per-(customer, day) revenue up to ``end`` lives in a temporary table.

    Grouping the orders by customer and day is the costly part of every query below; the
    refresh needs it for the aggregates, the cohorts, the monthly revenue and the churn labels,
    so it is done once into a table private to this database connection (SQLite and PostgreSQL
    both drop it with the connection) and each query reads that instead of the orders.
    """
    global _daily_end
    select, params = _daily_from_orders(end, with_contact=False)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {DAILY_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {DAILY_TABLE} AS {select}", params)
    outer, _daily_end = _daily_end, end
    try:
        yield
    finally:
        _daily_end = outer
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {DAILY_TABLE}")


def _daily_from_orders(end: date, *, with_contact: bool) -> tuple[str, list]:
    d = Dialect.current()
    where, params = _revenue_filter(end, with_contact=with_contact)
    sql = f"""
        SELECT o.contact_id AS c, {d.day("o.ordered_at")} AS d, SUM(o.total) AS amount, COUNT(*) AS n
        FROM {d.all_orders()} WHERE {where}
        GROUP BY o.contact_id, {d.day("o.ordered_at")}
    """  # noqa: S608 - only model names and fixed expressions are interpolated
    return sql, params


def _daily(end: date, *, with_contact: bool = True) -> tuple[str, list]:
    """SQL of the rows (c = contact id, d = local day number, amount, n = orders) of revenue per
    customer and day up to ``end``: from the temporary table when it holds that day, else
    grouped from the orders. Without ``with_contact`` orders of no contact are included (c null)."""
    if _daily_end is None or end > _daily_end:
        return _daily_from_orders(end, with_contact=with_contact)
    known = " AND c IS NOT NULL" if with_contact else ""
    return f"SELECT c, d, amount, n FROM {DAILY_TABLE} WHERE d <= %s{known}", [day_number(end)]  # noqa: S608


def _reusable(query: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
    @functools.wraps(query)
    def answer(*args):
        if _reused is None:
            return query(*args)
        key = (query.__name__, *args)
        if key not in _reused:
            _reused[key] = query(*args)
        return _reused[key].copy()

    return answer


def day_number(day: date) -> int:
    return (day - EPOCH).days


def from_day_numbers(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype="int64").astype("datetime64[D]")


@dataclass(frozen=True)
class Dialect:
    """The SQL expressions that differ between SQLite and PostgreSQL."""

    vendor: str
    offset_seconds: int

    @classmethod
    def current(cls) -> Dialect:
        zone = ZoneInfo(settings.TIME_ZONE)
        offset = datetime.now(zone).utcoffset() or timedelta(0)
        return cls(connection.vendor, int(offset.total_seconds()))

    def day(self, column: str) -> str:
        """Local day number of a timestamp column."""
        if self.vendor == "postgresql":
            return (
                f"(CAST(({column} AT TIME ZONE 'UTC') + make_interval(secs => {self.offset_seconds}) AS date)"
                " - DATE '1970-01-01')"
            )
        return f"CAST(julianday({column}) - 2440587.5 + {self.offset_seconds} / 86400.0 AS INTEGER)"

    def month(self, column: str) -> str:
        """Local month number (year × 12 + month − 1) of a timestamp column. (``%%``: the query
        runs with parameters, so a literal percent sign is doubled.)"""
        if self.vendor == "postgresql":
            local = f"(({column} AT TIME ZONE 'UTC') + make_interval(secs => {self.offset_seconds}))"
            return f"CAST(EXTRACT(YEAR FROM {local}) * 12 + EXTRACT(MONTH FROM {local}) - 1 AS INTEGER)"
        local = f"{column}, '{self.offset_seconds:+d} seconds'"
        year, month = f"strftime('%%Y', {local})", f"strftime('%%m', {local})"
        return f"(CAST({year} AS INTEGER) * 12 + CAST({month} AS INTEGER) - 1)"

    def as_float(self, expression: str) -> str:
        return f"CAST({expression} AS DOUBLE PRECISION)"

    def month_of_day(self, day: str) -> str:
        """Month number of a local day number (as made by ``day``; no time zone shift left)."""
        if self.vendor == "postgresql":
            local = f"(DATE '1970-01-01' + {day})"
            return f"CAST(EXTRACT(YEAR FROM {local}) * 12 + EXTRACT(MONTH FROM {local}) - 1 AS INTEGER)"
        moment = f"{day} * 86400, 'unixepoch'"
        year, month = f"strftime('%%Y', {moment})", f"strftime('%%m', {moment})"
        return f"(CAST({year} AS INTEGER) * 12 + CAST({month} AS INTEGER) - 1)"

    def all_orders(self) -> str:
        """The orders table for a query that reads (nearly) every order. SQLite would otherwise
        walk the ``ordered_at`` or ``contact_id`` index and fetch each row from the table at
        random (2-5x slower than reading the table in order); PostgreSQL's planner knows better."""
        return "sales_order o NOT INDEXED" if self.vendor == "sqlite" else "sales_order o"


def month_of(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_label(month_number: int) -> str:
    return f"{month_number // 12:04d}-{month_number % 12 + 1:02d}"


def _local_midnight_utc(day: date) -> datetime:
    """The UTC instant at which ``day`` begins in the owner's time zone (at its current offset)."""
    offset = Dialect.current().offset_seconds
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(seconds=offset)


def _revenue_filter(end: date, *, with_contact: bool = True) -> tuple[str, list]:
    """WHERE clause for the orders that count as revenue, up to the end of day ``end``."""
    statuses = sorted(s.value for s in REVENUE_STATUSES)
    clause = f"o.status IN ({', '.join(['%s'] * len(statuses))}) AND o.currency = %s AND o.ordered_at < %s"
    params = [*statuses, settings.SOLOCRM_CURRENCY, _local_midnight_utc(end + timedelta(days=1))]
    if with_contact:
        clause += " AND o.contact_id IS NOT NULL"
    return clause, params


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({name: np.array([], dtype="float64") for name in columns})
    return pd.DataFrame.from_records(rows, columns=columns)


AGGREGATE_COLUMNS = [
    "first_day", "last_day", "active_days", "orders", "total_spend", "first_day_spend",
    "days_90", "days_365", "spend_365",
]  # fmt: skip
# The columns that depend on the end day, in the order of the query's conditional sums.
PER_END_COLUMNS = ["last_day", "active_days", "orders", "total_spend", "days_90", "days_365", "spend_365"]
INTEGER_AGGREGATES = ["first_day", "last_day", "active_days", "orders", "days_90", "days_365"]


@_reusable
def customer_aggregates(end: date) -> pd.DataFrame:
    """One row per customer with at least one paid order up to ``end`` (inclusive).

    Columns: contact_id, first_day, last_day (datetime64[D]), active_days (distinct purchase
    days), orders, total_spend, first_day_spend, days_90 and days_365 (purchase days in the last
    90 / 365 days), spend_365 — exactly what ``summary.summary_from_aggregates`` and the churn
    features need, computed in two GROUP BYs inside the database.
    """
    return customer_aggregates_at([end])[end]


def customer_aggregates_at(ends: list[date]) -> dict[date, pd.DataFrame]:
    """``customer_aggregates`` as of several days from one pass over the orders.

    Sorting the orders into (customer, day) groups is most of the cost, and the churn model
    needs the aggregates as of three days: one query with a set of conditional sums per day
    sorts once. A customer's first purchase day does not depend on the end day, so the first
    day's spend is shared. Inside ``reusing_results()`` every result is kept for later calls.
    """
    d = Dialect.current()
    days = sorted(set(ends))
    daily, params = _daily(days[-1])
    per_end = []
    for end in days:
        e = day_number(end)
        inside = f"d <= {e}"  # an integer computed here, never user input
        per_end += [
            f"MAX(CASE WHEN {inside} THEN d END)",
            f"SUM(CASE WHEN {inside} THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN {inside} THEN n ELSE 0 END)",
            d.as_float(f"SUM(CASE WHEN {inside} THEN amount ELSE 0 END)"),
            f"SUM(CASE WHEN {inside} AND d > {e - 90} THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN {inside} AND d > {e - 365} THEN 1 ELSE 0 END)",
            d.as_float(f"SUM(CASE WHEN {inside} AND d > {e - 365} THEN amount ELSE 0 END)"),
        ]
    sql = f"""
        WITH daily AS ({daily}), ranked AS (
            SELECT c, d, amount, n, MIN(d) OVER (PARTITION BY c) AS first_d FROM daily
        )
        SELECT c, MIN(d), {d.as_float("SUM(CASE WHEN d = first_d THEN amount ELSE 0 END)")},
               {", ".join(per_end)}
        FROM ranked GROUP BY c ORDER BY c
    """  # noqa: S608 - only model names, fixed expressions and computed integers are interpolated
    columns = [f"{name}_{k}" for k in range(len(days)) for name in PER_END_COLUMNS]
    rows = _frame(_fetch(sql, params), ["contact_id", "first_day", "first_day_spend", *columns])
    return {end: _aggregates_as_of(rows, k, end) for k, end in enumerate(days)}


def _aggregates_as_of(rows: pd.DataFrame, k: int, end: date) -> pd.DataFrame:
    """The columns of end number ``k``, for the customers who had bought by then."""
    frame = pd.DataFrame(
        {
            "contact_id": rows["contact_id"],
            "first_day": rows["first_day"],
            "first_day_spend": rows["first_day_spend"],
            **{name: rows[f"{name}_{k}"] for name in PER_END_COLUMNS},
        }
    )
    frame = frame[frame["first_day"] <= day_number(end)]
    frame = frame.astype({"contact_id": "int64", **dict.fromkeys(INTEGER_AGGREGATES, "int64")})
    frame = frame.set_index("contact_id")[AGGREGATE_COLUMNS]
    for column in ("first_day", "last_day"):
        frame[column] = from_day_numbers(frame[column].to_numpy())
    if _reused is not None:
        _reused[("customer_aggregates", end)] = frame
    return frame.copy() if _reused is not None else frame


def purchase_days_between(start: date, end: date) -> pd.Series:
    """Number of purchase days per customer in the days after ``start`` up to ``end`` inclusive
    (the churn label: did they buy again in the window?)."""
    daily, params = _daily(end)
    sql = f"SELECT c, COUNT(*) FROM ({daily}) daily WHERE d > %s GROUP BY c"  # noqa: S608
    rows = _fetch(sql, [*params, day_number(start)])
    return pd.Series(dict(rows), dtype="int64", name="purchase_days")


def engagement(end: date, days: int = 90) -> pd.DataFrame:
    """Per contact, timeline entries in the ``days`` before ``end`` other than survey answers:
    all of them, e-mails and chats received (the customer reaching out), and calls and meetings."""
    sql = """
        SELECT i.contact_id, COUNT(*),
               SUM(CASE WHEN i.kind IN ('email_in', 'chat') THEN 1 ELSE 0 END),
               SUM(CASE WHEN i.kind IN ('call', 'meeting') THEN 1 ELSE 0 END)
        FROM contacts_interaction i
        WHERE i.contact_id IS NOT NULL AND i.occurred_at >= %s AND i.occurred_at < %s AND i.kind <> 'survey'
        GROUP BY i.contact_id
    """
    rows = _fetch(
        sql,
        [_local_midnight_utc(end - timedelta(days=days - 1)), _local_midnight_utc(end + timedelta(days=1))],
    )
    frame = _frame(rows, ["contact_id", "interactions_90", "inbound_90", "conversations_90"])
    return frame.astype("int64").set_index("contact_id")


@_reusable
def cohort_counts(end: date) -> pd.DataFrame:
    """Customers active and revenue per (acquisition month, activity month): the cohort matrix in
    long form, one row per cell. Months are month numbers (see ``Dialect.month``)."""
    d = Dialect.current()
    daily, params = _daily(end)
    sql = f"""
        WITH monthly AS (
            SELECT c, {d.month_of_day("d")} AS m, SUM(amount) AS amount
            FROM ({daily}) daily GROUP BY c, {d.month_of_day("d")}
        ), cohorts AS (
            SELECT c, m, amount, MIN(m) OVER (PARTITION BY c) AS cohort FROM monthly
        )
        SELECT cohort, m, COUNT(*), {d.as_float("SUM(amount)")} FROM cohorts GROUP BY cohort, m
    """  # noqa: S608
    return _frame(_fetch(sql, params), ["cohort", "month", "customers", "revenue"])


def monthly_revenue(end: date) -> pd.Series:
    """Revenue per calendar month up to ``end`` (orders with or without a contact), as a Series
    indexed by month number, with the empty months in between filled with zero.

    The customers' part is the cohort cells summed by month (the refresh has them already); only
    the orders of no contact are read again, through the contact index."""
    d = Dialect.current()
    cells = cohort_counts(end)
    customers = cells.groupby("month")["revenue"].sum() if not cells.empty else pd.Series(dtype="float64")
    where, params = _revenue_filter(end, with_contact=False)
    sql = f"""
        SELECT {d.month("o.ordered_at")}, {d.as_float("SUM(o.total)")}
        FROM sales_order o WHERE {where} AND o.contact_id IS NULL GROUP BY {d.month("o.ordered_at")}
    """  # noqa: S608
    anonymous = pd.Series(dict(_fetch(sql, params)), dtype="float64")
    series = customers.astype("float64").add(anonymous, fill_value=0.0)
    if series.empty:
        return series
    series.index = series.index.astype("int64")
    return series.reindex(range(int(series.index.min()), int(series.index.max()) + 1), fill_value=0.0)


def product_purchases(end: date, since: date) -> pd.DataFrame:
    """Distinct (customer, product, purchase day) of paid orders between ``since`` and ``end``:
    the input of the co-purchase recommender and the association rules. A product is its catalogue
    name, or the line's own name when the line has no product (imported orders)."""
    d = Dialect.current()
    where, params = _revenue_filter(end)
    sql = f"""
        SELECT o.contact_id, o.id, COALESCE(p.name, l.name), {d.day("o.ordered_at")}
        FROM sales_order o
        JOIN sales_orderline l ON l.order_id = o.id
        LEFT JOIN sales_product p ON p.id = l.product_id
        WHERE {where} AND o.ordered_at >= %s
        GROUP BY o.contact_id, o.id, COALESCE(p.name, l.name), {d.day("o.ordered_at")}
    """  # noqa: S608
    rows = _fetch(sql, [*params, _local_midnight_utc(since)])
    frame = _frame(rows, ["contact_id", "order_id", "item", "day"])
    return frame.astype({"contact_id": "int64", "order_id": "int64", "day": "int64"})


def survey_answers(end: date, recent_from: date) -> pd.DataFrame:
    """Counts of survey answers per (month, metric, score), and per contact for the answers
    given since ``recent_from`` (``contact`` is null before it): NPS, CSAT and CES are all
    computed from these counts, so older answers never leave the database one by one, and the
    recent ones can be grouped by the segment this very refresh gives each customer. Answers are
    timeline entries of kind "survey" with data {"metric", "score"}."""
    from solocrm.contacts.models import Interaction

    d = Dialect.current()
    answers = Interaction.objects.filter(
        kind="survey", occurred_at__lt=_local_midnight_utc(end + timedelta(1))
    )
    sql, params = answers.values("id").query.sql_with_params()
    metric = _json_text("i.data", "metric")
    score = _json_text("i.data", "score")
    contact = "CASE WHEN i.occurred_at >= %s THEN i.contact_id END"
    query = f"""
        SELECT {d.month("i.occurred_at")}, {metric}, {score}, {contact}, COUNT(*)
        FROM contacts_interaction i
        WHERE i.id IN ({sql})
        GROUP BY {d.month("i.occurred_at")}, {metric}, {score}, {contact}
    """  # noqa: S608
    since = _local_midnight_utc(recent_from)
    frame = _frame(_fetch(query, [since, *params, since]), ["month", "metric", "score", "contact", "answers"])
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce")
    return frame.dropna(subset=["score"])


def _json_text(column: str, key: str) -> str:
    """A JSON object's value as text (the key is a fixed identifier, never user input)."""
    if connection.vendor == "postgresql":
        return f"({column}::jsonb ->> '{key}')"
    return f"json_extract({column}, '$.{key}')"


@_reusable
def contact_attributes(end: date) -> pd.DataFrame:
    """Per contact created up to ``end``: acquisition channel and source, lifecycle stage, what
    is known about them (company, phone, e-mail consent), timeline entries in their first 30
    days, and whether and when they first bought (any currency: a purchase is a conversion).
    Input of lead scoring and of the marketing metrics."""
    d = Dialect.current()
    statuses = sorted(s.value for s in REVENUE_STATUSES)
    marks = ", ".join(["%s"] * len(statuses))
    cutoff = _local_midnight_utc(end + timedelta(days=1))
    sql = f"""
        WITH first_orders AS (
            SELECT o.contact_id AS c, MIN(o.ordered_at) AS first_at FROM sales_order o
            WHERE o.status IN ({marks}) AND o.contact_id IS NOT NULL AND o.ordered_at < %s
            GROUP BY o.contact_id
        ), early AS (
            SELECT i.contact_id AS c, COUNT(*) AS n FROM contacts_interaction i
            JOIN contacts_contact k ON k.id = i.contact_id
            WHERE i.occurred_at < %s AND {d.day("i.occurred_at")} <= {d.day("k.created_at")} + 30
            GROUP BY i.contact_id
        )
        SELECT k.id, k.channel, k.source, k.lifecycle_stage,
               CASE WHEN k.company_id IS NULL THEN 0 ELSE 1 END,
               CASE WHEN k.phone = '' THEN 0 ELSE 1 END,
               CASE WHEN k.email_consent_at IS NULL THEN 0 ELSE 1 END,
               COALESCE(early.n, 0), {d.day("k.created_at")},
               CASE WHEN f.first_at IS NULL THEN NULL ELSE {d.day("f.first_at")} END
        FROM contacts_contact k
        LEFT JOIN first_orders f ON f.c = k.id
        LEFT JOIN early ON early.c = k.id
        WHERE k.created_at < %s
    """  # noqa: S608
    rows = _fetch(sql, [*statuses, cutoff, cutoff, cutoff])
    columns = [
        "contact_id", "channel", "source", "lifecycle_stage", "has_company", "has_phone", "has_consent",
        "early_interactions", "created_day", "first_order_day",
    ]  # fmt: skip
    frame = _frame(rows, columns)
    return frame.astype({"contact_id": "int64"}).set_index("contact_id")
