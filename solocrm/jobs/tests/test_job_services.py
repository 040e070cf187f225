"""enqueue / claim / progress / cancel / recover_abandoned, with jobs run inline (the immediate
task backend, as in every test); the real worker path is in test_worker_processes.py."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from solocrm.jobs import services
from solocrm.jobs.choices import JobStatus
from solocrm.jobs.models import Job
from solocrm.jobs.tests import kinds
from solocrm.users.models import AuditLog

pytestmark = pytest.mark.django_db


def _job(handler, **fields) -> Job:
    kind = handler.job_kind
    values = {"kind": kind.name, "handler": kind.path, "time_limit": 60}
    values.update(fields)
    return Job.objects.create(**values)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()  # reaped: the pid names no process now
    return process.pid


def test_an_inline_job_runs_at_once_and_keeps_its_result_and_message(owner):
    job = services.enqueue(kinds.adds, params={"a": 2, "b": 3}, title="Add", user=owner)
    assert job.status == JobStatus.DONE and job.result == {"sum": 5} and job.message == "added"
    assert job.created_by == owner and job.started_at and job.finished_at and job.percent == 100


def test_a_job_that_refuses_fails_with_its_own_message():
    job = services.enqueue(kinds.refuses)
    assert job.status == JobStatus.FAILED and job.message == "The numbers do not add up."


def test_a_job_that_breaks_fails_with_the_error_and_never_stays_running():
    job = services.enqueue(kinds.breaks)
    assert job.status == JobStatus.FAILED and job.message == "boom" and job.finished_at


def test_an_exclusive_kind_refuses_a_second_job_while_one_is_queued():
    _job(kinds.exclusive)
    with pytest.raises(services.JobBusy):
        services.enqueue(kinds.exclusive)


def test_the_time_limit_of_the_kind_applies_unless_one_is_given():
    assert _job(kinds.spin).time_limit == 60
    assert services.enqueue(kinds.adds, params={"a": 1, "b": 1}).time_limit == kinds.adds.job_kind.time_limit
    assert services.enqueue(kinds.adds, params={"a": 1, "b": 1}, time_limit=7).time_limit == 7


def test_a_kind_at_its_limit_defers_the_claim():
    _job(kinds.one_at_a_time, status=JobStatus.RUNNING)
    waiting = _job(kinds.one_at_a_time)
    assert services.claim(waiting) == services.DEFERRED
    assert Job.objects.get(pk=waiting.pk).status == JobStatus.QUEUED


def test_a_job_is_claimed_once():
    job = _job(kinds.adds)
    assert services.claim(job) == services.CLAIMED
    assert services.claim(job) == services.GONE
    claimed = Job.objects.get(pk=job.pk)
    assert claimed.status == JobStatus.RUNNING and claimed.worker == services.worker_name()


def test_progress_is_saved_and_a_cancel_is_raised_at_the_next_call():
    job = _job(kinds.cooperative, status=JobStatus.RUNNING, started_at=timezone.now())
    progress = services.Progress(job)
    progress("rows", 10, 100)
    assert Job.objects.filter(pk=job.pk, step="rows", done=10, total=100).exists()
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    with pytest.raises(services.JobCancelled):
        progress("more rows", 20, 100)


def test_progress_past_the_time_limit_raises_with_the_limit_in_the_message():
    started = timezone.now() - timedelta(seconds=90)
    job = _job(kinds.cooperative, status=JobStatus.RUNNING, started_at=started, time_limit=60)
    with pytest.raises(services.JobTimedOut, match=r"time limit \(1 minute\)"):
        services.Progress(job)("rows", 1, 2)


def test_cancelling_a_queued_job_cancels_it_at_once_and_is_audited(owner):
    job = _job(kinds.adds)
    assert services.cancel(job, owner) is True
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.finished_at and job.message
    assert AuditLog.objects.filter(action="job.cancel", object_uuid=job.uuid, actor=owner).exists()


def test_cancelling_a_running_job_asks_its_worker_and_an_ended_job_is_left_alone():
    running = _job(kinds.cooperative, status=JobStatus.RUNNING)
    assert services.cancel(running) is True
    running.refresh_from_db()
    assert running.status == JobStatus.RUNNING and running.cancel_requested
    done = _job(kinds.adds, status=JobStatus.DONE)
    assert services.cancel(done) is False


def test_a_running_job_whose_worker_process_is_gone_is_marked_failed():
    host = services.worker_name().rpartition(":")[0]
    job = _job(
        kinds.spin, status=JobStatus.RUNNING, worker=f"{host}:{_dead_pid()}", heartbeat_at=timezone.now()
    )
    alive = _job(
        kinds.spin, status=JobStatus.RUNNING, worker=services.worker_name(), heartbeat_at=timezone.now()
    )
    assert services.recover_abandoned() == [job]
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "stopped" in job.message
    assert Job.objects.get(pk=alive.pk).status == JobStatus.RUNNING


def test_a_job_on_another_machine_is_abandoned_only_when_its_heartbeat_is_stale():
    quiet = timezone.now() - services.STALE_AFTER - timedelta(seconds=1)
    stale = _job(kinds.spin, status=JobStatus.RUNNING, worker="elsewhere:1", heartbeat_at=quiet)
    fresh = _job(kinds.spin, status=JobStatus.RUNNING, worker="elsewhere:2", heartbeat_at=timezone.now())
    assert services.recover_abandoned() == [stale]
    assert Job.objects.get(pk=fresh.pk).status == JobStatus.RUNNING


def test_a_crashed_job_that_is_safe_to_rerun_is_queued_again():
    crashed = _job(kinds.rerunnable, status=JobStatus.RUNNING, worker="elsewhere:1", heartbeat_at=None)
    Job.objects.filter(pk=crashed.pk).update(created_at=timezone.now() - timedelta(hours=1))
    services.recover_abandoned()
    crashed.refresh_from_db()
    again = Job.objects.get(rerun_of=crashed)
    assert crashed.status == JobStatus.FAILED and "queued again" in crashed.message
    assert again.status == JobStatus.DONE  # inline: the re-run ran at once


def test_running_here_records_the_job_and_refuses_a_kind_at_its_limit():
    seen = []
    job = services.run_here(kinds.adds, params={"a": 1, "b": 2}, also=lambda *call: seen.append(call))
    assert job.status == JobStatus.DONE and job.result == {"sum": 3} and seen == [("adding", 1, 1)]
    _job(kinds.one_at_a_time, status=JobStatus.RUNNING)
    with pytest.raises(services.JobBusy):
        services.run_here(kinds.one_at_a_time)


def test_cancelling_a_job_whose_worker_is_gone_ends_it_at_once():
    job = _job(kinds.spin, status=JobStatus.RUNNING, worker="elsewhere:1", heartbeat_at=None)
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert services.cancel(job) is True
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.message == "Cancelled."


def test_a_job_of_a_kind_this_code_does_not_know_fails_rather_than_waits():
    job = Job.objects.create(kind="gone.kind", handler="solocrm.jobs.tests.kinds.gone", time_limit=60)
    services.dispatch(job)  # inline: the task runs at once
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "gone.kind" in job.message


def test_a_crashed_job_of_an_unknown_kind_is_still_marked_failed():
    quiet = timezone.now() - timedelta(hours=1)
    job = Job.objects.create(
        kind="gone.kind", handler="nowhere.handler", time_limit=60, status=JobStatus.RUNNING,
        worker="elsewhere:1", heartbeat_at=quiet,
    )  # fmt: skip
    assert services.recover_abandoned() == [job]
