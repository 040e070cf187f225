"""The job API every app uses: enqueue, report progress, cancel, recover after a crash.

    job = enqueue(handler, params={...}, title=..., user=..., time_limit=...)
    cancel(job)                       # queued: cancelled at once; running: stopped (see runner.py)
    recover_abandoned()               # at worker start: "running" jobs whose worker is gone

A handler is ``handler(job, progress) -> dict | None`` declared with ``@job_kind`` (registry.py).
It calls ``progress(step, done, total)`` now and then; each call (at most twice a second) saves
the progress and raises JobCancelled / JobTimedOut when the job should stop, so a normal cancel
is prompt. A handler that never calls it is still stopped: the worker runs it in a child process
and ends that process (runner.py).

Where a job runs follows the task backend: the database backend queues it for `solocrm worker`;
the immediate backend (tests, SOLOCRM_JOBS_INLINE) runs it at once in the caller's thread.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import close_old_connections, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from solocrm.lib.business import held_for_this_request
from solocrm.users.models import AuditLog

from . import registry
from .choices import ACTIVE, JobStatus
from .models import Job
from .registry import Handler, Kind

log = logging.getLogger("solocrm.jobs")

PROGRESS_EVERY = 0.5  # seconds between two progress writes (and cancel checks)
HEARTBEAT_EVERY = 5.0  # seconds between two "still alive" writes of a running job
STALE_AFTER = timedelta(seconds=60)  # a running job not heard of for this long is abandoned

CLAIMED, DEFERRED, GONE = "claimed", "deferred", "gone"
STARTED = "started"  # the step of a job whose handler has not reported any progress yet


class JobCancelled(Exception):
    """Raised by the progress reporter when somebody asked the job to stop."""


class JobTimedOut(Exception):
    """Raised by the progress reporter when the job is over its time limit."""


class JobFailed(Exception):
    """Raised by a handler to fail its job with a message meant for the user."""


class JobBusy(Exception):
    """An exclusive kind already has a job queued or running."""


# --- names --------------------------------------------------------------------------------------


def worker_name() -> str:
    """This process as a worker: "host:pid" (recover_abandoned reads it back)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def duration_text(seconds: int) -> str:
    if seconds % 3600 == 0:
        return ngettext("%(n)d hour", "%(n)d hours", seconds // 3600) % {"n": seconds // 3600}
    if seconds % 60 == 0:
        return ngettext("%(n)d minute", "%(n)d minutes", seconds // 60) % {"n": seconds // 60}
    return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}


def timed_out_message(job: Job) -> str:
    return _("The job ran longer than its time limit (%(limit)s) and was stopped.") % {
        "limit": duration_text(job.time_limit)
    }


# --- enqueue -----------------------------------------------------------------------------------


def _lock_kind(kind: str) -> None:
    """Serialise the "how many of this kind run?" check and the claim that follows it.
    PostgreSQL: a transaction-scoped advisory lock per kind. SQLite: every transaction is
    IMMEDIATE (settings.py), so its BEGIN already holds the database's one write lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(f"solocrm.jobs:{kind}".encode())])


def enqueue(
    handler: Handler,
    *,
    params: dict[str, Any] | None = None,
    title: str = "",
    user=None,
    time_limit: int | None = None,
) -> Job:
    """Create the Job and hand it to the task backend (queued, or run at once when inline).
    Raises JobBusy for an exclusive kind that already has one queued or running."""
    kind = registry.kind_of(handler)
    with transaction.atomic():
        _lock_kind(kind.name)
        if kind.exclusive and Job.objects.filter(kind=kind.name, status__in=ACTIVE).exists():
            raise JobBusy(_("A job of this kind is already queued or running."))
        job = Job.objects.create(
            kind=kind.name,
            handler=kind.path,
            params=params or {},
            title=title[:200],
            created_by=user if getattr(user, "is_authenticated", False) else None,
            time_limit=time_limit or kind.time_limit,
        )
    dispatch(job)
    job.refresh_from_db()
    return job


def dispatch(job: Job, *, run_after: datetime | None = None) -> None:
    """Queue the django-tasks task that runs ``job``; remember its result row's id."""
    from .tasks import run_job  # the task module imports this one

    task = run_job.using(run_after=run_after) if run_after else run_job
    result = task.enqueue(str(job.uuid))
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id))


# --- claim and finish --------------------------------------------------------------------------


def claim(job: Job, *, enforce_limit: bool = True) -> str:
    """Mark a queued job running for this process: CLAIMED, DEFERRED (its kind is at its
    concurrency limit: try later) or GONE (cancelled, or claimed by another worker: the
    conditional UPDATE lets exactly one claimant through)."""
    kind = registry.load(job)
    with transaction.atomic():
        _lock_kind(job.kind)
        if (
            enforce_limit
            and Job.objects.filter(kind=job.kind, status=JobStatus.RUNNING).count() >= kind.limit
        ):
            return DEFERRED
        now = timezone.now()
        claimed = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            worker=worker_name(),
            pid=os.getpid(),
            updated_at=now,
        )
    return CLAIMED if claimed else GONE


def finish(job: Job, status: str, message: str = "", result: dict[str, Any] | None = None) -> bool:
    """Move a running job to its end state; False when it had already ended (e.g. the worker
    that supervises it, or a recovery, got there first)."""
    now = timezone.now()
    fields: dict[str, Any] = {"status": status, "message": message, "finished_at": now, "updated_at": now}
    if result is not None:
        fields["result"] = result
    ended = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(**fields)
    if ended:
        job.status, job.message, job.finished_at = status, message, now
        if result is not None:
            job.result = result
    return bool(ended)


def known_kind(job: Job) -> Kind | None:
    """The job's kind, or None when this code no longer has it (an upgrade removed it)."""
    try:
        return registry.load(job)
    except (ImportError, KeyError):
        log.error("job %s: unknown kind %s (%s)", job.uuid, job.kind, job.handler)
        return None


def fail_unknown(job: Job) -> bool:
    """Fail a queued job whose kind this code does not know, rather than leave it queued."""
    now = timezone.now()
    message = _("This version of solocrm cannot run jobs of the kind “%(kind)s”.") % {"kind": job.kind}
    return bool(
        Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.FAILED, message=message, finished_at=now, updated_at=now
        )
    )


def stopped(job: Job) -> None:
    """Let the kind tidy what it owns after its job ended without finishing (on_stop)."""
    try:
        kind = known_kind(job)
        if kind is not None and kind.on_stop is not None:
            kind.on_stop(job)
    except Exception:  # tidying must never hide why the job ended
        log.exception("tidying after job %s failed", job.uuid)


# --- progress ----------------------------------------------------------------------------------


class Progress:
    """The callback a handler reports through: ``progress(step, done, total)``.

    Writes at most every PROGRESS_EVERY seconds (the last call of a step always), and each
    write also checks the job's cancel flag and time limit. ``also`` receives every call
    (e.g. a rich progress bar when the command line runs a job in the foreground)."""

    def __init__(self, job: Job, also: Callable[[str, int, int | None], None] | None = None) -> None:
        self.job, self.also = job, also
        self._last = 0.0
        started = job.started_at or timezone.now()
        self.deadline = started + timedelta(seconds=job.time_limit)

    def __call__(self, step: str = "", done: int = 0, total: int | None = None) -> None:
        if self.also is not None:
            self.also(step, done, total)
        self.save(step, done, total)

    def save(self, step: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self._last < PROGRESS_EVERY and step == self.job.step:
            return
        self._last = now
        self.job.step, self.job.done, self.job.total = step[:100], max(done, 0), total
        Job.objects.filter(pk=self.job.pk).update(
            step=self.job.step, done=self.job.done, total=total, heartbeat_at=timezone.now()
        )
        self.check()

    def check(self) -> None:
        """Raise JobTimedOut / JobCancelled when the job must stop."""
        if timezone.now() > self.deadline:
            raise JobTimedOut(timed_out_message(self.job))
        if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise JobCancelled(_("Cancelled."))


def execute(job: Job, *, also: Callable[[str, int, int | None], None] | None = None) -> Job:
    """Run a claimed job's handler in this process and record how it ended. Never raises for
    the job's own failure (that is the job's message); the job is always left finished."""
    progress = Progress(job, also)
    try:
        progress.check()  # cancelled or out of time before it started
        progress.save(STARTED, 0, None)  # the job page shows it began (and the handler is running)
        # One copy of the business settings for the job; "today" is the business's day.
        with held_for_this_request() as config, timezone.override(config.zone):
            value = registry.load(job).handler(job, progress)
    except (JobCancelled, JobTimedOut, JobFailed) as error:
        status = JobStatus.CANCELLED if isinstance(error, JobCancelled) else JobStatus.FAILED
        finish(job, status, str(error))
    except Exception as error:
        log.exception("job %s (%s) failed", job.uuid, job.kind)
        finish(job, JobStatus.FAILED, str(error) or error.__class__.__name__)
    else:
        result = dict(value) if isinstance(value, dict) else ({} if value is None else {"value": value})
        finish(job, JobStatus.DONE, str(result.pop("message", "")), result)
    if job.status != JobStatus.DONE:
        stopped(job)
    return job


def run_here(
    handler: Handler,
    *,
    params: dict[str, Any] | None = None,
    title: str = "",
    user=None,
    also: Callable[[str, int, int | None], None] | None = None,
) -> Job:
    """Run a job of ``handler``'s kind in the foreground of this process (the command line),
    still recorded as a Job so the job page shows it. Raises JobBusy when its kind is at its
    limit (or exclusive and already queued)."""
    kind = registry.kind_of(handler)
    with transaction.atomic():
        _lock_kind(kind.name)
        busy = Job.objects.filter(
            kind=kind.name, status__in=ACTIVE if kind.exclusive else [JobStatus.RUNNING]
        )
        if busy.count() >= (1 if kind.exclusive else kind.limit):
            raise JobBusy(_("A job of this kind is already queued or running."))
        job = Job.objects.create(
            kind=kind.name, handler=kind.path, params=params or {}, title=title[:200],
            created_by=user if getattr(user, "is_authenticated", False) else None,
            time_limit=kind.time_limit,
        )  # fmt: skip
    claim(job, enforce_limit=False)
    job.refresh_from_db()
    with heartbeat(job):
        return execute(job, also=also)


class heartbeat:
    """Keep a job's heartbeat fresh from a side thread while this process runs it in the
    foreground (a long step between two progress calls must not look like a crash)."""

    def __init__(self, job: Job) -> None:
        self.job, self.stop = job, threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True, name=f"job-heartbeat-{job.uuid}")

    def _beat(self) -> None:
        try:
            while not self.stop.wait(HEARTBEAT_EVERY):
                close_old_connections()
                Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        finally:
            connections.close_all()

    def __enter__(self) -> heartbeat:
        # Inside an open transaction (a test's, or a caller's) another connection could not
        # write before it ends, so a side thread would only wait on the lock.
        if not connection.in_atomic_block:
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()


# --- cancel ------------------------------------------------------------------------------------


def cancel(job: Job, user=None) -> bool:
    """Ask ``job`` to stop. A queued job is cancelled at once; a running one is stopped by its
    worker (at its next progress call, or by ending its process after a short grace).
    False when the job had already ended."""
    now = timezone.now()
    cancelled = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELLED,
        cancel_requested=True,
        message=_("Cancelled before it started."),
        finished_at=now,
        updated_at=now,
    )
    if not cancelled:
        cancelled = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            cancel_requested=True, updated_at=now
        )
    if cancelled:
        AuditLog.record(user, "job.cancel", job, summary=job.title or job.kind)
    job.refresh_from_db()
    if job.status == JobStatus.RUNNING and is_abandoned(job):  # no worker is left to stop it
        job.message = _("Cancelled.")
        stopped(job)
        finish(job, JobStatus.CANCELLED, job.message)
    elif job.status == JobStatus.CANCELLED:
        stopped(job)
    return bool(cancelled)


# --- crashes -----------------------------------------------------------------------------------


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


def is_abandoned(job: Job, now: datetime | None = None) -> bool:
    """A running job whose worker is gone: on this machine, its worker process no longer
    exists; anywhere, nothing has been heard from it for STALE_AFTER."""
    now = now or timezone.now()
    seen = job.heartbeat_at or job.started_at or job.created_at
    if seen is not None and now - seen > STALE_AFTER:
        return True
    host, _sep, pid = job.worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return not _process_alive(int(pid))
    return False


def recover_abandoned(now: datetime | None = None) -> list[Job]:
    """Mark failed every running job a crash left behind (re-queueing the kinds that are safe
    to run again); returns them. Called when a worker starts and at each scheduler tick."""
    recovered = []
    for job in Job.objects.filter(status=JobStatus.RUNNING):
        if not is_abandoned(job, now):
            continue
        kind = known_kind(job)
        message = _("The worker running this job stopped (a crash or a forced kill).")
        if kind is not None and kind.rerun_after_crash:
            message += " " + _("It was queued again.")
        if not finish(job, JobStatus.FAILED, message):
            continue
        _fail_task_row(job)
        stopped(job)
        if kind is not None and kind.rerun_after_crash:
            _rerun(job, kind)
        log.warning("job %s (%s) was left running by a stopped worker: marked failed", job.uuid, job.kind)
        recovered.append(job)
    return recovered


def _fail_task_row(job: Job) -> None:
    """The django-tasks row of a crashed job stays RUNNING forever unless told otherwise."""
    if not job.task_id:
        return
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - the database backend is not installed
        return
    DBTaskResult.objects.filter(id=job.task_id, status="RUNNING").update(
        status="FAILED", finished_at=timezone.now()
    )


def _rerun(job: Job, kind: Kind) -> Job:
    again = Job.objects.create(
        kind=job.kind, handler=kind.path, params=job.params, title=job.title,
        created_by=job.created_by, time_limit=job.time_limit, rerun_of=job,
    )  # fmt: skip
    dispatch(again)
    return again


# --- reading -----------------------------------------------------------------------------------


def latest(kind: str) -> Job | None:
    return Job.objects.filter(kind=kind).order_by("-created_at", "-id").first()


def recent(limit: int = 50):
    return Job.objects.select_related("created_by").order_by("-created_at", "-id")[:limit]
