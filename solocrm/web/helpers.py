"""Loading the demo data from a page."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


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
