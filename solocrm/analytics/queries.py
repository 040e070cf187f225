"""Database → numpy/pandas: the only Django-aware module of the analytics core.

Every function here aggregates inside the database (GROUP BY, window functions) and returns one
row per customer, month or product, never one row per order, so a refresh over ten million orders
moves a few million numbers at most. The SQL is written by hand because the Django ORM cannot
aggregate over an aggregate; it runs on SQLite and PostgreSQL alike, with the few expressions
that differ (day and month numbers) chosen by ``Dialect``. Table and column names come from the
models; every value is a query parameter.

Days are whole days since 1970-01-01 in the owner's time zone (``business_settings().zone``) at its
current UTC offset: purchases on the same local day merge, as the buy-till-you-die models want.
Money is in the owner's currency (``business_settings().currency``); orders in other currencies
are left out of the money figures (a model of spend cannot add yen to euros).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
from django.db import connection, connections
from pandas.api.types import union_categoricals

from solocrm.contacts.models import Contact, Interaction
from solocrm.lib.business import business_settings
from solocrm.sales.choices import REVENUE_STATUSES
from solocrm.sales.models import Order, OrderLine, Product

EPOCH = date(1970, 1, 1)


class Names:
    """The quoted table and column names of a model, for the hand-written SQL: ``str(O)`` is the
    table, ``O.contact`` the column of the field ``contact`` (``contact_id``). Read from the
    model's ``_meta`` at each use, so a renamed table or column follows the model."""

    def __init__(self, model: type) -> None:
        self._model = model

    def __str__(self) -> str:
        return connection.ops.quote_name(self._model._meta.db_table)

    def __getattr__(self, field: str) -> str:
        if field.startswith("_"):
            raise AttributeError(field)
        return connection.ops.quote_name(self._model._meta.get_field(field).column)


O, L, P, K, I = Names(Order), Names(OrderLine), Names(Product), Names(Contact), Names(Interaction)  # noqa: E741
_reused: dict[tuple, pd.DataFrame | Future] | None = None
_background: ThreadPoolExecutor | None = None


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

    The table also holds each day's month number, and on SQLite its rows are stored in
    (customer, month, day) order (a WITHOUT ROWID table keyed on them, filled in that order), so
    the GROUP BY customer and GROUP BY customer, month that read it need no sort. PostgreSQL gets
    the table's statistics (ANALYZE): autovacuum never looks at a temporary table.
    """
    global _daily_end
    select, params = _daily_from_orders(end)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {DAILY_TABLE}")
        if connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE TEMPORARY TABLE {DAILY_TABLE} (c INT NOT NULL, m INTEGER NOT NULL, "
                "d INTEGER NOT NULL, amount, n INTEGER NOT NULL, PRIMARY KEY (c, m, d)) WITHOUT ROWID"
            )
            cursor.execute(f"INSERT INTO {DAILY_TABLE} (c, m, d, amount, n) {select}", params)
        else:
            cursor.execute(f"CREATE TEMPORARY TABLE {DAILY_TABLE} AS {select}", params)
            cursor.execute(f"ANALYZE {DAILY_TABLE}")
    outer, _daily_end = _daily_end, end
    try:
        yield
    finally:
        _daily_end = outer
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {DAILY_TABLE}")


def _daily_from_orders(end: date) -> tuple[str, list]:
    d = Dialect.current()
    where, params = _revenue_filter(end)
    day = d.day(f"o.{O.ordered_at}")
    sql = f"""
        SELECT c, {d.month_of_day("d")} AS m, d, amount, n FROM (
            SELECT o.{O.contact} AS c, {day} AS d, SUM(o.{O.total}) AS amount, COUNT(*) AS n
            FROM {d.all_orders()} WHERE {where}
            GROUP BY o.{O.contact}, {day}
        ) grouped
    """  # noqa: S608 - only model names and fixed expressions are interpolated
    return sql, params


def _daily(end: date) -> tuple[str, list]:
    """SQL of the rows (c = contact id, m = month number, d = local day number, amount, n =
    orders) of revenue per customer and day up to ``end``: from the temporary table when it
    holds that day, else grouped from the orders."""
    if _daily_end is None or end > _daily_end:
        return _daily_from_orders(end)
    return f"SELECT c, m, d, amount, n FROM {DAILY_TABLE} WHERE d <= %s", [day_number(end)]  # noqa: S608


def _reusable(query: Callable[..., pd.DataFrame] | None = None, *, once: bool = False):
    """A query whose result ``reusing_results`` keeps for the next caller with the same
    arguments (a copy each time), or, with ``once``, hands over the first time without a copy
    (a large result asked for once, worth computing ahead with ``prefetch``)."""
    if query is None:
        return functools.partial(_reusable, once=once)

    @functools.wraps(query)
    def answer(*args):
        if _reused is None:
            return query(*args)
        key = (query.__name__, *args)
        if once:
            pending = _reused.pop(key, None)
            return query(*args) if pending is None else pending.result()
        if isinstance(_reused.get(key), Future):
            _reused[key] = _reused[key].result()
        if key not in _reused:
            _reused[key] = query(*args)
        return _reused[key].copy()

    return answer


@contextmanager
def background_queries() -> Iterator[None]:
    """Inside this block (and inside ``reusing_results``), ``prefetch`` runs queries on a second
    database connection in a thread while this one works: the database (SQLite in C, without
    Python's lock; PostgreSQL in its own process) then uses the machine's second core."""
    global _background
    outer, _background = _background, ThreadPoolExecutor(max_workers=1, thread_name_prefix="analytics-query")
    try:
        yield
    finally:
        _background.shutdown(wait=True, cancel_futures=True)
        _background = outer


def prefetch(query: Callable[..., pd.DataFrame], *args) -> None:
    """Start ``query(*args)`` (a reusable query that does not read the temporary daily table)
    in the background; the step that asks for it later gets its result. Inside a transaction a
    second connection would not see this one's uncommitted rows, so there it does nothing."""
    if _reused is None or _background is None or connection.in_atomic_block:
        return
    key = (query.__name__, *args)
    if key not in _reused:
        _reused[key] = _background.submit(_on_own_connection, query.__wrapped__, args)


def _on_own_connection(query: Callable[..., pd.DataFrame], args: tuple) -> pd.DataFrame:
    try:
        return query(*args)
    finally:
        connections.close_all()  # this thread's connections: Django opens one per thread


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
        zone = business_settings().zone
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
        return f"{O} o NOT INDEXED" if self.vendor == "sqlite" else f"{O} o"


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
    marks = ", ".join(["%s"] * len(statuses))
    clause = f"o.{O.status} IN ({marks}) AND o.{O.currency} = %s AND o.{O.ordered_at} < %s"
    params = [*statuses, business_settings().currency, _local_midnight_utc(end + timedelta(days=1))]
    if with_contact:
        clause += f" AND o.{O.contact} IS NOT NULL"
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


@_reusable
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
    inbound, talks = "'email_in', 'chat'", "'call', 'meeting'"
    sql = f"""
        SELECT i.{I.contact}, COUNT(*),
               SUM(CASE WHEN i.{I.kind} IN ({inbound}) THEN 1 ELSE 0 END),
               SUM(CASE WHEN i.{I.kind} IN ({talks}) THEN 1 ELSE 0 END)
        FROM {I} i
        WHERE i.{I.contact} IS NOT NULL AND i.{I.occurred_at} >= %s AND i.{I.occurred_at} < %s
          AND i.{I.kind} <> 'survey'
        GROUP BY i.{I.contact}
    """  # noqa: S608 - only model names and fixed expressions are interpolated
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
            SELECT c, m, SUM(amount) AS amount FROM ({daily}) daily GROUP BY c, m
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
        SELECT {d.month(f"o.{O.ordered_at}")}, {d.as_float(f"SUM(o.{O.total})")}
        FROM {O} o WHERE {where} AND o.{O.contact} IS NULL GROUP BY {d.month(f"o.{O.ordered_at}")}
    """  # noqa: S608
    anonymous = pd.Series(dict(_fetch(sql, params)), dtype="float64")
    series = customers.astype("float64").add(anonymous, fill_value=0.0)
    if series.empty:
        return series
    series.index = series.index.astype("int64")
    return series.reindex(range(int(series.index.min()), int(series.index.max()) + 1), fill_value=0.0)


FETCH_ROWS = 500_000  # rows fetched and converted to arrays at a time: bounded memory


def _product(d: Dialect) -> str:
    """A line's product: its catalogue name, or the line's own name when it has no product."""
    return f"COALESCE(p.{P.name}, l.{L.name})"


def _lines_of_orders(where: str, *, lines_first: bool = False) -> str:
    """FROM … WHERE of the order lines of the orders matching ``where`` since a parameter.
    ``lines_first`` makes SQLite read the lines table in order and look each order up (CROSS
    JOIN fixes its join order), for a filter on the lines that leaves few of them."""
    lines = (
        f"{L} l CROSS JOIN {O} o" if lines_first and connection.vendor == "sqlite" else f"{O} o JOIN {L} l"
    )
    return f"""
        {lines} ON l.{L.order} = o.{O.id} LEFT JOIN {P} p ON p.{P.id} = l.{L.product}
        WHERE {where} AND o.{O.ordered_at} >= %s
    """


@_reusable(once=True)
def product_pairs(end: date, since: date, split: date) -> pd.DataFrame:
    """One row per (customer, product) bought in paid orders between ``since`` and ``end``:
    ``contact_id``, ``item``, ``orders`` (orders holding the product) and whether it was bought
    before the day ``split`` and on or after it (``before``, ``after``: 0/1), grouped in the
    database. The recommenders, their holdout test and the personas' favourite products need no
    more than this, so the order lines never leave the database one by one."""
    d = Dialect.current()
    where, params = _revenue_filter(end)
    product, boundary = _product(d), _local_midnight_utc(split)
    sql = f"""
        SELECT o.{O.contact}, {product}, COUNT(DISTINCT o.{O.id}),
               MAX(CASE WHEN o.{O.ordered_at} < %s THEN 1 ELSE 0 END),
               MAX(CASE WHEN o.{O.ordered_at} >= %s THEN 1 ELSE 0 END)
        FROM {_lines_of_orders(where)}
        GROUP BY o.{O.contact}, {product}
    """  # noqa: S608
    columns = {
        "contact_id": "int64",
        "item": "category",
        "orders": "int32",
        "before": "int8",
        "after": "int8",
    }
    return _fetch_frame(sql, [boundary, boundary, *params, _local_midnight_utc(since)], columns)


HASH_MULTIPLIER = 2654435761  # Knuth's multiplicative hash: spreads consecutive ids evenly
HASH_RANGE = 2**32


@_reusable(once=True)
def basket_sample(end: date, since: date, fraction: float) -> pd.DataFrame:
    """Distinct (``order_id``, ``item``) of paid orders between ``since`` and ``end`` — the
    baskets of the association rules — for a fixed pseudo-random ``fraction`` of the orders
    (all of them when ``fraction >= 1``). The sample is chosen by a hash of the order id: the
    same orders every time, and a whole order or none of it."""
    d = Dialect.current()
    where, params = _revenue_filter(end)
    if fraction < 1:
        bound = int(fraction * HASH_RANGE)  # an integer computed here, never user input
        where += (
            f" AND (l.{L.order} * {HASH_MULTIPLIER}) %% {HASH_RANGE} < {bound}"  # %%: a query with parameters
        )
    sql = f"SELECT DISTINCT o.{O.id}, {_product(d)} FROM {_lines_of_orders(where, lines_first=fraction < 1)}"  # noqa: S608
    return _fetch_frame(sql, [*params, _local_midnight_utc(since)], {"order_id": "int64", "item": "category"})


def _fetch_frame(sql: str, params: list, dtypes: dict[str, str]) -> pd.DataFrame:
    """The rows of ``sql`` as a frame of compact columns, converted a block of rows at a time so
    the Python tuples of millions of rows never exist at once ("category" columns come back as
    text, each distinct value one string object)."""
    names = list(dtypes)
    parts: list[pd.DataFrame] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH_ROWS):
            parts.append(pd.DataFrame.from_records(rows, columns=names).astype(dtypes))
    if not parts:
        return pd.DataFrame({n: pd.Series(dtype=object if t == "category" else t) for n, t in dtypes.items()})
    # Each block has its own categories: union_categoricals recodes them without new strings,
    # and the text columns end as object arrays of pointers to one string per distinct value.
    return pd.DataFrame(
        {
            n: np.asarray(union_categoricals([part[n] for part in parts]).astype(object))
            if t == "category"
            else np.concatenate([part[n].to_numpy() for part in parts])
            for n, t in dtypes.items()
        }
    )


def survey_answers(end: date, recent_from: date) -> pd.DataFrame:
    """Counts of survey answers per (month, metric, score), and per contact for the answers
    given since ``recent_from`` (``contact`` is null before it): NPS, CSAT and CES are all
    computed from these counts, so older answers never leave the database one by one, and the
    recent ones can be grouped by the segment this very refresh gives each customer. Answers are
    timeline entries of kind "survey" with data {"metric", "score"}."""
    d = Dialect.current()
    answers = Interaction.objects.filter(
        kind="survey", occurred_at__lt=_local_midnight_utc(end + timedelta(1))
    )
    sql, params = answers.values("id").query.sql_with_params()
    metric = _json_text(f"i.{I.data}", "metric")
    score = _json_text(f"i.{I.data}", "score")
    contact = f"CASE WHEN i.{I.occurred_at} >= %s THEN i.{I.contact} END"
    month = d.month(f"i.{I.occurred_at}")
    query = f"""
        SELECT {month}, {metric}, {score}, {contact}, COUNT(*)
        FROM {I} i
        WHERE i.{I.id} IN ({sql})
        GROUP BY {month}, {metric}, {score}, {contact}
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
    created = d.day(f"k.{K.created_at}")
    sql = f"""
        WITH first_orders AS (
            SELECT o.{O.contact} AS c, MIN(o.{O.ordered_at}) AS first_at FROM {O} o
            WHERE o.{O.status} IN ({marks}) AND o.{O.contact} IS NOT NULL AND o.{O.ordered_at} < %s
            GROUP BY o.{O.contact}
        ), early AS (
            SELECT i.{I.contact} AS c, COUNT(*) AS n FROM {I} i
            JOIN {K} k ON k.{K.id} = i.{I.contact}
            WHERE i.{I.occurred_at} < %s AND {d.day(f"i.{I.occurred_at}")} <= {created} + 30
            GROUP BY i.{I.contact}
        )
        SELECT k.{K.id}, k.{K.channel}, k.{K.source}, k.{K.lifecycle_stage},
               CASE WHEN k.{K.company} IS NULL THEN 0 ELSE 1 END,
               CASE WHEN k.{K.phone} = '' THEN 0 ELSE 1 END,
               CASE WHEN k.{K.email_consent_at} < %s THEN 1 ELSE 0 END,
               COALESCE(early.n, 0), {created},
               CASE WHEN f.first_at IS NULL THEN NULL ELSE {d.day("f.first_at")} END
        FROM {K} k
        LEFT JOIN first_orders f ON f.c = k.{K.id}
        LEFT JOIN early ON early.c = k.{K.id}
        WHERE k.{K.created_at} < %s
        ORDER BY k.{K.id}
    """  # noqa: S608 - ordered: the lead scorer's folds follow the row order, and PostgreSQL's
    # heap order changes with every update (a refresh as of a day must give that day's scores)
    # consent given after ``end`` did not exist yet (a refresh as of a past day sees the past)
    rows = _fetch(sql, [*statuses, cutoff, cutoff, cutoff, cutoff])
    columns = [
        "contact_id", "channel", "source", "lifecycle_stage", "has_company", "has_phone", "has_consent",
        "early_interactions", "created_day", "first_order_day",
    ]  # fmt: skip
    frame = _frame(rows, columns)
    return frame.astype({"contact_id": "int64"}).set_index("contact_id")
