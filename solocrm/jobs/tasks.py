"""The one django-tasks task every job goes through.

``run_job`` carries a Job's public id. In `solocrm worker` (database backend) it claims the job
(respecting its kind's concurrency limit, else it queues itself again a few seconds later) and
runs it in a child process (runner.py). With the immediate backend (tests, SOLOCRM_JOBS_INLINE)
it runs the job at once in the caller's thread. The task fails when its job did not end "done",
so django-tasks' own result row tells the same story as the Job.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import TaskContext, task, task_backends
from django_tasks.backends.immediate import ImmediateBackend

from . import services
from .choices import JobStatus
from .models import Job

log = logging.getLogger("solocrm.jobs")
DEFER = timedelta(seconds=3)  # how soon a job whose kind was at its limit is tried again


@task(takes_context=True)
def run_job(context: TaskContext, job_id: str) -> str:
    job = Job.objects.filter(uuid=job_id).first()
    if job is None or job.status != JobStatus.QUEUED:
        return "skipped"  # cancelled while queued, or already run
    if services.known_kind(job) is None:
        services.fail_unknown(job)
        return "unknown kind"
    inline = isinstance(task_backends[context.task_result.backend], ImmediateBackend)
    outcome = services.claim(job, enforce_limit=not inline)
    if outcome == services.DEFERRED:
        services.dispatch(job, run_after=timezone.now() + DEFER)
        return "deferred"
    if outcome == services.GONE:
        return "skipped"
    job.refresh_from_db()
    log.info("job %s %s started", job.kind, job.uuid)
    if inline:
        services.execute(job)
    else:
        from .runner import supervise

        supervise(job)
    log.info("job %s %s ended: %s %s", job.kind, job.uuid, job.status, job.message)
    if job.status != JobStatus.DONE:
        raise services.JobFailed(job.message or job.status)
    return job.status
