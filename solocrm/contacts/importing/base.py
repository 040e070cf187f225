"""What every kind of import shares: the per-run context, the rejected-rows file, the bitmap of
ids touched by this run, a fast raw INSERT, and the base class the kinds fill in."""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connections, models, router
from django.db.models.constants import OnConflict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from solocrm.contacts.choices import LifecycleStage
from solocrm.lib.business import business_settings
from solocrm.lib.ids import uuid7_hex_batch
from solocrm.lib.spreadsheet import csv_cell

from .mapping import Plan
from .report import ImportReport, RowError

MAX_REPORTED_ERRORS = 1000
# C0 control characters but tab, line feed and carriage return, and DEL
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
IN_CHUNK = 900  # values per IN (…) on SQLite: below the 999 host parameters of old builds


class RejectFile:
    """rejected-<timestamp>-<name>.csv next to the uploads: the original cells plus line and
    reason, so the owner can fix the rows and import that file again. Created on first use. A cell
    a spreadsheet would run as a formula gets an apostrophe in front, as in every CSV we write."""

    def __init__(self, headers: list[str], source_name: str) -> None:
        self.headers = headers
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        safe = re.sub(r"[^\w.-]+", "_", Path(source_name).stem)[:80] or "import"
        folder = Path(settings.SOLOCRM_IMPORT_DIR)
        self.path = folder / f"rejected-{stamp}-{safe}.csv"
        number = 1
        while self.path.exists():  # two runs in the same second must not share a file
            number += 1
            self.path = folder / f"rejected-{stamp}-{safe}-{number}.csv"
        self._file: IO[str] | None = None
        self._writer: Any = None

    def write(self, line: int, cells: list[str], reason: str) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # utf-8-sig: Excel opens it with the right encoding on double click
            self._file = self.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._file)
            self._writer.writerow([csv_cell(h) for h in (*self.headers, _("line"), _("reason"))])
        width = len(self.headers)
        padded = (list(cells) + [""] * width)[:width] if len(cells) <= width else list(cells)
        # the file is opened in a spreadsheet: a rejected "=cmd|…" must not run there
        self._writer.writerow([csv_cell(cell) for cell in (*padded, line, reason)])

    def close(self) -> str | None:
        if self._file is None:
            return None
        self._file.close()
        return str(self.path)


class IdSet:
    """Integer ids touched during one run, as a bitmap from the first id seen: a million ids cost
    about 125 kB instead of the ~60 MB of a Python set."""

    MAX_BITS = 1 << 28

    def __init__(self) -> None:
        self._bits = bytearray()
        self._base: int | None = None
        self._far: set[int] = set()

    def add(self, value: int) -> None:
        if self._base is None:
            self._base = value
        offset = value - self._base
        if not 0 <= offset < self.MAX_BITS:
            self._far.add(value)
            return
        index = offset >> 3
        if index >= len(self._bits):
            self._bits.extend(bytes(max(index + 1 - len(self._bits), len(self._bits))))
        self._bits[index] |= 1 << (offset & 7)

    def __contains__(self, value: int) -> bool:
        if self._base is None:
            return False
        offset = value - self._base
        if not 0 <= offset < self.MAX_BITS:
            return value in self._far
        index = offset >> 3
        return index < len(self._bits) and bool(self._bits[index] & (1 << (offset & 7)))


@dataclass
class Item:
    """One record to write: its first line, its original cells and the parsed values."""

    line: int
    cells: list[str]
    record: dict[str, Any]
    more: list[tuple[int, list[str], dict[str, Any]]] = field(default_factory=list)  # order lines


@dataclass
class Context:
    plan: Plan
    report: ImportReport
    rejects: RejectFile
    source_name: str
    actor: Any = None
    check_decoding: bool = False
    # the lifecycle stage of new contacts whose row names none (imported people are not leads
    # who just wrote in: as leads they would all wait for a reply on Today)
    stage: str = LifecycleStage.PROSPECT
    region: str = field(default_factory=lambda: business_settings().phone_region)
    currency: str = field(default_factory=lambda: business_settings().currency)
    now: datetime = field(default_factory=timezone.now)

    def warn(self, line: int, warnings: list[tuple[str, str]]) -> None:
        """A row imported with fields left empty (their text kept on the contact)."""
        report = self.report
        report.warned += 1
        for column, reason in warnings:
            if len(report.warnings) < MAX_REPORTED_ERRORS:
                report.warnings.append(RowError(line, column, reason))

    def reject(self, line: int, cells: list[str], errors: list[tuple[str, str]]) -> None:
        report = self.report
        report.rejected += 1
        for column, reason in errors:
            if len(report.errors) < MAX_REPORTED_ERRORS:
                report.errors.append(RowError(line, column, reason))
        self.rejects.write(line, cells, "; ".join(f"{c}: {r}" if c else r for c, r in errors))

    @property
    def author(self):
        return self.actor if getattr(self.actor, "is_authenticated", False) else None


class Cells:
    """Reads mapped cells of one row: the first non-empty column of a field, or all of them."""

    def __init__(self, plan: Plan) -> None:
        self.headers = plan.headers
        self.columns = plan.columns
        self.width = len(plan.headers)

    def fit(self, row: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
        """Pad a short row; a row with more non-empty cells than headers is misaligned."""
        if len(row) < self.width:
            return row + [""] * (self.width - len(row)), []
        if len(row) > self.width and any(c.strip() for c in row[self.width :]):
            return row, [("", _("the row has more cells than the header"))]
        return row, []

    def first(self, row: list[str], name: str) -> tuple[str, str]:
        """(header, text) of the first non-empty column mapped to ``name``, or ('', '')."""
        for index in self.columns.get(name, ()):
            value = row[index]
            if value and not value.isspace():
                return self.headers[index], value
        return "", ""

    def all(self, row: list[str], name: str) -> list[tuple[str, str]]:
        return [(self.headers[i], row[i]) for i in self.columns.get(name, ()) if row[i].strip()]


def parse_into(record: dict, errors: list, name: str, cell: tuple[str, str], parser) -> None:
    """Parse ``cell`` into ``record[name]``, or note (header, reason) in ``errors``."""
    header, value = cell
    if not value:
        return
    try:
        record[name] = parser(value)
    except ValueError as error:
        errors.append((header, str(error)))


class Kind:
    """One kind of import. Subclasses parse a row into a record and write a batch of records."""

    name = ""
    required: tuple[str, ...] = ()  # at least one of these fields must be mapped
    # the models whose tables a large import changes enough for the planner to re-analyse them
    analysed_models: tuple[type[models.Model], ...] = ()

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.cells = Cells(ctx.plan)

    def parse(self, row: list[str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        raise NotImplementedError

    def items(self, rows: Iterator[tuple[int, list[str] | str]]) -> Iterator[Item]:
        """Parsed good rows; bad ones go to the rejected file right away."""
        ctx = self.ctx
        for line, row in rows:
            ctx.report.rows += 1
            if isinstance(row, str):
                ctx.reject(line, [], [("", row)])
                continue
            warnings: list[tuple[str, str]] = []
            if _CONTROL.search("".join(row)):
                row = self._without_control_characters(row, warnings)
            record, errors = self.parse(row)
            if errors:
                ctx.reject(line, row, errors)
                continue
            warnings += record.pop("warnings", [])
            if warnings:
                ctx.warn(line, warnings)
            yield Item(line, row, record)

    def _without_control_characters(self, row: list[str], warnings: list[tuple[str, str]]) -> list[str]:
        """NUL and other control bytes are removed, with a warning per cell: PostgreSQL cannot
        store a NUL in text, and none of them belongs in a name, an address or a note."""
        cleaned = list(row)
        for index, cell in enumerate(row):
            cleaned[index], removed = _CONTROL.subn("", cell)
            if removed:
                column = self.cells.headers[index] if index < self.cells.width else ""
                reason = ngettext(
                    "%(count)d control character (such as a NUL byte) was removed",
                    "%(count)d control characters (such as NUL bytes) were removed",
                    removed,
                ) % {"count": removed}
                warnings.append((column, reason))
        return cleaned

    def write(self, batch: list[Item]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Called once after the last batch (in a transaction of its own, rolled back in a dry run)."""

    # Caches of database ids the kind keeps between batches (tag, company, product ids by name).
    id_caches: tuple[str, ...] = ()

    def rolled_back(self) -> None:
        """A dry run rolled the last batch back: forget the ids of the rows it had created."""
        for name in self.id_caches:
            getattr(self, name).clear()


class RawInserter:
    """A raw INSERT of hand-built parameter tuples that returns {uuid: new id}.

    Instantiating a model and running every field's get_db_prep_save costs more than the
    database's own work at 50k rows/s; here only the columns that vary per row are adapted, and
    constants (timestamps, defaults) are adapted once by the caller through ``prep``."""

    def __init__(self, model: type[models.Model], columns: list[str]) -> None:
        self.connection = connections[router.db_for_write(model)]
        self.model = model
        fields = {f.attname: f for f in model._meta.concrete_fields}
        self.fields = [fields[c] for c in columns]
        ops = self.connection.ops
        names = ", ".join(ops.quote_name(f.column) for f in self.fields)
        # Table and column names come from the model and are quoted; every value is a parameter.
        self.head = f"INSERT INTO {ops.quote_name(model._meta.db_table)} ({names}) VALUES "  # noqa: S608
        self.insert_sql = self.head + "(" + ", ".join(["%s"] * len(columns)) + ")"
        table = ops.quote_name(model._meta.db_table)
        self.copy_sql = f"COPY {table} ({names}) FROM STDIN"
        self.ids_sql = f"SELECT id, uuid FROM {table} WHERE uuid = ANY(%s)"  # noqa: S608
        self.max_id_sql = f"SELECT max(id) FROM {table}"  # noqa: S608
        self.new_ids_sql = f"SELECT id, uuid FROM {table} WHERE id > %s"  # noqa: S608

    def _copy(self, rows: list[tuple]) -> dict[Any, int]:
        """PostgreSQL: COPY is several times faster than any INSERT (psycopg's client-side
        binding of a 100k-parameter INSERT costs more than the insert itself); the new ids are
        read back by uuid in one query."""
        uuid_at = next(i for i, f in enumerate(self.fields) if f.attname == "uuid")
        with self.connection.cursor() as cursor:
            # The raw cursor's errors are psycopg's own: wrapped, a unique violation is the
            # IntegrityError callers (the contacts writer's retry) expect.
            with self.connection.wrap_database_errors, cursor.cursor.copy(self.copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(self.ids_sql, [[row[uuid_at] for row in rows]])
            return {key: pk for pk, key in cursor.fetchall()}

    def prep(self, column: str, value: Any) -> Any:
        field = next(f for f in self.fields if f.attname == column)
        return field.get_db_prep_save(value, self.connection)

    def new_uuids(self, count: int) -> list[Any]:
        """``count`` time-ordered UUIDs as database parameters, from one urandom call: uuid4()
        per row was a visible share of a million-row import, and random keys scatter the inserts
        over the whole unique index (see solocrm.lib.ids)."""
        keys = uuid7_hex_batch(count)
        if self.connection.features.has_native_uuid_field:
            return [uuid.UUID(key) for key in keys]
        return keys

    def insert(self, rows: list[tuple]) -> dict[Any, int]:
        """Insert prepared rows; returns {uuid parameter: new id}."""
        if self.connection.vendor == "postgresql":
            return self._copy(rows)
        return self._executemany(rows)

    def _executemany(self, rows: list[tuple]) -> dict[Any, int]:
        """SQLite: one prepared single-row INSERT run by executemany is about twice as fast as
        multi-row INSERT … RETURNING (no giant statement to build, convert and parse). The new ids
        are read back as every row above the largest id before the insert: ids only grow, and the
        import's transaction holds SQLite's write lock (BEGIN IMMEDIATE), so no other writer can
        add rows in between; matching by uuid keeps this exact even if one did."""
        with self.connection.cursor() as cursor:
            cursor.execute(self.max_id_sql)
            last = cursor.fetchone()[0] or 0
            cursor.executemany(self.insert_sql, rows)
            cursor.execute(self.new_ids_sql, [last])
            return {key: pk for pk, key in cursor.fetchall()}


def ids_by_text(model: type[models.Model], column: str, values: set[str]) -> list[tuple[str, int]]:
    """(value, id) of every row whose ``column`` equals one of ``values``, ordered by id.

    Raw SQL on purpose: a ``__in`` queryset prepares every one of thousands of values through
    the field and the lookup machinery, which cost more than the indexed query itself. On
    PostgreSQL the values travel as one array parameter; on SQLite in chunks below its limit on
    host parameters (32,766 since 3.32; 999 before)."""
    if not values:
        return []
    connection = connections[router.db_for_read(model)]
    ops = connection.ops
    # Table and column names come from the model and are quoted; every value is a parameter.
    head = f"SELECT {ops.quote_name(column)}, id FROM {ops.quote_name(model._meta.db_table)} WHERE "  # noqa: S608
    found: list[tuple[str, int]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"{head}{ops.quote_name(column)} = ANY(%s)", [list(values)])
            found = cursor.fetchall()
        else:
            wanted = list(values)
            for start in range(0, len(wanted), IN_CHUNK):
                part = wanted[start : start + IN_CHUNK]
                marks = ", ".join(["%s"] * len(part))
                cursor.execute(f"{head}{ops.quote_name(column)} IN ({marks})", part)
                found.extend(cursor.fetchall())
    found.sort(key=lambda pair: pair[1])
    return found


def insert_links(model: type[models.Model], columns: tuple[str, str], rows: list[tuple[int, int]]) -> None:
    """Bulk-insert many-to-many link rows, skipping existing ones, without model instances."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    ops = connection.ops
    fields = [model._meta.get_field(c) for c in columns]
    names = ", ".join(ops.quote_name(f.column) for f in fields)
    if connection.vendor == "postgresql":  # two array parameters instead of one statement per row
        sql = (
            f"INSERT INTO {ops.quote_name(model._meta.db_table)} ({names}) "
            "SELECT unnest(%s::bigint[]), unnest(%s::bigint[]) ON CONFLICT DO NOTHING"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [[a for a, _b in rows], [b for _a, b in rows]])
        return
    suffix = ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)
    head = ops.insert_statement(on_conflict=OnConflict.IGNORE)
    sql = f"{head} {ops.quote_name(model._meta.db_table)} ({names}) VALUES (%s, %s) {suffix}"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
