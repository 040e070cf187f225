"""Bulk writes of a refresh: every score row and every lifecycle stage in a few statements.

Django-aware like ``queries``: table and column names come from the models' ``_meta``; rows go
in with one ``executemany`` per large batch on SQLite and ``COPY`` on PostgreSQL, never one
ORM call per contact. The caller holds the transaction (the refresh writes everything at once,
so pages show either the old scores or the new ones).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd
from django.db import connection
from django.utils import timezone

from solocrm.contacts.models import Contact

from .models import CustomerScore

__all__ = ["SCORE_COLUMNS", "apply_lifecycle_stages", "write_scores"]

SCORE_COLUMNS = [
    "orders", "frequency", "recency_days", "tenure_days", "days_since_last", "first_order_at",
    "last_order_at", "total_spend", "average_order_value", "r_score", "f_score", "m_score",
    "rfm_segment", "p_alive", "expected_purchases", "expected_order_value", "clv", "churn_risk",
    "value_at_risk", "persona", "lead_score", "next_product_id", "next_product_name",
]  # fmt: skip
SCORE_DEFAULTS = {
    "orders": 0,
    "frequency": 0,
    "recency_days": 0.0,
    "tenure_days": 0.0,
    "total_spend": 0.0,
    "average_order_value": 0.0,
    "rfm_segment": "",
    "next_product_name": "",
}
WRITE_BATCH = 50_000
INTEGER_COLUMNS = {"orders", "frequency", "r_score", "f_score", "m_score", "persona", "next_product_id"}
STAGES_TABLE = "analytics_new_stages"
STAGING_TABLE = "analytics_score_rows"


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model) -> str:
    return _quote(model._meta.db_table)


def _column(model, field: str) -> str:
    return _quote(model._meta.get_field(field).column)


def _now():
    """The current time as Django itself would pass it to this backend's driver."""
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _load(
    cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence], types: Sequence[str] = ()
) -> None:
    """Insert ``rows`` into ``table``: COPY on PostgreSQL (in binary when the column ``types``
    are given), batched executemany on SQLite."""
    names = ", ".join(columns)
    if connection.vendor == "postgresql":
        binary = " (FORMAT BINARY)" if types else ""
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN{binary}") as copy:
            if types:
                copy.set_types([_type_name(t) for t in types])
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join(["%s"] * len(columns))
    insert = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - model names only
    rows = list(rows) if not isinstance(rows, list) else rows
    for start in range(0, len(rows), WRITE_BATCH):
        cursor.executemany(insert, rows[start : start + WRITE_BATCH])


def _type_name(db_type: str) -> str:
    """A column type as psycopg's type registry names it ("numeric(16, 2)" → "numeric")."""
    name = re.sub(r"\(.*\)", "", db_type).strip()
    return {"timestamp with time zone": "timestamptz", "character varying": "varchar"}.get(name, name)


def _staging_types(fields: Sequence[str]) -> list[str]:
    """The scores' column types for the binary COPY, money as double precision: binary COPY
    does no conversion, so the Python floats go into a staging table that way and the INSERT
    from it rounds them to the money columns (floats cannot be sent as numeric)."""
    types = []
    for name in fields:
        field = CustomerScore._meta.get_field(name)
        types.append(
            "double precision" if field.get_internal_type() == "DecimalField" else field.db_type(connection)
        )
    return types


def _score_rows(frame: pd.DataFrame, computed_at) -> list[tuple]:
    """Parameter tuples for the INSERT: NaN → NULL (or the column's default), numpy → Python."""
    columns = [frame.index.to_numpy().tolist(), [computed_at] * len(frame)]
    for name in SCORE_COLUMNS:
        default = SCORE_DEFAULTS.get(name)
        columns.append(_column_values(frame[name], default) if name in frame else [default] * len(frame))
    return list(zip(*columns, strict=True))


def _column_values(series: pd.Series, default) -> list:
    """One column as Python values the drivers take: whole numbers as int (a column with gaps
    came back from pandas as float), days as ISO dates, missing values as ``default``."""
    missing = series.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(series.dtype) and connection.vendor == "postgresql":
        values = series.to_numpy("datetime64[D]").astype(object)  # datetime.date, for binary COPY
    elif pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = np.datetime_as_string(series.to_numpy("datetime64[D]"), unit="D").astype(object)
    elif series.name in INTEGER_COLUMNS:
        values = series.fillna(0).to_numpy("int64").astype(object)
    elif pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy("float64").astype(object)
    else:
        values = series.to_numpy(object).copy()
    if missing.any():
        values[missing] = default
    return values.tolist()


def write_scores(frame: pd.DataFrame) -> int:
    """Replace every CustomerScore with ``frame`` (index = contact id). Call inside a transaction."""
    table = _table(CustomerScore)
    names = [_column(CustomerScore, n) for n in ["contact", "computed_at", *SCORE_COLUMNS]]
    rows = _score_rows(frame, _now())
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - model table name
        if connection.vendor == "postgresql":
            _copy_through_staging(cursor, table, names, rows)
        else:
            with _indexes_rebuilt_after(cursor):
                _load(cursor, table, names, rows)
        # a contact deleted while the refresh ran would fail the foreign key at commit
        cursor.execute(
            f"DELETE FROM {table} WHERE {names[0]} NOT IN "  # noqa: S608 - model names only
            f"(SELECT {_column(Contact, 'id')} FROM {_table(Contact)})"
        )
    return len(rows)


def _copy_through_staging(cursor, table: str, names: list[str], rows: list[tuple]) -> None:
    """PostgreSQL: binary COPY into a temporary table, then one INSERT … SELECT. A text COPY
    makes the server parse every number and date from text, 5–8× the time of the binary one."""
    types = _staging_types(["contact", "computed_at", *SCORE_COLUMNS])
    columns = ", ".join(f"{name} {kind}" for name, kind in zip(names, types, strict=True))
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING_TABLE}")
    cursor.execute(f"CREATE TEMPORARY TABLE {STAGING_TABLE} ({columns})")
    _load(cursor, STAGING_TABLE, names, rows, types)
    listed = ", ".join(names)
    cursor.execute(f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {STAGING_TABLE}")  # noqa: S608
    cursor.execute(f"DROP TABLE {STAGING_TABLE}")


@contextmanager
def _indexes_rebuilt_after(cursor) -> Iterator[None]:
    """Drop the list indexes of the scores while they are rewritten, then build them again.

    Keeping five indexes up to date row by row costs SQLite more than the rows themselves (a
    million rows: most of the write step); building an index once sorts the finished table.
    Inside the refresh's transaction, and in WAL mode readers keep seeing the old scores with
    their indexes until the commit. (PostgreSQL is left alone: there DROP INDEX would lock the
    table against readers until the commit, and COPY keeps its indexes up quickly.)"""
    editor = connection.schema_editor()
    indexes = CustomerScore._meta.indexes
    for index in indexes:
        cursor.execute(f"DROP INDEX IF EXISTS {_quote(index.name)}")
    yield
    for index in indexes:
        cursor.execute(str(index.create_sql(CustomerScore, editor)))


def apply_lifecycle_stages(stages: pd.Series) -> dict[str, int]:
    """Move contacts whose stage changed; returns {stage: contacts moved}. Contacts who never
    bought keep their stage (lead, prospect): the analytics knows nothing new about them.

    The new stages go into a temporary table and one ``UPDATE … FROM`` moves every contact
    whose stage differs (SQLite ≥ 3.33 and PostgreSQL share the syntax); call inside a
    transaction."""
    if stages.empty:
        return {}
    contacts, key = _table(Contact), _column(Contact, "id")
    stage, updated = _column(Contact, "lifecycle_stage"), _column(Contact, "updated_at")
    rows = zip(stages.index.to_numpy(np.int64).tolist(), stages.astype(str).tolist(), strict=True)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGES_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {STAGES_TABLE} (contact_id bigint PRIMARY KEY, stage text)")
        _load(cursor, STAGES_TABLE, ["contact_id", "stage"], rows, ["bigint", "text"])
        cursor.execute(
            f"SELECT s.stage, COUNT(*) FROM {STAGES_TABLE} s JOIN {contacts} k ON k.{key} = s.contact_id "  # noqa: S608
            f"WHERE k.{stage} <> s.stage GROUP BY s.stage"
        )
        moved = {str(name): int(count) for name, count in cursor.fetchall()}
        if moved:
            cursor.execute(
                f"UPDATE {contacts} SET {stage} = s.stage, {updated} = %s FROM {STAGES_TABLE} s "  # noqa: S608
                f"WHERE s.contact_id = {contacts}.{key} AND {contacts}.{stage} <> s.stage",
                [_now()],
            )
        cursor.execute(f"DROP TABLE {STAGES_TABLE}")
    return moved
