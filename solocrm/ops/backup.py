"""``solocrm backup``: one archive that holds everything needed to bring solocrm back.

The archive (a gzip-compressed tar) holds:

- ``manifest.json``: the format, the solocrm version, the database it came from, the migrations
  applied (so a restore rebuilds the very same tables), each table's columns and row count, and
  the SHA-256 of every other member;
- ``data/<app>.<model>.jsonl``: every row of every table, one JSON array a line, in the order of
  the columns the manifest names. The format is the same whatever the database, so a backup of
  SQLite restores into PostgreSQL and back (docs/decisions.md says why this and not the
  databases' own dump formats);
- ``files/``: the secret key (signed links keep working), the key of the encrypted settings
  (mail passwords), the uploaded logo, attachments and other stored files.

Every table is read inside one transaction that sees a single moment of the database
(PostgreSQL: REPEATABLE READ; SQLite in WAL mode: one read transaction), so the copy is
consistent while the app keeps running.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from solocrm import __version__
from solocrm.users import audit

FORMAT = 1
CHUNK = 2000
Progress = Callable[[str, int, int | None], None]


def _quiet(step: str, done: int, total: int | None) -> None:
    return None


def data_files() -> dict[str, Path]:
    """The files and folders of the data directory a restore needs, by their name in the archive."""
    data = Path(settings.DATA_DIR)
    return {
        "secret_key": data / "secret_key",
        "settings_key": data / "settings_key",
        "branding": data / "branding",
        "attachments": Path(settings.SOLOCRM_ATTACHMENT_DIR),
        "media": Path(settings.MEDIA_ROOT),
    }


def backed_up_models() -> list[type[models.Model]]:
    """Every table Django manages, the many-to-many tables included, in a stable order."""
    found = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and not model._meta.swapped
    ]
    return sorted(found, key=lambda model: model._meta.label_lower)


class _Encoder(DjangoJSONEncoder):
    """Django's encoder, but times keep their microseconds (it cuts them to milliseconds, as
    JavaScript would, and a restore must give back exactly what was there)."""

    def default(self, o):
        if isinstance(o, datetime | time):
            return o.isoformat()
        return super().default(o)


def columns(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


@dataclass
class BackupReport:
    path: Path
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    size: int = 0


def default_name(now: datetime | None = None) -> str:
    moment = timezone.localtime(now or timezone.now())
    return f"solocrm-backup-{moment:%Y%m%d-%H%M%S}.tar.gz"


def create_backup(output: Path, *, progress: Progress = _quiet) -> BackupReport:
    """Write the archive to ``output`` (a file, or a folder to name it in); its report."""
    if _is_folder(output):
        output = Path(output) / default_name()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    report = BackupReport(path=output)
    manifest: dict = {
        "format": FORMAT,
        "solocrm_version": __version__,
        "created_at": timezone.now().isoformat(),
        "database": connection.vendor,
        "tables": {},
        "files": {},
    }
    with tarfile.open(partial, "w:gz", compresslevel=6) as archive:
        with _snapshot():
            manifest["migrations"] = _applied_migrations()
            manifest["audit_head"] = audit.head()  # an anchor: the chain's end as it was today
            for model in backed_up_models():
                label = model._meta.label_lower
                count = _add_table(archive, model, manifest)
                report.tables[label] = count
                progress("tables", len(report.tables), None)
        report.files = _add_files(archive, manifest)
        _add_bytes(archive, "manifest.json", json.dumps(manifest, indent=1, sort_keys=True).encode())
    partial.chmod(0o600)  # it holds the secret key and everyone's personal data
    partial.replace(output)  # a crash never leaves a half archive under the final name
    report.size = output.stat().st_size
    return report


def _is_folder(output: Path | str) -> bool:
    """A folder: one that exists, or a path written with a final slash or without a suffix."""
    path = Path(output)
    return path.is_dir() or str(output).endswith(("/", "\\")) or not path.suffix


class _snapshot:
    """One transaction that sees the whole database at a single moment."""

    def __enter__(self) -> None:
        outermost = not connection.in_atomic_block
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def __exit__(self, *exc) -> None:
        self.atomic.__exit__(*exc)


def _applied_migrations() -> list[list[str]]:
    recorder = MigrationRecorder(connection)
    return sorted([app, name] for app, name in recorder.applied_migrations())


def _rows(model: type[models.Model]) -> Iterator[tuple]:
    queryset = models.QuerySet(model).order_by("pk").values_list(*columns(model))
    yield from queryset.iterator(chunk_size=CHUNK)


def _add_table(archive: tarfile.TarFile, model: type[models.Model], manifest: dict) -> int:
    """Stream the table into a temporary file, then into the archive (tar needs the size first)."""
    label = model._meta.label_lower
    digest = hashlib.sha256()
    count = 0
    with _spool() as spool:
        for row in _rows(model):
            line = json.dumps(row, cls=_Encoder, ensure_ascii=False).encode() + b"\n"
            digest.update(line)
            spool.write(line)
            count += 1
        name = f"data/{label}.jsonl"
        _add_stream(archive, name, spool)
    manifest["tables"][label] = {"columns": columns(model), "rows": count}
    manifest["files"][name] = digest.hexdigest()
    return count


def _spool():
    import tempfile

    return tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024, dir=settings.DATA_DIR)


def _add_stream(archive: tarfile.TarFile, name: str, stream) -> None:
    size = stream.tell()
    stream.seek(0)
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(timezone.now().timestamp())
    archive.addfile(info, stream)


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    _add_stream(archive, name, _at_end(io.BytesIO(data)))


def _at_end(stream: io.BytesIO) -> io.BytesIO:
    stream.seek(0, io.SEEK_END)
    return stream


def _add_files(archive: tarfile.TarFile, manifest: dict) -> int:
    added = 0
    for name, path in data_files().items():
        for file in _walk(path):
            member = f"files/{name}" + ("" if file == path else "/" + file.relative_to(path).as_posix())
            manifest["files"][member] = sha256_file(file)
            info = archive.gettarinfo(str(file), arcname=member)
            info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
            with file.open("rb") as handle:
                archive.addfile(info, handle)
            added += 1
    return added


def _walk(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
    elif path.is_dir():
        yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()
