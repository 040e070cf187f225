"""The analytics refresh as a background job (solocrm.jobs): one at a time, its progress on the
analytics page, the job page and `solocrm analytics status`.

A refresh is safe to run twice (it recomputes everything from the orders), so one that a crash
left running is queued again when a worker starts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from solocrm.jobs import services as job_services
from solocrm.jobs.choices import JobStatus
from solocrm.jobs.models import Job
from solocrm.jobs.registry import job_kind

from . import asof

KIND = "analytics.refresh"
TIME_LIMIT = 2 * 3600  # the budget for a million customers is two minutes: this is a runaway

Progress = Callable[[str, int, int], None]


class RefreshBusy(Exception):
    """Another refresh is queued or running."""


class RefreshFailed(Exception):
    """The refresh ended without its results (the message says why)."""


@job_kind(KIND, limit=1, exclusive=True, rerun_after_crash=True, time_limit=TIME_LIMIT)
def refresh_job(job: Job, progress: job_services.Progress) -> dict[str, Any]:
    from . import services  # the refresh pulls in pandas and scikit-learn: only the job needs them

    as_of = asof.parse_as_of((job.params or {}).get("as_of"))
    result = services.refresh(today=as_of, progress=lambda step, done, total: progress(step, done, total))
    return {**result, "as_of": as_of.isoformat() if as_of else None}


def _title(as_of: date | None = None) -> str:
    if as_of:
        return _("Analytics refresh as of %(day)s") % {"day": as_of.isoformat()}
    return _("Analytics refresh")


def _params(as_of: date | None) -> dict[str, Any]:
    return {"as_of": as_of.isoformat()} if as_of else {}


def start_in_background(user=None, as_of: date | None = None) -> Job:
    """Queue a refresh for the worker (run at once when jobs run inline), as of ``as_of`` when
    given (see ``asof``). Raises RefreshBusy when one is queued or running, so the page can say so."""
    try:
        return job_services.enqueue(refresh_job, params=_params(as_of), title=_title(as_of), user=user)
    except job_services.JobBusy:
        raise RefreshBusy(_("An analytics refresh is already running.")) from None


def run_here(progress: Progress | None = None, as_of: date | None = None) -> dict[str, Any]:
    """Refresh in this process (the command line), recorded as a job so the web shows it.
    Returns the refresh's summary; raises RefreshBusy or RefreshFailed."""
    try:
        job = job_services.run_here(refresh_job, params=_params(as_of), title=_title(as_of), also=progress)
    except job_services.JobBusy:
        raise RefreshBusy(_("An analytics refresh is already running.")) from None
    if job.status != JobStatus.DONE:
        raise RefreshFailed(job.message or job.status)
    return job.result


def refresh_status() -> dict[str, Any]:
    """{"state": "idle"|"running"|"done"|"failed", "step", "done", "total", "error", "started_at",
    "finished_at", "job", "as_of", "stale", "warning"}; a running refresh whose worker is gone
    reads as failed (interrupted). ``as_of`` is the day the refresh scores as of when one was
    asked for; ``stale`` and ``warning`` are the old-data warning of the last finished refresh
    (see ``asof.stale_data``), None and "" when its data were recent."""
    state: dict[str, Any] = {"state": "idle", "step": "", "done": 0, "total": 0, "error": None,
                             "started_at": None, "finished_at": None, "job": None, "as_of": None,
                             "stale": None, "warning": ""}  # fmt: skip
    job = job_services.latest(KIND)
    if job is None:
        return state
    result = job.result if isinstance(job.result, dict) else {}
    stale = result.get("stale") if isinstance(result.get("stale"), dict) else None
    state.update(step=job.step, done=job.done, total=job.total or 0, started_at=job.started_at,
                 finished_at=job.finished_at, job=job.uuid, as_of=(job.params or {}).get("as_of"),
                 stale=stale, warning=asof.stale_message(stale))  # fmt: skip
    if job.status == JobStatus.QUEUED:
        state.update(state="running", step=_("waiting for a worker"))
    elif job.status == JobStatus.RUNNING:
        state["state"] = "running"
        if job_services.is_abandoned(job):
            state.update(state="failed", error=_("The refresh was interrupted; start it again."))
    elif job.status == JobStatus.DONE:
        state["state"] = "done"
    else:
        state.update(state="failed", error=job.message or job.get_status_display())
    return state
