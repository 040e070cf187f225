"""Background jobs of the web app: loading the demo data (about half a minute for 2,000
customers, so never inside the request that asked for it)."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from solocrm.jobs.models import Job
from solocrm.jobs.registry import job_kind
from solocrm.jobs.services import JobFailed, Progress, enqueue

log = logging.getLogger(__name__)


def demo_exists_message() -> str:
    return _("Demo data can only be loaded into an empty database.")


@job_kind("web.load_demo", limit=1, exclusive=True, time_limit=1800)
def load_demo_job(job: Job, progress: Progress) -> dict:
    """Write the demo customers (in one transaction: a stopped job leaves nothing half-written)."""
    from solocrm.web.demo import DemoDataExists, load_demo  # optional and heavy

    user = get_user_model().objects.filter(pk=job.params.get("user")).first()
    progress("demo", 0, 1)
    try:
        counts = load_demo(progress=None, user=user)
    except DemoDataExists:
        raise JobFailed(demo_exists_message()) from None
    except Exception:  # the message is for the owner; the traceback goes to the log
        log.exception("loading demo data failed")
        raise JobFailed(_("Loading the demo data failed; see the server log.")) from None
    return {"rows": counts} if isinstance(counts, dict) else {}


def queue_demo(user) -> Job:
    return enqueue(load_demo_job, params={"user": user.pk}, title=_("Demo data"), user=user)
