"""Background tasks of the sales module: the daily digest, a job of solocrm.jobs queued by the
worker's clock (solocrm.web.scheduler) and run by `solocrm worker` (at once when jobs run
inline). ``send_daily_digest`` stays a plain django-tasks task for digests queued that way."""

from __future__ import annotations

import logging
from datetime import date

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from solocrm.jobs.models import Job
from solocrm.jobs.registry import job_kind
from solocrm.jobs.services import Progress, enqueue
from solocrm.sales.tasks import reminders

log = logging.getLogger(__name__)


def _send(user_id: int, day: str) -> bool:
    """Send the digest the scheduler claimed for ``user_id`` on ``day`` (local ISO date).

    The claim (Preferences.last_digest_on) was taken before this was queued, so a retry or
    a second worker never sends it twice; a digest still queued the next day is stale and
    dropped rather than sent late. Returns True when an e-mail went out."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    now = timezone.now()
    if timezone.localtime(now, reminders.local_zone()).date() != date.fromisoformat(day):
        log.warning("dropped the digest of %s for %s: it is another day now", user.get_username(), day)
        return False
    return reminders.send_digest(user, now)


@task()
def send_daily_digest(user_id: int, day: str) -> bool:
    return _send(user_id, day)


@job_kind("sales.send_daily_digest", limit=2, time_limit=300)
def daily_digest(job: Job, progress: Progress) -> dict:
    return {"sent": _send(job.params["user"], job.params["day"])}


def queue_digest(user_id: int, day: str) -> Job:
    user = get_user_model().objects.filter(pk=user_id).first()
    title = _("Daily digest for %(user)s") % {"user": user.get_username() if user else user_id}
    return enqueue(daily_digest, params={"user": user_id, "day": day}, title=title, user=user)
