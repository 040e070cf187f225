"""What the home page shows: the task agenda and a few figures, each one SQL aggregate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from solocrm.contacts.choices import LifecycleStage
from solocrm.contacts.models import Contact, Interaction
from solocrm.sales.choices import REVENUE_STATUSES
from solocrm.sales.models import Order, Task


@dataclass
class Agenda:
    """Open tasks in the buckets a person plans with: overdue, today, later, whenever."""

    overdue: list[Task] = field(default_factory=list)
    today: list[Task] = field(default_factory=list)
    upcoming: list[Task] = field(default_factory=list)
    no_date: list[Task] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.overdue or self.today or self.upcoming or self.no_date)


def end_of_today(now: datetime | None = None) -> datetime:
    """Midnight at the end of the current day in the active (the owner's) time zone."""
    local = timezone.localtime(now or timezone.now())
    return local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def open_tasks() -> QuerySet[Task]:
    return Task.objects.open().select_related("contact").order_by("due_at", "-priority", "id")


def agenda(limit: int = 200, upcoming: bool = True) -> Agenda:
    """Open tasks by bucket; each bucket is one query of at most ``limit`` rows."""
    now, tomorrow = timezone.now(), end_of_today()
    tasks = open_tasks()
    result = Agenda(
        overdue=list(tasks.filter(due_at__lt=now)[:limit]),
        today=list(tasks.filter(due_at__gte=now, due_at__lt=tomorrow)[:limit]),
    )
    if upcoming:
        result.upcoming = list(tasks.filter(due_at__gte=tomorrow)[:limit])
        result.no_date = list(tasks.filter(due_at__isnull=True).order_by("-priority", "id")[:limit])
    return result


def recent_interactions(limit: int = 10) -> list[Interaction]:
    return list(
        Interaction.objects.select_related("contact", "company").order_by("-occurred_at", "-id")[:limit]
    )


def contacts_by_stage() -> list[dict]:
    """Every lifecycle stage in funnel order with its number of contacts (zeros included)."""
    rows = Contact.objects.order_by().values("lifecycle_stage").annotate(n=Count("id"))
    counts = {row["lifecycle_stage"]: row["n"] for row in rows}
    return [
        {"stage": stage, "label": label, "count": counts.get(stage, 0)}
        for stage, label in LifecycleStage.choices
    ]


def sales_last_days(days: int = 30) -> list[dict]:
    """Orders and revenue of the last ``days`` days per currency (amounts are never converted)."""
    since = timezone.now() - timedelta(days=days)
    return list(
        Order.objects.filter(ordered_at__gte=since, status__in=REVENUE_STATUSES)
        .order_by("currency")
        .values("currency")
        .annotate(orders=Count("id"), revenue=Sum("total"))
    )
