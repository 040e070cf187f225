"""The real worker path: `solocrm worker` processes started against the test database, running
each job in a child process. A crafted import that never ends is cancelled from the job page and
from the command line; a job over its time limit fails with a message; a job left running by a
worker killed with SIGKILL is marked failed on the next worker start; two workers never run one
job; a kind's concurrency limit holds.

Waiting here is for an outcome (with a generous deadline for a busy machine), never a timing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from openpyxl import Workbook

from solocrm.contacts.choices import ImportStatus
from solocrm.contacts.importing.jobs import start_job
from solocrm.contacts.models import Contact, ImportJob
from solocrm.jobs import services
from solocrm.jobs.choices import JobStatus
from solocrm.jobs.models import Job
from solocrm.jobs.tests import kinds

# The workers are other processes: what the test writes must be committed for them to see it.
pytestmark = [pytest.mark.django_db(transaction=True)]
DEADLINE = 120.0
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def queued(settings):
    """The real database queue instead of the tests' inline backend."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _database_url() -> str:
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
            "DATABASE_URL": _database_url(),
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


@pytest.fixture
def workers(settings, queued):
    pool = Workers(Path(settings.DATA_DIR))
    yield pool
    pool.stop_all()
    time.sleep(0.5)  # the killed workers' job processes see their pipe close and end


def wait_for(check: Callable[[], bool], workers: Workers, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        close_old_connections()
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"gave up waiting for {what}; worker logs:\n{workers.logs()}")


def _status(job: Job) -> str:
    return Job.objects.values_list("status", flat=True).get(pk=job.pk)


def _alive(pid: int) -> bool:
    """True while the process runs (a zombie waiting for its parent to reap it has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def crafted_xlsx(path: Path) -> Path:
    """A 5 KB workbook whose sheet claims to span A1:XFD1048576 with one e-mail in the last
    row: the reader walks a million empty rows of 16,384 cells before it finds a row to import,
    so the import never calls its progress callback (it would take the better part of an hour)."""
    book = Workbook()
    book.active["A1"], book.active["A1048576"] = "email", "ada@example.com"
    plain = path.with_suffix(".plain.xlsx")
    book.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as crafted:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', data)
            crafted.writestr(item, data)
    return path


def _start_crafted_import(owner, tmp_path: Path) -> tuple[ImportJob, Job]:
    path = crafted_xlsx(Path(django_settings.SOLOCRM_IMPORT_DIR) / "spin.xlsx")
    upload = ImportJob.objects.create(
        kind="contacts", original_name="spin.xlsx", stored_path=str(path), created_by=owner
    )
    start_job(upload)
    upload.refresh_from_db()
    return upload, upload.job


def _running_with_its_process(job: Job) -> bool:
    """The job's handler runs in its own process (and has not reported progress yet)."""
    job.refresh_from_db()
    return job.status == JobStatus.RUNNING and job.step == services.STARTED


def _assert_import_cancelled(upload: ImportJob, job: Job, workers: Workers) -> None:
    wait_for(lambda: _status(job) == JobStatus.CANCELLED, workers, "the import to be cancelled")
    job.refresh_from_db()
    upload.refresh_from_db()
    assert job.message == "Cancelled." and job.finished_at is not None
    assert upload.status == ImportStatus.FAILED and upload.error == "Cancelled."
    assert "did not stop by itself: ending its process" in workers.logs()  # it never saw the cancel
    wait_for(lambda: not _alive(job.pid), workers, "the job's process to be gone")
    assert not Contact.objects.exists()


def test_a_never_ending_import_is_cancelled_from_the_job_page(workers, owner, client, tmp_path):
    Path(django_settings.SOLOCRM_IMPORT_DIR).mkdir(parents=True, exist_ok=True)
    upload, job = _start_crafted_import(owner, tmp_path)
    workers.start()
    wait_for(lambda: _running_with_its_process(job), workers, "the import to start")
    client.force_login(owner)
    assert (
        client.get(reverse("jobs:list")).content.decode().count(reverse("jobs:cancel", args=[job.uuid])) == 2
    )
    client.post(reverse("jobs:cancel", args=[job.uuid]))
    _assert_import_cancelled(upload, job, workers)
    # and the import pages show it ended, with why
    page = client.get(reverse("contacts:import_report", args=[upload.uuid])).content.decode()
    assert "Cancelled." in page


def test_a_never_ending_import_is_cancelled_from_the_command_line(workers, owner, tmp_path):
    Path(django_settings.SOLOCRM_IMPORT_DIR).mkdir(parents=True, exist_ok=True)
    upload, job = _start_crafted_import(owner, tmp_path)
    workers.start()
    wait_for(lambda: _running_with_its_process(job), workers, "the import to start")
    call_command("jobs", "cancel", str(job.uuid), stdout=open(os.devnull, "w"))  # noqa: SIM115
    _assert_import_cancelled(upload, job, workers)


def test_a_job_that_reports_progress_is_cancelled_at_its_next_call(workers):
    job = services.enqueue(kinds.cooperative)
    workers.start()
    wait_for(lambda: Job.objects.filter(pk=job.pk, done__gt=0).exists(), workers, "progress")
    services.cancel(job)
    wait_for(lambda: _status(job) == JobStatus.CANCELLED, workers, "the cancel")
    assert "ending its process" not in workers.logs()  # it stopped by itself, not killed


def test_a_job_over_its_time_limit_fails_with_a_message_saying_so(workers):
    job = services.enqueue(kinds.spin, time_limit=2)
    workers.start()
    wait_for(lambda: _status(job) == JobStatus.FAILED, workers, "the time limit")
    job.refresh_from_db()
    assert job.message == "The job ran longer than its time limit (2 seconds) and was stopped."
    assert not _alive(job.pid)
    assert DBTaskResult.objects.get(id=job.task_id).status == "FAILED"


def test_a_job_left_running_by_a_killed_worker_is_marked_failed_when_a_worker_starts(workers):
    job = services.enqueue(kinds.spin)
    first = workers.start()
    wait_for(lambda: _running_with_its_process(job), workers, "the job to start")
    job.refresh_from_db()
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    wait_for(lambda: not _alive(job.pid), workers, "the orphaned job process to end by itself")
    assert _status(job) == JobStatus.RUNNING  # nobody is left to say otherwise…
    workers.start("--once").wait(DEADLINE)  # …until a worker starts
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message == "The worker running this job stopped (a crash or a forced kill)."
    assert DBTaskResult.objects.get(id=job.task_id).status == "FAILED"


@pytest.mark.skipif(
    "postgresql" not in django_settings.DATABASES["default"]["ENGINE"],
    reason="several workers need PostgreSQL",
)
def test_two_workers_never_run_the_same_job(workers, tmp_path):
    log = tmp_path / "runs.log"
    jobs = [services.enqueue(kinds.record, params={"log": str(log)}) for _ in range(10)]
    first, second = workers.start("--once", "--slots", "2"), workers.start("--once", "--slots", "2")
    assert first.wait(DEADLINE) == 0 and second.wait(DEADLINE) == 0
    runs = [line.split()[0] for line in log.read_text().splitlines()]
    assert sorted(runs) == sorted(str(job.uuid) for job in jobs)  # each once, none twice
    assert set(Job.objects.values_list("status", flat=True)) == {JobStatus.DONE}


def test_a_kind_limited_to_one_never_runs_two_at_once(workers):
    jobs = [services.enqueue(kinds.one_at_a_time) for _ in range(3)]
    workers.start("--slots", "3")
    wait_for(
        lambda: Job.objects.filter(pk__in=[j.pk for j in jobs], status=JobStatus.DONE).count() == 3,
        workers,
        "the three jobs",
    )
    assert [job.result for job in Job.objects.filter(pk__in=[j.pk for j in jobs])] == [{"running": 1}] * 3
