"""Background tasks of the sales module, run by `solocrm worker` through the Django task API
(django-tasks with the database backend; at once when SOLOCRM_JOBS_INLINE is on)."""

from __future__ import annotations

import logging
from datetime import date

from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tasks import task

from solocrm.sales.tasks import reminders

log = logging.getLogger(__name__)


@task()
def send_daily_digest(user_id: int, day: str) -> bool:
    """Send the digest the scheduler claimed for ``user_id`` on ``day`` (local ISO date).

    The claim (Preferences.last_digest_on) was taken before this task was queued, so a retry or
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
