"""A command on a new data directory (or one an older version left) brings the database up to
date first, as `serve` does, and says so on standard error; a database it cannot reach ends
with one line that says what to check, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def solocrm(data_dir: Path, *args: str, database_url: str | None = None) -> subprocess.CompletedProcess:
    env = {"SOLOCRM_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "solocrm.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=300,
    )


def test_a_command_on_a_new_data_directory_creates_the_database_and_works(tmp_path):
    first = solocrm(tmp_path / "data", "tasks", "today", "--json")
    assert first.returncode == 0, first.stderr
    assert "Database upgraded" in first.stderr and "Traceback" not in first.stderr
    assert first.stdout == ""  # JSON lines: no item today
    again = solocrm(tmp_path / "data", "tasks", "today", "--json")
    assert again.returncode == 0 and "Database upgraded" not in again.stderr


def test_fit_clv_reads_its_file_and_creates_no_database(tmp_path):
    orders = tmp_path / "orders.csv"
    orders.write_text("customer,date,amount\na,2026-01-02,10\na,2026-02-03,12\nb,2026-01-05,7\n")
    done = solocrm(tmp_path / "data", "analytics", "fit-clv", str(orders), "--json")
    assert "Database upgraded" not in done.stderr
    assert not (tmp_path / "data" / "solocrm.sqlite3").exists()


def test_help_touches_no_database(tmp_path):
    done = solocrm(tmp_path / "data", "export", "contacts", "--help")
    assert done.returncode == 0 and "usage:" in done.stdout
    assert not (tmp_path / "data" / "solocrm.sqlite3").exists()


def test_a_database_that_cannot_be_reached_ends_with_one_line(tmp_path):
    done = solocrm(tmp_path / "data", "export", "contacts", database_url="postgres://nobody@127.0.0.1:9/none")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "Check DATABASE_URL or SOLOCRM_DATA_DIR" in done.stderr
