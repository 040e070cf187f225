"""Run an uploaded ImportJob as a background job (solocrm.jobs): queued for the worker, or at
once when the task backend runs jobs inline (tests, SOLOCRM_JOBS_INLINE). Progress goes both to
the ImportJob (the import pages) and to the Job (the job page, cancel, time limit)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _

from solocrm.jobs.models import Job
from solocrm.jobs.registry import job_kind
from solocrm.jobs.services import JobCancelled, JobFailed, JobTimedOut, Progress, enqueue

from ..choices import ImportStatus
from ..models import ImportJob
from .report import ImportFileError
from .runner import run_import

logger = logging.getLogger(__name__)
PROGRESS_EVERY_SECONDS = 1.0
IMPORT_TIME_LIMIT = 3600  # an hour: a million rows take well under a minute


def _progress_writer(job: ImportJob, also: Callable[[str, int, int | None], None] | None = None):
    """A progress callback writing rows_done / rows_total at most once a second (one UPDATE);
    ``also`` (the Job's reporter) sees every call, so a cancel is noticed between batches."""
    last = 0.0

    def progress(done: int, total: int | None) -> None:
        nonlocal last
        if also is not None:
            also("rows", done, total)
        now = time.monotonic()
        if now - last < PROGRESS_EVERY_SECONDS and (total is None or done < total):
            return
        last = now
        job.rows_done, job.rows_total = done, total
        ImportJob.objects.filter(pk=job.pk).update(rows_done=done, rows_total=total)

    return progress


def run_job(job: ImportJob, progress: Progress | None = None) -> ImportJob:
    """Run ``job`` to the end. A file that cannot be read marks the job FAILED with the reason;
    an unexpected error does too (logged with its traceback), so a job never stays RUNNING.
    A cancel or time-out from the job system also marks it FAILED, then goes on up."""
    job.status, job.error = ImportStatus.RUNNING, ""
    job.save(update_fields=["status", "error", "updated_at"])
    try:
        report = run_import(
            job.kind,
            Path(job.stored_path),
            dry_run=job.dry_run,
            mapping=job.mapping or None,
            actor=job.created_by,
            progress=_progress_writer(job, progress),
            source_name=job.original_name,
            region=job.region or None,
            encoding=job.encoding or None,
            stage=job.stage,
        )
    except (JobCancelled, JobTimedOut) as stop:
        _fail(job, str(stop))
        raise
    except ImportFileError as error:
        job.status, job.error = ImportStatus.FAILED, str(error)
    except Exception:
        logger.exception("import job %s failed", job.uuid)
        job.status, job.error = ImportStatus.FAILED, _("The import stopped because of an internal error.")
    else:
        job.status, job.report = ImportStatus.DONE, report.to_dict()
        job.rows_done = job.rows_total = report.rows
    job.finished_at = timezone.now()
    job.save(
        update_fields=["status", "error", "report", "rows_done", "rows_total", "finished_at", "updated_at"]
    )
    return job


def _fail(job: ImportJob, reason: str) -> None:
    job.status, job.error, job.finished_at = ImportStatus.FAILED, reason, timezone.now()
    job.save(update_fields=["status", "error", "finished_at", "updated_at"])


def import_stopped(job: Job) -> None:
    """The job ended without the import finishing (cancelled, out of time, its process killed):
    the import pages must show it ended, with the job's message."""
    reason = job.message or _("The import was stopped.")
    ImportJob.objects.filter(
        uuid=job.params.get("import"), status__in=[ImportStatus.UPLOADED, ImportStatus.RUNNING]
    ).update(status=ImportStatus.FAILED, error=reason, finished_at=timezone.now(), updated_at=timezone.now())


@job_kind("contacts.import", limit=2, time_limit=IMPORT_TIME_LIMIT, on_stop=import_stopped)
def import_file(job: Job, progress: Progress) -> dict:
    """The job kind: run the ImportJob named in the parameters."""
    imported = run_job(ImportJob.objects.get(uuid=job.params["import"]), progress)
    if imported.status != ImportStatus.DONE:
        raise JobFailed(imported.error)
    return {"import": str(imported.uuid), "rows": imported.rows_done}


def start_job(job: ImportJob) -> None:
    """Queue ``job`` for the worker (or run it at once when jobs run inline). It reads as
    running from now on, so its pages show progress rather than the mapping form again."""
    job.status, job.error = ImportStatus.RUNNING, ""
    job.save(update_fields=["status", "error", "updated_at"])
    title = _("Import %(kind)s: %(file)s") % {"kind": job.get_kind_display(), "file": job.original_name}
    queued = enqueue(import_file, params={"import": str(job.uuid)}, title=title, user=job.created_by)
    ImportJob.objects.filter(pk=job.pk).update(job=queued)
    job.job = queued
