"""Job kinds the job-system tests run (importable by a worker's child process by path)."""

from __future__ import annotations

import os
import time

from solocrm.jobs.choices import JobStatus
from solocrm.jobs.models import Job
from solocrm.jobs.registry import job_kind
from solocrm.jobs.services import JobFailed, Progress


@job_kind("test.spin", limit=4, time_limit=600)
def spin(job: Job, progress: Progress) -> None:
    """Never ends and never reports progress: like a library stuck in a loop."""
    while True:
        pass


@job_kind("test.cooperative", limit=2, time_limit=600)
def cooperative(job: Job, progress: Progress) -> None:
    """Reports progress all the time, so a cancel is seen at the next call."""
    count = 0
    while True:
        count += 1
        progress("loop", count, None)
        time.sleep(0.02)


@job_kind("test.one_at_a_time", limit=1)
def one_at_a_time(job: Job, progress: Progress) -> dict:
    """Records how many jobs of its kind were running when it started (itself included)."""
    running = Job.objects.filter(kind=job.kind, status=JobStatus.RUNNING).count()
    for step in range(4):
        progress("waiting", step, 4)
        time.sleep(0.25)
    return {"running": running}


@job_kind("test.record", limit=8)
def record(job: Job, progress: Progress) -> dict:
    """Appends its id to a file: a job run twice would show twice."""
    with open(job.params["log"], "a", encoding="utf-8") as log:
        log.write(f"{job.uuid} {os.getpid()}\n")
    return {"pid": os.getpid()}


@job_kind("test.adds", limit=2)
def adds(job: Job, progress: Progress) -> dict:
    progress("adding", 1, 1)
    return {"sum": job.params["a"] + job.params["b"], "message": "added"}


@job_kind("test.refuses")
def refuses(job: Job, progress: Progress) -> None:
    raise JobFailed("The numbers do not add up.")


@job_kind("test.breaks")
def breaks(job: Job, progress: Progress) -> None:
    raise ValueError("boom")


@job_kind("test.exclusive", exclusive=True)
def exclusive(job: Job, progress: Progress) -> None:
    return None


@job_kind("test.rerunnable", rerun_after_crash=True)
def rerunnable(job: Job, progress: Progress) -> None:
    return None
