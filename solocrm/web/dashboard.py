"""The Today page's key figures, each one SQL aggregate, with the closed days cached."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db import close_old_connections
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from solocrm.lib.business import business_settings
from solocrm.sales.choices import REVENUE_STATUSES
from solocrm.sales.models import Order
from solocrm.sales.orders.stamps import orders_version

logger = logging.getLogger(__name__)


# --- the Today page's key figures ---------------------------------------------------------------

# Figures for whole days that have passed are computed once and cached for an hour (the keys
# change at midnight); only today's orders are added up on every request, so the page costs the
# same on the 30th of the month as on the 1st. Every key holds the orders' change stamp
# (solocrm.sales.orders.stamps), which each writer of orders bumps in its transaction — an
# import, the demo, the API, a won deal or an accepted quote, in this process or another: the
# first view after a change recomputes, and a figure is never stale.
CLOSED_DAYS_CACHE_SECONDS = 3600


@dataclass
class Kpis:
    currency: str
    revenue_this_month: Decimal
    revenue_last_month: Decimal
    revenue_last_year: Decimal  # the same month a year ago
    # The same part of last month and of the month a year ago (from the 1st to this day and
    # hour): what the changes compare with, so that the 10th is not measured against a whole month.
    last_month_same_days: Decimal
    last_year_same_days: Decimal
    weighted_pipeline: Decimal
    open_deals: int
    win_rate: float | None  # won / (won + lost) over the last 90 days; None without closed deals
    new_customers: int  # contacts with a paid order this month and no order before it

    @property
    def change_vs_last_month(self) -> float | None:
        return _change(self.revenue_this_month, self.last_month_same_days)

    @property
    def change_vs_last_year(self) -> float | None:
        return _change(self.revenue_this_month, self.last_year_same_days)


def _change(now: Decimal, before: Decimal) -> float | None:
    return None if not before else float((now - before) / before)


def month_start(day: date, months_back: int = 0) -> datetime:
    """Midnight (owner's time zone) of the first day of the month ``months_back`` before ``day``."""
    index = day.year * 12 + day.month - 1 - months_back
    first = date(index // 12, index % 12 + 1, 1)
    return timezone.make_aware(datetime.combine(first, time()))


def revenue_between(start: datetime, end: datetime, currency: str) -> Decimal:
    total = Order.objects.filter(
        ordered_at__gte=start, ordered_at__lt=end, status__in=REVENUE_STATUSES, currency=currency
    ).aggregate(total=Sum("total"))["total"]
    return total or Decimal("0.00")


def new_customers_between(start: datetime, end: datetime) -> int:
    """Contacts with a paid order in [start, end) and no order at all before ``start`` (any
    status: so the check is answered by the (contact, ordered_at) index alone)."""
    earlier = Order.objects.filter(contact=OuterRef("contact"), ordered_at__lt=start)
    return (
        Order.objects.filter(ordered_at__gte=start, ordered_at__lt=end, status__in=REVENUE_STATUSES)
        .filter(contact__isnull=False)
        .filter(~Exists(earlier))
        .values("contact")
        .distinct()
        .count()
    )


def _cached(key: str, compute, refresh: bool = False):
    value = None if refresh else cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, CLOSED_DAYS_CACHE_SECONDS)
    return value


def _month_so_far(
    month: datetime, midnight: datetime, now: datetime, currency: str, stamp: str, refresh: bool = False
) -> tuple[Decimal, int]:
    """Revenue and new customers from the start of the month until ``now``: the days before
    today from the cache, today's orders counted afresh (they are new unless bought before today)."""
    key = f"kpi:{stamp}:{currency}:{month.date()}:{midnight.isoformat()}"
    revenue, customers = _cached(
        key,
        lambda: (revenue_between(month, midnight, currency), new_customers_between(month, midnight)),
        refresh,
    )
    return (
        revenue + revenue_between(midnight, now, currency),
        customers + new_customers_between(midnight, now),
    )


def kpis(now: datetime | None = None, *, refresh: bool = False) -> Kpis:
    """Revenue this month against last month and a year ago, in the main currency (orders in
    other currencies are not converted), the weighted pipeline, the win rate, new customers."""
    from solocrm.sales.deals.services import weighted_amount
    from solocrm.sales.models import Deal

    now = now or timezone.now()
    today, currency = timezone.localdate(now), business_settings().currency
    this, last = month_start(today), month_start(today, 1)
    year_ago, year_ago_end = month_start(today, 12), month_start(today, 11)
    midnight = max(this, timezone.make_aware(datetime.combine(today, time())))
    stamp = f"v{orders_version()}"
    revenue, new_customers = _month_so_far(this, midnight, now, currency, stamp, refresh)
    pipeline = Deal.objects.open().aggregate(
        weighted=Sum(weighted_amount(), filter=Q(currency=currency)), count=Count("id")
    )
    closed = Deal.objects.filter(closed_at__gte=now - timedelta(days=90)).aggregate(
        won=Count("id", filter=Q(stage__kind="won")), lost=Count("id", filter=Q(stage__kind="lost"))
    )
    decided = closed["won"] + closed["lost"]
    # The same stretch of the month (to the hour) a month and a year ago: on the 1st at 8:00,
    # eight hours against eight hours, not against a whole day.
    hours = int((now - this).total_seconds() // 3600)
    so_far = timedelta(hours=hours)
    return Kpis(
        last_month_same_days=_cached(
            f"kpi:{stamp}:{currency}:{last.date()}:{hours}h",
            lambda: revenue_between(last, min(last + so_far, this), currency),
            refresh,
        ),
        last_year_same_days=_cached(
            f"kpi:{stamp}:{currency}:{year_ago.date()}:{hours}h",
            lambda: revenue_between(year_ago, min(year_ago + so_far, year_ago_end), currency),
            refresh,
        ),
        currency=currency,
        revenue_this_month=revenue,
        revenue_last_month=_cached(
            f"kpi:{stamp}:{currency}:{last.date()}", lambda: revenue_between(last, this, currency), refresh
        ),
        revenue_last_year=_cached(
            f"kpi:{stamp}:{currency}:{year_ago.date()}",
            lambda: revenue_between(year_ago, year_ago_end, currency),
            refresh,
        ),
        weighted_pipeline=Decimal(pipeline["weighted"] or 0).quantize(Decimal("0.01")),
        open_deals=pipeline["count"],
        win_rate=closed["won"] / decided if decided else None,
        new_customers=new_customers,
    )


WARM_SECONDS = 1800  # well inside CLOSED_DAYS_CACHE_SECONDS: the cache never runs cold


def start_figures_warmer(stop: threading.Event | None = None) -> threading.Thread:
    """A daemon thread of the server process that recomputes the cached key figures every half
    hour, so that no visitor of the Today page waits for a month of orders to be added up (the
    cache is per process, which is why the server and not the worker does this)."""
    stop = stop or threading.Event()

    def loop() -> None:
        while True:
            try:
                close_old_connections()
                kpis(refresh=True)
            except Exception:  # a failed round must not end the loop; the next one retries
                logger.exception("warming the Today figures failed")
            if stop.wait(WARM_SECONDS):
                return

    thread = threading.Thread(target=loop, daemon=True, name="today-figures")
    thread.start()
    return thread
