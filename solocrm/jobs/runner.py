"""Running one claimed job in a child process the worker can stop.

Why a process: a job may spin inside a library and never call its progress callback (a crafted
XLSX that makes the reader walk a million empty rows). A thread cannot be stopped from outside;
a process can. The worker thread that claimed the job starts ``python -m solocrm.jobs.child``,
then watches it: it writes the job's heartbeat, and ends the process when a cancel was asked
for and the job did not stop by itself within CANCEL_GRACE seconds, or when the job is over its
time limit. The child reads its stdin until end-of-file: when the worker dies (even by kill -9)
the pipe closes and the child ends itself, so no orphan goes on writing.

The child gets the worker's effective settings (pickled over the same pipe), so it behaves like
the worker whatever way that was configured (settings module, environment, test overrides).
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import time

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import JobStatus
from .models import Job
from .services import HEARTBEAT_EVERY, finish, stopped, timed_out_message

log = logging.getLogger("solocrm.jobs")

POLL_SECONDS = 0.5
CANCEL_GRACE = 3.0  # seconds a cancelled job gets to stop at its next progress call
_NOT_COPIED = {"INSTALLED_APPS", "SETTINGS_MODULE"}


def settings_snapshot() -> dict:
    """Every setting that can be pickled (the child applies them before django.setup())."""
    snapshot = {}
    for name in dir(settings):
        if not name.isupper() or name in _NOT_COPIED:
            continue
        value = getattr(settings, name)
        try:
            pickle.dumps(value)
        except Exception:  # noqa: S112 - a lazy or live object: the child's own value stands
            continue
        snapshot[name] = value
    return snapshot


def start_child(job: Job) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.setdefault("DJANGO_SETTINGS_MODULE", "solocrm.settings")
    child = subprocess.Popen(
        [sys.executable, "-m", "solocrm.jobs.child", str(job.uuid)],
        stdin=subprocess.PIPE,
        env=env,
        start_new_session=True,  # a Ctrl+C in the worker's terminal is for the worker, not the job
    )
    assert child.stdin is not None
    child.stdin.write(pickle.dumps(settings_snapshot()))
    child.stdin.flush()  # the pipe stays open: its end tells the child that the worker died
    return child


def supervise(job: Job) -> Job:
    """Run ``job`` (claimed by this process) in a child process until it ends; record the end
    when the child could not (stopped, killed, crashed)."""
    try:
        child = start_child(job)
    except OSError as error:  # no process could be started (memory, process limit)
        log.exception("could not start the process of job %s", job.uuid)
        finish(job, JobStatus.FAILED, _("The job's process could not start: %(error)s") % {"error": error})
        return job
    Job.objects.filter(pk=job.pk).update(pid=child.pid)
    try:
        reason = _watch(job, child)
    finally:
        if child.poll() is None:
            _end(child)
        if child.stdin is not None:
            child.stdin.close()
    close_old_connections()
    job.refresh_from_db()
    if job.status == JobStatus.RUNNING:  # the child did not get to write how it ended
        if reason == "cancel":
            status, message = JobStatus.CANCELLED, _("Cancelled.")
        elif reason == "timeout":
            status, message = JobStatus.FAILED, timed_out_message(job)
        else:
            status = JobStatus.FAILED
            message = _("The job's process ended unexpectedly (exit code %(code)s).") % {
                "code": child.returncode
            }
        job.message = message
        stopped(job)  # tidy first: once the job reads as ended, what it owns does too
        finish(job, status, message)
    return job


def _watch(job: Job, child: subprocess.Popen) -> str:
    """Wait for the child; end it on cancel (after the grace) or time-out. Returns why it
    ended: "exit", "cancel" or "timeout"."""
    started = time.monotonic()
    limit_at = started + job.time_limit
    cancel_seen: float | None = None
    next_beat = 0.0
    while child.poll() is None:
        time.sleep(POLL_SECONDS)
        now = time.monotonic()
        if now >= next_beat:
            Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(heartbeat_at=timezone.now())
            next_beat = now + HEARTBEAT_EVERY
        if cancel_seen is None and Job.objects.filter(pk=job.pk, cancel_requested=True).exists():
            cancel_seen = now
        if cancel_seen is not None and now - cancel_seen >= CANCEL_GRACE and child.poll() is None:
            log.warning("job %s did not stop by itself: ending its process", job.uuid)
            _end(child)
            return "cancel"
        if now >= limit_at and child.poll() is None:
            log.warning("job %s is over its time limit: ending its process", job.uuid)
            _end(child)
            return "timeout"
    return "exit"


def _end(child: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if the process is still there two seconds later."""
    child.terminate()
    try:
        child.wait(2)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
