"""Real `solocrm worker` processes for tests, started on the test database. The workers are
other processes, so a test using them must commit what it writes:
``pytest.mark.django_db(transaction=True)``. The ``workers`` fixture (root conftest.py) gives
a Workers; jobs enqueued in such a test go to the database queue, not inline."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import close_old_connections, connection

from solocrm.jobs.models import Job

DEADLINE = 120.0  # seconds to wait for an outcome on a busy machine (never a timing)
ROOT = Path(__file__).resolve().parents[3]


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user, host, port = db.get("USER") or "postgres", db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


class Workers:
    """Start `solocrm worker` processes on the test database; kill what is left at the end."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir, self.processes = data_dir, []

    def start(self, *args: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "SOLOCRM_DATA_DIR": str(self.data_dir),
            "SOLOCRM_JOBS_INLINE": "0",
            "SOLOCRM_ANALYTICS_HOUR": "off",
            "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path]),
        }
        log = (self.data_dir / f"worker-{len(self.processes)}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "solocrm.cli", "worker", "--interval", "0.2", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.data_dir.glob("worker-*.log")))

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()

    def wait_for(self, check: Callable[[], bool], what: str) -> None:
        """Poll ``check`` until it holds; fail with the workers' logs after DEADLINE."""
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            close_old_connections()
            if check():
                return
            time.sleep(0.2)
        pytest.fail(f"gave up waiting for {what}; worker logs:\n{self.logs()}")


@pytest.fixture
def workers(settings):
    """Real workers on the test database; enqueued jobs wait for them (no inline run)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    pool = Workers(Path(settings.DATA_DIR))
    yield pool
    pool.stop_all()
    time.sleep(0.5)  # the killed workers' job processes see their pipe close and end


def status(job: Job) -> str:
    return Job.objects.values_list("status", flat=True).get(pk=job.pk)


def alive(pid: int) -> bool:
    """True while the process runs (a zombie waiting for its parent to reap it has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def running_its_handler(job: Job) -> bool:
    """The job's handler runs in its own process (and has not reported progress yet)."""
    from solocrm.jobs.services import STARTED

    job.refresh_from_db()
    return job.status == "running" and job.step == STARTED
