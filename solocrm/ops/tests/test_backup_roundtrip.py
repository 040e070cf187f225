"""The backup's promises end to end, as a user meets them: `solocrm` commands in their own
processes and data directories. A backup of the demo restores into an empty data directory with
the same exports and a quote link signed before the backup still opens; SQLite → PostgreSQL →
SQLite keeps every row. (Each runs in one of the two suites: the other database's run would
repeat the same processes.)"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
QUOTE_TOKEN = (
    "from solocrm.sales.quotes.models import Quote;"
    "from solocrm.sales.quotes.services import accept_token;"
    "q = Quote.objects.order_by('pk').first(); print(q.uuid, accept_token(q))"
)
QUOTE_FOR = (
    "from solocrm.sales.quotes.services import quote_for_token; print(quote_for_token({token!r}).uuid)"
)


def solocrm(data_dir: Path, *args: str, database_url: str = "") -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SOLOCRM_SECRET_KEY")}
    env["SOLOCRM_DATA_DIR"] = str(data_dir)
    if database_url:
        env["DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, "-m", "solocrm.cli", *args], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def exports(data_dir: Path, database_url: str = "") -> dict[str, str]:
    return {
        f"{kind}.{form}": solocrm(data_dir, "export", kind, "--format", form, database_url=database_url)
        for kind in ("contacts", "orders")
        for form in ("jsonl",)
    }


@pytest.mark.skipif(ON_POSTGRES, reason="runs in the SQLite suite")
def test_a_backup_of_the_demo_restores_with_the_same_exports_and_working_links(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    solocrm(source, "demo")
    quote_uuid, token = solocrm(source, "shell", "-c", QUOTE_TOKEN).strip().splitlines()[-1].split()
    archive = solocrm(source, "backup", "--output", str(tmp_path / "backups") + "/").strip()
    assert "OK:" in solocrm(source, "backup", "--verify", archive)

    solocrm(target, "restore", archive)

    assert exports(target) == exports(source)
    assert (
        solocrm(target, "shell", "-c", QUOTE_FOR.format(token=token)).strip().splitlines()[-1] == quote_uuid
    )
    assert (target / "secret_key").read_text() == (source / "secret_key").read_text()


@pytest.fixture
def empty_postgres():
    psycopg = pytest.importorskip("psycopg")
    base = settings.DATABASES["default"]
    name = f"solocrm_restore_{uuid.uuid4().hex[:8]}"
    admin = dict(
        host=base["HOST"], port=base["PORT"], user=base["USER"], password=base["PASSWORD"], dbname="postgres"
    )
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://{base['USER']}@{base['HOST']}:{base['PORT']}/{name}"
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.mark.skipif(not ON_POSTGRES, reason="runs in the PostgreSQL suite")
def test_sqlite_to_postgresql_and_back_keeps_every_row(tmp_path, empty_postgres):
    lite, pg, back = tmp_path / "lite", tmp_path / "pg", tmp_path / "back"
    solocrm(lite, "demo")
    first = solocrm(lite, "backup", "--output", str(tmp_path / "one.tar.gz")).strip()

    solocrm(pg, "restore", first, database_url=empty_postgres)
    assert exports(pg, empty_postgres) == exports(lite)
    second = solocrm(
        pg, "backup", "--output", str(tmp_path / "two.tar.gz"), database_url=empty_postgres
    ).strip()

    solocrm(back, "restore", second)
    assert exports(back) == exports(lite)
