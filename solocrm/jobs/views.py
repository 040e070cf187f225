"""The job page: recent background jobs with their progress, and a Cancel button."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from solocrm.lib.access import get_for, role_required
from solocrm.lib.roles import Action

from . import services
from .models import Job

RECENT = 50


def _partial(request: HttpRequest) -> bool:
    """An htmx poll of the table (a history restore or a boosted link needs the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and not htmx.boosted


@role_required(Action.VIEW)
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = list(services.recent(RECENT))
    context = {"jobs": jobs, "polling": any(job.is_active for job in jobs)}
    template = "jobs/_job_table.html" if _partial(request) else "jobs/job_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])  # one URL, a page or a fragment: caches keep both
    return response


@require_POST
@role_required(Action.EDIT)
def job_cancel(request: HttpRequest, public_id) -> HttpResponse:
    job = get_for(request.user, Job, public_id, Action.EDIT)
    if services.cancel(job, request.user):
        messages.success(request, _("Cancelling “%(job)s”.") % {"job": job.title or job.kind})
    else:
        messages.info(request, _("“%(job)s” had already ended.") % {"job": job.title or job.kind})
    if _partial(request):
        return job_list(request)
    return redirect(_next(request) or "jobs:list")


def _next(request: HttpRequest) -> str:
    """Where to go back to (the import's progress page cancels through here too): this site only."""
    target = request.POST.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return target if target and allowed else ""
