"""The real worker path: `solocrm worker` processes started against the test database, running
each job in a child process. A job that never looks at its cancel flag is still stopped; a job
over its time limit fails with a message; a job left running by a worker killed with SIGKILL is
marked failed on the next worker start; two workers never run one job; a kind's concurrency
limit holds. (The never-ending import: solocrm/contacts/tests/test_import_cancel.py.)

Waiting here is for an outcome (with a generous deadline for a busy machine), never a timing."""

from __future__ import annotations

import os
import signal

import pytest
from django.conf import settings as django_settings
from django_tasks_db.models import DBTaskResult

from solocrm.jobs import services
from solocrm.jobs.choices import JobStatus
from solocrm.jobs.models import Job
from solocrm.jobs.tests import kinds
from solocrm.jobs.tests.workers import DEADLINE, alive, running_its_handler, status

# The workers are other processes: what the test writes must be committed for them to see it.
pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_job_that_never_looks_at_its_cancel_flag_is_stopped(workers):
    job = services.enqueue(kinds.spin)
    workers.start()
    workers.wait_for(lambda: running_its_handler(job), "the job to start")
    services.cancel(job)
    workers.wait_for(lambda: status(job) == JobStatus.CANCELLED, "the cancel")
    job.refresh_from_db()
    assert job.message == "Cancelled." and "did not stop by itself: ending its process" in workers.logs()
    workers.wait_for(lambda: not alive(job.pid), "the job's process to be gone")


def test_a_job_that_reports_progress_is_cancelled_at_its_next_call(workers):
    job = services.enqueue(kinds.cooperative)
    workers.start()
    workers.wait_for(lambda: Job.objects.filter(pk=job.pk, done__gt=0).exists(), "progress")
    services.cancel(job)
    workers.wait_for(lambda: status(job) == JobStatus.CANCELLED, "the cancel")
    assert "ending its process" not in workers.logs()  # it stopped by itself, not killed


def test_a_job_over_its_time_limit_fails_with_a_message_saying_so(workers):
    job = services.enqueue(kinds.spin, time_limit=2)
    workers.start()
    workers.wait_for(lambda: status(job) == JobStatus.FAILED, "the time limit")
    job.refresh_from_db()
    assert job.message == "The job ran longer than its time limit (2 seconds) and was stopped."
    workers.wait_for(lambda: not alive(job.pid), "the job's process to be gone")
    assert DBTaskResult.objects.get(id=job.task_id).status == "FAILED"


def test_a_job_left_running_by_a_killed_worker_is_marked_failed_when_a_worker_starts(workers):
    job = services.enqueue(kinds.spin)
    first = workers.start()
    workers.wait_for(lambda: running_its_handler(job), "the job to start")
    job.refresh_from_db()
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    workers.wait_for(lambda: not alive(job.pid), "the orphaned job process to end by itself")
    assert status(job) == JobStatus.RUNNING  # nobody is left to say otherwise…
    workers.start("--once").wait(DEADLINE)  # …until a worker starts
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message == "The worker running this job stopped (a crash or a forced kill)."
    assert DBTaskResult.objects.get(id=job.task_id).status == "FAILED"


@pytest.mark.skipif(
    "postgresql" not in django_settings.DATABASES["default"]["ENGINE"], reason="several workers: PostgreSQL"
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
    ids = [job.pk for job in jobs]
    workers.wait_for(lambda: Job.objects.filter(pk__in=ids, status=JobStatus.DONE).count() == 3, "the jobs")
    assert [job.result for job in Job.objects.filter(pk__in=ids)] == [{"running": 1}] * 3
