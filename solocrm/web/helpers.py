"""Small helpers the views of every app share: safe "next" URLs, demo data, htmx responses."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


def next_url(request: HttpRequest, default: str, *args) -> str:
    """The "next" field of a form or query, if it points into this site; else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(default, *args)


def redirect_next(request: HttpRequest, default: str, *args) -> HttpResponseRedirect:
    return HttpResponseRedirect(next_url(request, default, *args))


def wants_partial(request: HttpRequest) -> bool:
    """An htmx request that swaps part of the page (a history restore needs the full page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and not htmx.boosted


def vary_on_htmx(response: HttpResponse) -> HttpResponse:
    # The same URL answers a full page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def load_demo_data(request: HttpRequest) -> bool:
    """Queue the demo customers as a background job and say how it went; never lets a demo
    problem break a page. (When jobs run inline, the job is over before this returns.)"""
    try:
        # Imported here: the demo generator is optional and heavy.
        from solocrm.web.demo import load_demo  # noqa: F401 - only: is it installed?
    except ImportError:
        logger.exception("demo data module is not available")
        messages.warning(request, _("Demo data is not available in this installation."))
        return False
    from solocrm.jobs.choices import JobStatus
    from solocrm.jobs.services import JobBusy
    from solocrm.web.tasks import demo_exists_message, queue_demo

    try:
        job = queue_demo(request.user)
    except JobBusy:
        messages.info(request, _("The demo data is already being loaded."))
        return True
    if job.status == JobStatus.DONE:
        messages.success(request, _("Demo data loaded."))
    elif job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
        level = messages.warning if job.message == demo_exists_message() else messages.error
        level(request, job.message)
    else:
        messages.info(
            request,
            _("The demo data is being loaded; it takes about half a minute. Reload the page to see it."),
        )
    return job.status != JobStatus.FAILED
