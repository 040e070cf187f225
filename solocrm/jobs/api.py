"""The jobs API: list, read and cancel background jobs (registered in solocrm/api.py).

Errors, pagination and roles as in every other endpoint (solocrm.lib.api, solocrm.api)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from solocrm.lib import access
from solocrm.lib.api import Pagination, responses
from solocrm.lib.roles import Action

from . import services
from .models import Job

router = Router(tags=["jobs"])


class JobOut(Schema):
    uuid: uuid.UUID
    kind: str = Field(description="e.g. contacts.import, analytics.refresh, sales.send_daily_digest")
    title: str
    status: str = Field(description="queued, running, done, failed or cancelled")
    step: str
    done: int
    total: int | None
    progress: int = Field(description="Percent done, 0–100")
    message: str = Field(description="Why it failed or was cancelled; a note when done")
    result: dict[str, Any]
    cancel_requested: bool
    time_limit: int = Field(description="Seconds it may run before it is stopped")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def resolve_progress(obj: Job) -> int:
        return obj.percent


@router.get("/jobs", response=responses({200: list[JobOut]}))
@paginate(Pagination)
def list_jobs(request: HttpRequest):
    """Background jobs, newest first."""
    return Job.objects.order_by("-created_at", "-id")


@router.get("/jobs/{uuid}", response=responses({200: JobOut}))
def get_job(request: HttpRequest, uuid: str):
    """Status, progress and message of one job."""
    return access.get_for(request.user, Job, uuid)


@router.post("/jobs/{uuid}/cancel", response=responses({200: JobOut}))
def cancel_job(request: HttpRequest, uuid: str):
    """Stop a job: a queued one at once, a running one within seconds (poll it). 409 when it had
    already ended."""
    job = access.get_for(request.user, Job, uuid, Action.EDIT)
    if not services.cancel(job, request.user):
        raise HttpError(
            409, _("The job had already ended (%(status)s).") % {"status": job.get_status_display()}
        )
    return job
