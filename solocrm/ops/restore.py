"""``solocrm restore``: bring back a backup made by ``solocrm backup`` (see backup.py).

The restore checks the archive first (format, every member's SHA-256, that this solocrm knows
every migration the backup's database had), refuses to overwrite a database that holds data
unless asked to, then:

1. migrates the database to exactly the state the backup was taken in;
2. in one transaction, empties every table and loads every row with its original id (the
   database checks the foreign keys at commit, so the order of the tables does not matter);
3. on PostgreSQL, moves each id sequence past the highest id loaded;
4. migrates on to this version (a backup of an older solocrm is upgraded like a database);
5. puts the files back: the secret key (links signed before the backup keep working), the key
   of the encrypted settings, the logo, attachments; each checked against the manifest.
A failure before the commit of step 2 leaves the database as it was.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models.sql import InsertQuery
from django.utils.translation import gettext as _

from .backup import CHUNK, FORMAT, Progress, _quiet, data_files, sha256_file


class RestoreError(Exception):
    """The archive cannot be restored here; the message says why and what to do."""


@dataclass
class RestoreReport:
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    migrated_from: str = ""


def read_manifest(archive: tarfile.TarFile) -> dict:
    try:
        member = archive.extractfile("manifest.json")
        manifest = json.loads(member.read()) if member else None
    except (KeyError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RestoreError(_("This file is not a solocrm backup (no readable manifest)."))
    return manifest


def open_archive(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:gz")
    except (OSError, tarfile.TarError) as error:
        raise RestoreError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": error}) from None


def check_archive(path: Path, progress: Progress = _quiet) -> dict:
    """The manifest, once every member's checksum matched it; RestoreError otherwise."""
    with open_archive(path) as archive:
        manifest = read_manifest(archive)
        expected = dict(manifest.get("files", {}))
        for done, member in enumerate(archive, 1):
            if member.name == "manifest.json":
                continue
            if member.name not in expected or not member.isfile():
                raise RestoreError(
                    _("The backup holds an unexpected member: %(name)s") % {"name": member.name}
                )
            if member.name.startswith("files/"):
                _destination(member.name, data_files())  # refuses "..": checked before anything changes
            digest = hashlib.file_digest(archive.extractfile(member), "sha256")
            if digest.hexdigest() != expected.pop(member.name):
                raise RestoreError(
                    _("The backup is damaged: %(name)s does not match its checksum.") % {"name": member.name}
                )
            progress("check", done, None)
        if expected:
            raise RestoreError(
                _("The backup is incomplete: %(name)s is missing.") % {"name": sorted(expected)[0]}
            )
    return manifest


def database_holds_data() -> bool:
    """Whether anything a person entered is in the database (users, contacts, orders…)."""
    tables = set(connection.introspection.table_names())
    for table in ("auth_user", "contacts_contact", "sales_order"):
        if table in tables:
            with connection.cursor() as cursor:
                cursor.execute(f'SELECT 1 FROM "{table}" LIMIT 1')  # noqa: S608 (fixed names)
                if cursor.fetchone():
                    return True
    return False


def restore_backup(path: Path, *, force: bool = False, progress: Progress = _quiet) -> RestoreReport:
    path = Path(path)
    manifest = check_archive(path, progress)
    executor = MigrationExecutor(connection)
    targets = _targets(executor, manifest)
    if database_holds_data() and not force:
        raise RestoreError(
            _(
                "The database already holds data. Restore into an empty data directory, "
                "or add --force to replace it."
            )
        )
    report = RestoreReport(migrated_from=manifest.get("solocrm_version", ""))
    executor.migrate(targets)
    state_apps = executor.loader.project_state(targets).apps
    with open_archive(path) as archive, transaction.atomic():
        tables = manifest["tables"]
        historical = {label: state_apps.get_model(*label.split(".")) for label in tables}
        for model in historical.values():
            models.QuerySet(model).all()._raw_delete(connection.alias)
        for label, model in historical.items():
            report.tables[label] = _load_table(archive, label, model, tables[label]["columns"])
            if report.tables[label] != tables[label]["rows"]:
                raise RestoreError(
                    _("Table %(label)s: %(loaded)d rows loaded, %(expected)d expected.")
                    % {"label": label, "loaded": report.tables[label], "expected": tables[label]["rows"]}
                )
            progress("tables", len(report.tables), len(tables))
        _reset_sequences(list(historical.values()))
    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    with open_archive(path) as archive:
        report.files = _restore_files(archive, manifest)
    return report


def _targets(executor: MigrationExecutor, manifest: dict) -> list[tuple[str, str]]:
    """For each app, the last migration the backup's database had applied."""
    graph = executor.loader.graph
    applied = [tuple(node) for node in manifest.get("migrations", [])]
    unknown = [node for node in applied if node not in graph.nodes]
    if unknown:
        raise RestoreError(
            _(
                "This backup was made by a newer solocrm (%(version)s; migration %(name)s is unknown "
                "here). Upgrade solocrm, then restore."
            )
            % {"version": manifest.get("solocrm_version", "?"), "name": ".".join(unknown[0])}
        )
    by_app: dict[str, set[tuple[str, str]]] = {}
    for node in applied:
        by_app.setdefault(node[0], set()).add(node)
    targets = []
    for nodes in by_app.values():
        # the node whose own history holds every other applied migration of the app
        targets.append(max(nodes, key=lambda node: len(graph.forwards_plan(node))))
    return sorted(targets)


def _lines(archive: tarfile.TarFile, name: str) -> Iterator[list]:
    stream = archive.extractfile(name)
    if stream is None:
        raise RestoreError(_("The backup is incomplete: %(name)s is missing.") % {"name": name})
    for line in stream:
        yield json.loads(line)


def _load_table(archive: tarfile.TarFile, label: str, model, names: list[str]) -> int:
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    missing = [name for name in names if name not in by_attname]
    if missing:
        raise RestoreError(
            _("Table %(label)s has no column %(name)s here.") % {"label": label, "name": missing[0]}
        )
    fields = [by_attname[name] for name in names]
    count = 0
    batch: list[models.Model] = []
    for row in _lines(archive, f"data/{label}.jsonl"):
        batch.append(model(**dict(zip(names, row, strict=True))))
        if len(batch) >= CHUNK:
            count += _insert(model, fields, batch)
            batch = []
    return count + _insert(model, fields, batch)


def _insert(model, fields: list, objs: list[models.Model]) -> int:
    """Insert the rows as they are: raw, so no field fills itself in (``auto_now`` and
    ``auto_now_add`` would overwrite the dates the backup kept)."""
    if not objs:
        return 0
    limit = connection.ops.bulk_batch_size(fields, objs) or len(objs)
    for start in range(0, len(objs), limit):
        query = InsertQuery(model)
        query.insert_values(fields, objs[start : start + limit], raw=True)
        query.get_compiler(connection=connection).execute_sql()
    return len(objs)


def _reset_sequences(model_list: list) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), model_list)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def _restore_files(archive: tarfile.TarFile, manifest: dict) -> int:
    targets = data_files()
    for name, target in targets.items():  # what the backup had, exactly: nothing else left over
        if name in ("branding", "attachments", "media") and target.is_dir():
            shutil.rmtree(target)
    restored = 0
    for member in archive:
        if not member.name.startswith("files/") or not member.isfile():
            continue
        destination = _destination(member.name, targets)
        destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with archive.extractfile(member) as source, destination.open("wb") as out:
            shutil.copyfileobj(source, out)
        destination.chmod(0o600)
        if sha256_file(destination) != manifest["files"][member.name]:
            raise RestoreError(_("%(name)s was not restored intact.") % {"name": member.name})
        restored += 1
    return restored


def _destination(member: str, targets: dict[str, Path]) -> Path:
    """Where a member goes; never outside its folder (no "..", no absolute path)."""
    parts = PurePosixPath(member).parts[1:]
    if (
        not parts
        or parts[0] not in targets
        or any(part in ("..", "") for part in parts)
        or PurePosixPath(member).is_absolute()
    ):
        raise RestoreError(_("The backup holds an unsafe path: %(name)s") % {"name": member})
    return targets[parts[0]].joinpath(*parts[1:])
