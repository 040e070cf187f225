"""The jobs API: list, read and cancel background jobs (registered in solocrm/api.py).

The shared API toolkit (error schema, pagination) lives in solocrm.contacts.api, a layer above
this app, so the few pieces needed here are declared locally until the toolkit moves to lib."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from solocrm.users import access
from solocrm.users.choices import Action

from . import services
from .models import Job

router = Router(tags=["jobs"])


class ErrorOut(Schema):
    detail: str | list[dict[str, Any]] = Field(description="A message, or for 422 a list of {loc, msg, type}")


ERRORS: dict[int, type[Schema]] = {code: ErrorOut for code in (401, 403, 404, 409, 422)}
MAX_LIMIT, MAX_OFFSET = 500, 10**9  # as the other lists: inside every database's integer type


class Pagination(LimitOffsetPagination):
    """limit/offset pages, answered as {items, count}, bounded like every other list."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=MAX_LIMIT, description=f"Page size (at most {MAX_LIMIT})")
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)


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


@router.get("/jobs", response={200: list[JobOut], **ERRORS})
@paginate(Pagination)
def list_jobs(request: HttpRequest):
    """Background jobs, newest first."""
    return Job.objects.order_by("-created_at", "-id")


@router.get("/jobs/{uuid}", response={200: JobOut, **ERRORS})
def get_job(request: HttpRequest, uuid: str):
    """Status, progress and message of one job."""
    return access.get_for(request.user, Job, uuid)


@router.post("/jobs/{uuid}/cancel", response={200: JobOut, **ERRORS})
def cancel_job(request: HttpRequest, uuid: str):
    """Stop a job: a queued one at once, a running one within seconds (poll it). 409 when it had
    already ended."""
    job = access.get_for(request.user, Job, uuid, Action.EDIT)
    if not services.cancel(job, request.user):
        raise HttpError(
            409, _("The job had already ended (%(status)s).") % {"status": job.get_status_display()}
        )
    return job
