"""The import pipeline: open → map → parse row by row → write in batches, each in its own
transaction → audit → report. A dry run writes each batch the same way and rolls that batch back:
it never holds the database's write lock longer than one batch (SQLite has one lock for the
whole file, so a run-long transaction made every other writer fail with "database is locked").
Each batch is therefore checked against the database as it was before the run; a row repeating
a contact that only an earlier batch of the same file created counts as created, not merged."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from solocrm.contacts.choices import LifecycleStage
from solocrm.users.models import AuditLog

from .base import Context, Item, Kind, RejectFile
from .mapping import build_plan, field_choices
from .readers import Table, open_table
from .report import ImportFileError, ImportReport, Preview, RowError

BATCH_SIZE = 5000  # rows per transaction: fewer commits (and WAL checkpoints) vs. memory
Progress = Callable[[int, int | None], None]


_added_kinds: dict[str, type[Kind]] = {}


def register_kind(cls: type[Kind]) -> type[Kind]:
    """Add an import kind from an app above contacts (sales adds orders from its ready())."""
    _added_kinds[cls.name] = cls
    return cls


def kind_class(kind: str) -> type[Kind]:
    from .companies import CompaniesKind
    from .contacts import ContactsKind
    from .interactions import InteractionsKind

    kinds = {k.name: k for k in (ContactsKind, CompaniesKind, InteractionsKind)} | _added_kinds
    if kind not in kinds:
        raise ImportFileError(_("Unknown import kind “%(kind)s”.") % {"kind": kind})
    return kinds[kind]


def _setup(kind: str, table: Table, mapping: dict[str, str] | None, report: ImportReport, **options) -> Kind:
    cls = kind_class(kind)
    mapping = {**table.guessed_mapping, **(mapping or {})} or None
    plan = build_plan(kind, table.headers, mapping, table.layout)
    if not plan.mapped(*cls.required):
        labels = dict(field_choices(kind))
        raise ImportFileError(
            _("No column was recognised as %(fields)s. Rename the headers or map them by hand.")
            % {"fields": " / ".join(str(labels[f]) for f in cls.required if f in labels)}
        )
    report.layout = plan.layout
    ctx = Context(
        plan=plan,
        report=report,
        rejects=RejectFile(table.headers, options["source_name"]),
        source_name=options["source_name"],
        actor=options.get("actor"),
        check_decoding=(table.encoding or "utf-8") not in ("utf-8", "utf-8-sig", "cp1252"),
        stage=_stage(options.get("stage")),
    )
    if options.get("region"):
        ctx.region = checked_region(options["region"])
    return cls(ctx)


def _stage(stage: str | None) -> str:
    """The default lifecycle stage chosen for an import, checked (the CLI and API pass text)."""
    if not stage:
        return LifecycleStage.PROSPECT
    if stage not in LifecycleStage.values:
        raise ImportFileError(
            _("Unknown lifecycle stage “%(stage)s”; use one of %(stages)s.")
            % {"stage": stage, "stages": ", ".join(LifecycleStage.values)}
        )
    return stage


def run_import(
    kind: str,
    path: Path,
    *,
    dry_run: bool = False,
    mapping: dict[str, str] | None = None,
    actor: Any = None,
    progress: Progress | None = None,
    source_name: str | None = None,
    region: str | None = None,
    encoding: str | None = None,
    stage: str | None = None,
) -> ImportReport:
    """Import ``path``. ``region``: phone region of national numbers in rows that name no
    country; ``encoding``: the file's text encoding instead of the detected one; ``stage``: the
    lifecycle stage of new contacts whose row names none (default "prospect")."""
    path = Path(path)
    source_name = source_name or path.name
    with open_table(path, encoding=encoding) as table:
        report = ImportReport(kind=kind, format=table.format, dry_run=dry_run, encoding=table.encoding)
        importer = _setup(
            kind, table, mapping, report, source_name=source_name, actor=actor, region=region, stage=stage
        )
        total = table.total_hint() if progress else None
        try:
            _write_batches(importer, table, progress, total, dry_run)
            if not dry_run:
                _audit(report, actor, source_name)
                refresh_statistics(importer.analysed_models, report.created + report.updated)
        finally:
            report.rejected_path = importer.ctx.rejects.close()
    if progress:
        progress(report.rows, report.rows)
    return report


# Rows an import must write before PostgreSQL's planner statistics are refreshed at its end.
ANALYZE_AFTER_ROWS = 10_000


def refresh_statistics(analysed: tuple[type[Model], ...], written: int) -> None:
    """After a large import, ``ANALYZE`` the tables it filled (PostgreSQL).

    Until the planner's statistics know about the new rows, it plans for the table's old size:
    right after a first import of a million orders, the first refresh joined them by nested loops
    (seconds instead of a hash join's fraction). Autovacuum would analyse them eventually, a
    minute or more later, or never where it is turned off; ``pg_restore`` advises the same."""
    if written < ANALYZE_AFTER_ROWS or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in analysed:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


@contextlib.contextmanager
def _batch_transaction(dry_run: bool) -> Iterator[None]:
    """One batch's transaction; a dry run rolls it back at once, releasing the write lock."""
    with transaction.atomic():
        yield
        if dry_run:
            transaction.set_rollback(True)


def _write_batches(
    importer: Kind, table: Table, progress: Progress | None, total: int | None, dry_run: bool = False
) -> None:
    items = importer.items(table.rows())
    while batch := list(islice(items, BATCH_SIZE)):
        _write_batch(importer, batch, dry_run)
        if progress:
            progress(importer.ctx.report.rows, total)
    with _batch_transaction(dry_run):
        importer.finish()


def _write_batch(importer: Kind, batch: list[Item], dry_run: bool = False) -> None:
    """One batch, all or nothing: the counts are only kept when the transaction commits (or, in
    a dry run, when it got as far as its rollback)."""
    report = importer.ctx.report
    before = (report.created, report.updated, report.unchanged, report.merged)
    try:
        with _batch_transaction(dry_run):
            importer.write(batch)
    except DatabaseError as error:
        report.created, report.updated, report.unchanged, report.merged = before
        # the database refused a value no check caught: say where, so the owner can look
        raise ImportFileError(
            _(
                "The rows at lines %(first)d–%(last)d could not be stored (%(error)s); the import "
                "stopped there and kept only the batches of rows before line %(first)d."
            )
            % {"first": batch[0].line, "last": batch[-1].line, "error": str(error).strip()[:300]}
        ) from error
    except Exception:
        report.created, report.updated, report.unchanged, report.merged = before
        raise
    if dry_run:
        importer.rolled_back()


def _audit(report: ImportReport, actor: Any, source_name: str) -> None:
    counts = {
        k: getattr(report, k) for k in ("rows", "created", "updated", "unchanged", "merged", "rejected")
    }
    summary = _(
        "Imported %(kind)s from %(file)s: %(created)d created, %(updated)d updated, %(rejected)d rejected"
    )
    AuditLog.record(
        actor,
        f"import.{report.kind}",
        summary=summary % {"kind": report.kind, "file": source_name, **counts},
        changes={"file": source_name, "format": report.format, "layout": report.layout, **counts},
    )


def preview(
    kind: str,
    path: Path,
    *,
    rows: int = 10,
    mapping: dict[str, str] | None = None,
    region: str | None = None,
    encoding: str | None = None,
) -> Preview:
    """Format, detected mapping and the first ``rows`` rows as they would be imported."""
    path = Path(path)
    with open_table(path, encoding=encoding) as table:
        report = ImportReport(kind=kind, format=table.format)
        importer = _setup(kind, table, mapping, report, source_name=path.name, region=region)
        sample, errors, warnings = [], [], []
        for line, row in islice(table.rows(), rows):
            if isinstance(row, str):
                errors.append(RowError(line, "", row))
                continue
            record, problems = importer.parse(row)
            errors.extend(RowError(line, column, reason) for column, reason in problems)
            warnings.extend(RowError(line, column, reason) for column, reason in record.pop("warnings", ()))
            record.pop("raw", None)
            sample.append(display(record))
        return Preview(
            format=table.format,
            encoding=table.encoding,
            delimiter=table.delimiter,
            headers=table.headers,
            mapping=importer.ctx.plan.mapping,
            fields=field_choices(kind),
            sample=sample,
            errors=errors,
            layout=report.layout,
            warnings=warnings,
        )


def checked_region(value: str) -> str:
    """An ISO 3166 region code phonenumbers knows ('de' -> 'DE'), or ImportFileError."""
    import phonenumbers

    from . import values

    region = values.region_of_country(value)
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ImportFileError(
            _("“%(value)s” is not a country code for phone numbers (use two letters, such as DE or US).")
            % {"value": value[:20]}
        )
    return region


def display(record: dict[str, Any]) -> dict[str, str]:
    """A parsed record as text for the preview table."""
    record = dict(record)
    for name, many in (("email", "emails"), ("phone", "phones")):
        if many in record:
            found = record.pop(many)
            record[name], record[f"other_{many}"] = (found[0] if found else ""), found[1:]
    if record.get("birthday_no_year") and not record.get("birthday"):
        record["birthday"] = "--" + record.pop("birthday_no_year")
    shown = {}
    for name, value in record.items():
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, bool):
            value = _("yes") if value else _("no")
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        shown[name] = str(value)
    return shown
