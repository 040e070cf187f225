"""The daily analytics refresh.

A solo owner should not need cron to get fresh scores each morning. The worker's clock (the
embedded worker of `solocrm serve`, or `solocrm worker`) calls ``run_if_due`` once a minute; it
queues a refresh job (the same path as the "Refresh now" button) once the owner's chosen hour
has passed and the scores were last computed before it. Several workers are harmless: the
refresh kind is exclusive, and the next minute sees that the scores are fresh. Scores the owner
asked for as of a past day are kept until an order newer than that day arrives (``keeps_as_of``).
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from . import asof, jobs, services
from .models import FittedModel

log = logging.getLogger(__name__)


def refresh_hour() -> int | None:
    """The local hour (0-23) of the daily refresh, or None when it is switched off."""
    value = str(settings.SOLOCRM_ANALYTICS_HOUR).strip().lower()
    if value in {"off", "no", "none", ""}:
        return None
    try:
        hour = int(value)
    except ValueError:
        hour = -1
    if not 0 <= hour <= 23:
        raise ImproperlyConfigured(
            f"SOLOCRM_ANALYTICS_HOUR must be an hour from 0 to 23 or 'off', not {value!r}."
        )
    return hour


def due_since(now: datetime, hour: int) -> datetime:
    """The latest scheduled moment at or before ``now``: today at ``hour`` (owner's time), or
    yesterday at ``hour`` when today's has not come yet."""
    local = timezone.localtime(now)
    scheduled = timezone.make_aware(datetime.combine(local.date(), time(hour)), local.tzinfo)
    return scheduled if scheduled <= local else scheduled - timedelta(days=1)


def is_due(now: datetime, hour: int) -> bool:
    """True when no refresh has stored a model or finished since the latest scheduled moment.
    (A refresh of a database without orders stores nothing; its end still counts, or an empty
    shop would be refreshed at every wake-up.)"""
    stored = FittedModel.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    finished = jobs.refresh_status().get("finished_at")
    moments = [m for m in (stored, finished) if isinstance(m, datetime)]
    return not moments or max(moments) < due_since(now, hour)


def keeps_as_of() -> bool:
    """True when the latest refresh was as of a past day and no order came after that day: the
    owner chose to score old history as it stood then (see ``asof``), and a refresh as of today
    would bring back what they chose to avoid. New orders end it: the daily refresh resumes."""
    day = jobs.refresh_status().get("as_of")
    if not day:
        return False
    try:
        as_of = asof.parse_as_of(day)
    except asof.AsOfError:  # a hand-edited job row: refresh as usual
        return False
    latest = asof.latest_order_day(timezone.localdate())
    return as_of is not None and (latest is None or latest <= as_of)


def run_if_due(now: datetime | None = None) -> bool:
    """Start the refresh in the background if it is due; True when one was started."""
    hour = refresh_hour()
    if hour is None or not is_due(now or timezone.now(), hour) or keeps_as_of():
        return False
    try:
        services.start_refresh()
    except jobs.RefreshBusy:
        return False
    return True
