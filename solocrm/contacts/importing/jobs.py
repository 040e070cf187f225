"""Run an uploaded ImportJob: inline (tests, SOLOCRM_JOBS_INLINE) or in a daemon thread of the
server, writing progress to the job row so the page can poll it."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import ImportStatus
from ..models import ImportJob
from .report import ImportFileError
from .runner import run_import

logger = logging.getLogger(__name__)
PROGRESS_EVERY_SECONDS = 1.0


def _progress_writer(job: ImportJob):
    """A progress callback writing rows_done / rows_total at most once a second (one UPDATE)."""
    last = 0.0

    def progress(done: int, total: int | None) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < PROGRESS_EVERY_SECONDS and (total is None or done < total):
            return
        last = now
        job.rows_done, job.rows_total = done, total
        ImportJob.objects.filter(pk=job.pk).update(rows_done=done, rows_total=total)

    return progress


def run_job(job: ImportJob) -> ImportJob:
    """Run ``job`` to the end. A file that cannot be read marks the job FAILED with the reason;
    an unexpected error does too (logged with its traceback), so a job never stays RUNNING."""
    job.status, job.error = ImportStatus.RUNNING, ""
    job.save(update_fields=["status", "error", "updated_at"])
    try:
        report = run_import(
            job.kind,
            Path(job.stored_path),
            dry_run=job.dry_run,
            mapping=job.mapping or None,
            actor=job.created_by,
            progress=_progress_writer(job),
            source_name=job.original_name,
        )
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


def _run_in_thread(pk: int) -> None:
    try:
        run_job(ImportJob.objects.get(pk=pk))
    finally:
        connections.close_all()


def start_job(job: ImportJob) -> None:
    """Run inline when settings.SOLOCRM_JOBS_INLINE, else in a daemon thread."""
    if settings.SOLOCRM_JOBS_INLINE:
        run_job(job)
        return
    close_old_connections()
    threading.Thread(target=_run_in_thread, args=(job.pk,), daemon=True, name=f"import-{job.uuid}").start()
