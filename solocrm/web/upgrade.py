"""Safe upgrades: apply pending migrations, after copying an SQLite database aside.

A solo user has no DBA and often no backup. Migrations rewrite tables, so before the first one
runs on an SQLite file that holds data, a consistent copy is taken with SQLite's online backup
API (a plain file copy of a WAL database can miss pages still in the -wal file). If a migration
fails, the error names the copy and says how to put it back. On PostgreSQL migrations run inside
transactions and the server has its own backup tools, so they are simply applied.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _


class UpgradeFailed(CommandError):
    """A migration failed; ``backup`` is the copy taken before it (None when there was none)."""

    def __init__(self, message: str, backup: Path | None = None) -> None:
        super().__init__(message)
        self.backup = backup


@dataclass(frozen=True)
class UpgradeResult:
    pending: list[str]  # "app.migration" names that were applied
    backup: Path | None  # the copy taken before applying them, if any
    vendor: str


def pending_migrations(connection: BaseDatabaseWrapper) -> list[str]:
    """The migrations not yet applied to ``connection``'s database, in the order they would run."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, backwards in plan if not backwards]


def sqlite_has_data(path: Path) -> bool:
    """True when ``path`` is an SQLite file with at least one table (a new, empty file is not
    worth a backup)."""
    if not path.is_file() or path.stat().st_size == 0:
        return False
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] > 0


def backup_sqlite(path: Path, backups_dir: Path, now: datetime | None = None) -> Path:
    """Copy the SQLite database at ``path`` into ``backups_dir`` with the online backup API
    (consistent even while another process writes, and includes pages still in the WAL)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    backups_dir.mkdir(parents=True, exist_ok=True)
    target = backups_dir / f"solocrm-{stamp}-before-migrate.sqlite3"
    counter = 1
    while target.exists():  # two upgrades in the same second must not overwrite each other
        counter += 1
        target = backups_dir / f"solocrm-{stamp}-{counter}-before-migrate.sqlite3"
    # sqlite3 connections used as context managers commit but do not close: closing() closes.
    with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    target.chmod(0o600)  # the copy holds the same personal data as the original
    return target


def migrate_with_backup(
    connection: BaseDatabaseWrapper | None = None,
    *,
    migrate: Callable[[], object] | None = None,
    backups_dir: Path | None = None,
    log: Callable[[str], object] = print,
    now: datetime | None = None,
) -> UpgradeResult:
    """Apply pending migrations to ``connection`` (the default database), copying an SQLite
    file that holds data aside first. Raises UpgradeFailed (naming the copy) if ``migrate``
    fails. ``migrate`` defaults to Django's ``migrate`` command for that database."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    pending = pending_migrations(connection)
    if not pending:
        return UpgradeResult(pending=[], backup=None, vendor=connection.vendor)
    migrate = migrate or _django_migrate(connection.alias)
    backup = _backup_before_migrate(connection, backups_dir, now, log)
    if connection.vendor != "sqlite":
        log(
            _("Applying %(count)d migration(s) on %(vendor)s (it keeps its own backups).")
            % {"count": len(pending), "vendor": connection.display_name}
        )
    else:
        log(_("Applying %(count)d migration(s).") % {"count": len(pending)})
    try:
        migrate()
    except Exception as error:
        raise UpgradeFailed(_failure_message(error, connection, backup), backup) from error
    return UpgradeResult(pending=pending, backup=backup, vendor=connection.vendor)


def _backup_before_migrate(
    connection: BaseDatabaseWrapper, backups_dir: Path | None, now: datetime | None, log: Callable
) -> Path | None:
    if connection.vendor != "sqlite":
        return None
    path = Path(connection.settings_dict["NAME"])
    if not sqlite_has_data(path):
        return None
    backup = backup_sqlite(path, backups_dir or Path(settings.DATA_DIR) / "backups", now)
    log(_("Copied the database to %(backup)s before migrating.") % {"backup": backup})
    return backup


def _failure_message(error: Exception, connection: BaseDatabaseWrapper, backup: Path | None) -> str:
    message = _("A database migration failed: %(error)s") % {"error": error}
    if backup is None:
        return message
    restore = _(
        "Your data before the upgrade is in %(backup)s. To go back to it, stop solocrm, "
        "delete %(database)s and its -wal and -shm files, copy the backup to %(database)s "
        "and start the previous version of solocrm."
    ) % {"backup": backup, "database": connection.settings_dict["NAME"]}
    return f"{message}\n{restore}"


def _django_migrate(alias: str) -> Callable[[], None]:
    def run() -> None:
        call_command("migrate", database=alias, interactive=False, verbosity=0)

    return run
