"""Scores as of a day, and the warning about old data.

A refresh computes everything as if its "as of" day were today: orders, answers and contacts
after it are invisible (every query of ``queries`` takes that day as its end). Imported history
that ended long ago, analysed today, makes every customer look silent for years; the refresh
then says so and suggests refreshing as of the last order's day instead.

Light on purpose (Django and the ORM only, no pandas): the page and the API check an as-of day
and the age of the data before they queue a refresh.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from solocrm.lib.business import business_settings
from solocrm.sales.choices import REVENUE_STATUSES
from solocrm.sales.models import Order

__all__ = ["AsOfError", "latest_order_day", "parse_as_of", "stale_data", "stale_message"]


class AsOfError(ValueError):
    """An as-of day that is not a date, or lies in the future (the message says which)."""


def parse_as_of(value: str | date | None, *, today: date | None = None) -> date | None:
    """The as-of day of a form, a command line or a job's params: None for blank, else a day no
    later than ``today`` (the owner's today by default). Raises AsOfError."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        day: date | None = value
    else:
        try:
            day = parse_date(str(value).strip())
        except ValueError:  # well formed but impossible, like 2025-02-30
            day = None
    if day is None:
        raise AsOfError(_("“%(t)s” is not a date; write it as YYYY-MM-DD.") % {"t": value})
    limit = today or timezone.localdate()
    if day > limit:
        raise AsOfError(
            _("The as-of day %(day)s is in the future; choose a day up to %(today)s.")
            % {"day": day.isoformat(), "today": limit.isoformat()}
        )
    return day


def latest_order_day(end: date) -> date | None:
    """The owner's local day of the newest order that counts as revenue (a paid status, in
    ``SOLOCRM_CURRENCY``, as the models count them), up to ``end``: the ``order_newest`` index
    read backwards from ``end`` until the first such order."""
    cutoff = timezone.make_aware(datetime.combine(end + timedelta(days=1), time()))
    newest = (
        Order.objects.filter(
            status__in=REVENUE_STATUSES, currency=business_settings().currency, ordered_at__lt=cutoff
        )
        .order_by("-ordered_at", "-id")
        .values_list("ordered_at", flat=True)
        .first()
    )
    return timezone.localtime(newest).date() if newest is not None else None


def stale_data(as_of: date, *, threshold: int | None = None) -> dict[str, Any] | None:
    """``{"latest_order", "as_of", "days", "threshold"}`` (days as ISO text) when the newest order
    up to ``as_of`` is more than ``threshold`` days older than it (``SOLOCRM_ANALYTICS_STALE_DAYS``
    by default); None when the data are recent enough or there are no orders at all."""
    limit = settings.SOLOCRM_ANALYTICS_STALE_DAYS if threshold is None else threshold
    latest = latest_order_day(as_of)
    if latest is None or (as_of - latest).days <= limit:
        return None
    return {
        "latest_order": latest.isoformat(),
        "as_of": as_of.isoformat(),
        "days": (as_of - latest).days,
        "threshold": limit,
    }


def stale_message(stale: dict[str, Any] | None) -> str:
    """The warning in words, with the command that scores the data as of their last day."""
    if not stale:
        return ""
    return _(
        "The latest order is from %(latest)s, %(days)d days before %(as_of)s (more than "
        "%(threshold)d): every customer looks silent since then, so most land in Lost and the churn "
        "model has nothing recent to learn from. To score them as they stood when the data end, "
        "refresh as of that day: solocrm analytics refresh --as-of %(latest)s"
    ) % {
        "latest": stale.get("latest_order", ""),
        "days": int(stale.get("days") or 0),
        "as_of": stale.get("as_of", ""),
        "threshold": int(stale.get("threshold") or 0),
    }
