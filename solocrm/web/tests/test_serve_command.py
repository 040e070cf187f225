"""`solocrm serve` and the migrate-with-backup step it runs first."""

import socket
import sqlite3
import threading
from contextlib import closing
from datetime import UTC, datetime
from io import StringIO
from types import SimpleNamespace

import pytest
import waitress
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import ConnectionHandler

from solocrm.users.setup import check_setup_token
from solocrm.web.management.commands.serve import base_url, is_loopback
from solocrm.web.upgrade import UpgradeFailed, migrate_with_backup, pending_migrations

FIRST = ("contenttypes", "0001_initial")
SECOND = ("contenttypes", "0002_remove_content_type_name")
NOW = datetime(2024, 5, 17, 8, 30, tzinfo=UTC)


def _file_database(path):
    """A second database alias on an SQLite file. Registered with Django's connection handler
    because migrations (and their recorder) look connections up by alias."""
    alias = f"upgrade_{path.stem}"
    spec = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}
    connections.settings[alias] = ConnectionHandler({"default": spec}).settings["default"]
    return connections[alias]


def _forget(db) -> None:
    db.close()
    del connections[db.alias]
    del connections.settings[db.alias]


@pytest.fixture
def old_database(tmp_path, django_db_blocker):
    """An SQLite file in WAL mode from an older release: one migration applied, one row of data
    still in the write-ahead log, every later migration pending."""
    # Not the test database, so no test transaction around it: migrations run as in production.
    with django_db_blocker.unblock():
        old = _file_database(tmp_path / "old.sqlite3")
        MigrationExecutor(old).migrate([FIRST])
        with old.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(
                "INSERT INTO django_content_type (name, app_label, model) VALUES ('x', 'shop', 'mug')"
            )
        yield old
        _forget(old)


def _applied(path) -> set[tuple[str, str]]:
    with closing(sqlite3.connect(path)) as db:
        return set(db.execute("SELECT app, name FROM django_migrations WHERE app = 'contenttypes'"))


def _apply_second(old):
    return lambda: MigrationExecutor(old).migrate([SECOND])


def test_it_copies_an_sqlite_database_aside_then_applies_the_pending_migrations(old_database, tmp_path):
    result = migrate_with_backup(old_database, backups_dir=tmp_path / "backups", log=print, now=NOW)

    assert result.backup.name == "solocrm-20240517T083000Z-before-migrate.sqlite3"
    assert "contenttypes.0002_remove_content_type_name" in result.pending
    assert "contacts.0001_initial" in result.pending
    assert SECOND not in _applied(result.backup)
    assert SECOND in _applied(old_database.settings_dict["NAME"])
    assert pending_migrations(old_database) == []


def test_the_copy_is_taken_before_the_first_migration_runs(old_database, tmp_path):
    seen_before_migrating = []

    def migrate():
        seen_before_migrating.extend(p.name for p in (tmp_path / "backups").iterdir())

    result = migrate_with_backup(old_database, migrate=migrate, backups_dir=tmp_path / "backups", log=print)
    assert seen_before_migrating == [result.backup.name]


def test_the_copy_includes_data_still_in_the_write_ahead_log(old_database, tmp_path):
    result = migrate_with_backup(
        old_database, migrate=_apply_second(old_database), backups_dir=tmp_path / "backups", log=print
    )
    with closing(sqlite3.connect(result.backup)) as db:
        assert db.execute("SELECT model FROM django_content_type WHERE app_label = 'shop'").fetchall() == [
            ("mug",)
        ]


def test_a_failed_migration_names_the_copy_and_how_to_restore_it_and_keeps_the_copy(old_database, tmp_path):
    def broken_migration():
        raise RuntimeError("no such column: legacy")

    with pytest.raises(UpgradeFailed) as failure:
        migrate_with_backup(
            old_database, migrate=broken_migration, backups_dir=tmp_path / "backups", log=print
        )

    message = str(failure.value)
    assert "no such column: legacy" in message
    assert str(failure.value.backup) in message
    assert "copy the backup to" in message
    assert failure.value.backup.exists()


def test_two_upgrades_in_the_same_second_keep_both_copies(old_database, tmp_path):
    first = migrate_with_backup(
        old_database, migrate=lambda: None, backups_dir=tmp_path / "backups", log=print, now=NOW
    )
    second = migrate_with_backup(
        old_database, migrate=lambda: None, backups_dir=tmp_path / "backups", log=print, now=NOW
    )
    assert first.backup != second.backup
    assert first.backup.exists() and second.backup.exists()


def test_a_new_empty_sqlite_file_is_migrated_without_a_copy(tmp_path, django_db_blocker):
    calls = []
    with django_db_blocker.unblock():
        new = _file_database(tmp_path / "new.sqlite3")
        try:
            result = migrate_with_backup(
                new, migrate=lambda: calls.append(1), backups_dir=tmp_path / "b", log=print
            )
        finally:
            _forget(new)
    assert calls == [1]
    assert result.backup is None
    assert not (tmp_path / "b").exists()


@pytest.mark.django_db
def test_an_up_to_date_database_is_left_alone(tmp_path):
    calls = []
    result = migrate_with_backup(
        connection, migrate=lambda: calls.append(1), backups_dir=tmp_path / "b", log=print
    )
    assert pending_migrations(connection) == []
    assert (calls, result.pending, result.backup) == ([], [], None)


def test_postgresql_is_migrated_without_a_file_copy(monkeypatch, tmp_path):
    from solocrm.web import upgrade

    server = SimpleNamespace(
        vendor="postgresql", display_name="PostgreSQL", alias="default", settings_dict={}
    )
    monkeypatch.setattr(upgrade, "pending_migrations", lambda conn: ["sales.0002_more"])
    messages, calls = [], []
    result = migrate_with_backup(
        server, migrate=lambda: calls.append(1), backups_dir=tmp_path / "b", log=messages.append
    )
    assert calls == [1]
    assert result.backup is None
    assert "PostgreSQL" in messages[0]


@pytest.fixture
def served(monkeypatch, db):
    """Record the server waitress would create, and run it without listening."""
    calls = []

    def create_server(app, **kwargs):
        calls.append((app, kwargs))
        return SimpleNamespace(run=lambda: None)

    monkeypatch.setattr(waitress, "create_server", create_server)
    return calls


def _serve(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("serve", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_serve_prints_the_set_up_page_and_a_working_token_while_no_user_exists(served):
    out, _err = _serve("--port", "8014")
    assert "http://127.0.0.1:8014/setup/" in out
    token = out.split("set-up token:")[1].split()[0]
    assert check_setup_token(token)


def test_serve_runs_waitress_on_loopback_by_default(served, owner):
    out, err = _serve("--threads", "4")
    ((_app, kwargs),) = served
    assert kwargs == {"host": "127.0.0.1", "port": 8000, "threads": 4, "ident": "solocrm"}
    assert "open http://127.0.0.1:8000/" in out
    assert "setup" not in out
    assert err == ""


def test_serve_warns_when_other_machines_can_reach_it(served, owner):
    _out, err = _serve("--host", "0.0.0.0")  # noqa: S104
    assert "other machines" in err
    assert served[0][1]["host"] == "0.0.0.0"  # noqa: S104


def test_serve_says_clearly_when_the_port_is_taken(db, owner):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"Cannot listen on 127.0.0.1:{port}"):
            _serve("--port", str(port))


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False), ("192.168.1.5", False)],  # noqa: S104
)
def test_only_loopback_addresses_count_as_private(host, loopback):
    assert is_loopback(host) is loopback


def test_the_address_to_open_for_a_wildcard_or_ipv6_bind_is_usable_in_a_browser():
    assert base_url("0.0.0.0", 8000) == "http://127.0.0.1:8000/"  # noqa: S104
    assert base_url("::1", 8014) == "http://[::1]:8014/"


def _embedded_worker_runs(monkeypatch) -> list:
    """Record the embedded worker's start instead of running its loop."""
    from solocrm.web.management.commands import worker

    started = []
    monkeypatch.setattr(worker.Runner, "run", lambda self: started.append((self.backend, self.slots)))
    return started


def _join_embedded_worker() -> None:
    for thread in threading.enumerate():
        if thread.name == "embedded-worker":
            thread.join(10)


def test_serve_schedules_the_daily_analytics_refresh(served, owner, settings, monkeypatch):
    started = _embedded_worker_runs(monkeypatch)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.SOLOCRM_ANALYTICS_HOUR = "4"
    out, _err = _serve()
    _join_embedded_worker()
    assert started == [("default", 2)]  # the embedded worker, whose clock queues the refresh
    assert "every day after 04:00" in out and "Background jobs run here" in out


def test_serve_without_a_worker_leaves_the_jobs_to_solocrm_worker(served, owner, settings, monkeypatch):
    started = _embedded_worker_runs(monkeypatch)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    out, _err = _serve("--no-worker")
    _join_embedded_worker()
    assert started == [] and "Background jobs run here" not in out


def test_serve_says_when_the_daily_refresh_is_off_and_refuses_a_wrong_hour(served, owner, settings):
    settings.SOLOCRM_ANALYTICS_HOUR = "off"
    out, _err = _serve()
    assert "daily analytics refresh is off" in out
    settings.SOLOCRM_ANALYTICS_HOUR = "25"
    with pytest.raises(CommandError, match="SOLOCRM_ANALYTICS_HOUR"):
        _serve()
