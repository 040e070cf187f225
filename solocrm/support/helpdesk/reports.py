"""The support desk's figures: tickets opened and solved per week, first-response and resolution
times (median, 90th percentile) with the share within SLA, and CSAT by week.

Everything is aggregated in the database: counts by TruncWeek (in the business's time zone,
weeks start on Monday), percentiles by an ORDER BY … LIMIT 2 OFFSET k per figure (the same
linear interpolation as PostgreSQL's percentile_cont and numpy's default), so the cost does not
grow in Python with the number of tickets. Times are wall-clock minutes between the events
(business-minute targets are what the SLA due times already encode, so "within SLA" is exact
in business time: responded or solved by the due time the ticket's SLA policy set).

The page (views.reports), the API (api.py) and analytics' CSAT by segment read these."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from solocrm.lib.business import business_settings
from solocrm.support.tickets.models import Ticket

from .models import CsatAnswer

DEFAULT_WEEKS = 12
MAX_WEEKS = 104
PERCENTILES = (0.5, 0.9)
SATISFIED = 4  # CSAT counts answers of 4 or 5 as satisfied (docs/analytics.md)


@dataclass(frozen=True)
class Durations:
    """Minutes from a ticket's creation to an event (first response or solved)."""

    count: int = 0
    median_minutes: float | None = None
    p90_minutes: float | None = None
    with_target: int = 0  # tickets whose SLA set a due time for this event
    within_target: int = 0

    @property
    def within_sla(self) -> float | None:
        """Share (0–1) of the tickets with a target that met it; None without targets."""
        return self.within_target / self.with_target if self.with_target else None


@dataclass(frozen=True)
class Week:
    week: date  # the Monday
    opened: int = 0
    solved: int = 0
    first_response_within_sla: float | None = None
    resolution_within_sla: float | None = None
    csat_average: float | None = None
    csat_satisfied: float | None = None  # share of answers of 4 or 5
    csat_responses: int = 0


@dataclass(frozen=True)
class SupportReport:
    since: date  # the first Monday
    until: date  # the last day (Sunday of this week)
    opened: int
    solved: int
    first_response: Durations
    resolution: Durations
    csat_average: float | None
    csat_satisfied: float | None
    csat_responses: int
    weeks: list[Week] = field(default_factory=list)


def window(weeks: int = DEFAULT_WEEKS, *, now: datetime | None = None) -> tuple[datetime, datetime, date]:
    """(start, end) as aware datetimes and the first Monday: ``weeks`` whole weeks ending with
    the current one, in the business's time zone."""
    zone = business_settings().zone
    today = timezone.localtime(now or timezone.now(), zone).date()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    return start, start + timedelta(weeks=weeks), first


def tickets() -> QuerySet[Ticket]:
    """The tickets the figures count: a ticket merged into another counts once, as the other."""
    return Ticket.objects.filter(merged_into__isnull=True)


def _minutes(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds() / 60


def percentile(queryset: QuerySet, expression: ExpressionWrapper, p: float, count: int) -> float | None:
    """The ``p`` percentile (0–1) of ``expression`` (a duration) over ``count`` rows, in minutes,
    interpolated between the two nearest rows, fetched by ORDER BY … OFFSET in the database."""
    if count == 0:
        return None
    position = (count - 1) * p
    lower = math.floor(position)
    ordered = queryset.annotate(_d=expression).order_by("_d", "pk").values_list("_d", flat=True)
    values = [_minutes(v) for v in ordered[lower : lower + 2]]
    if len(values) == 1 or position == lower:
        return values[0]
    return values[0] + (values[1] - values[0]) * (position - lower)


def _since_created(event: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(event) - F("created_at"), output_field=DurationField())


def _durations(done: QuerySet, event: str, targets: dict[str, int]) -> Durations:
    count = done.count()
    return Durations(
        count=count,
        median_minutes=percentile(done, _since_created(event), PERCENTILES[0], count),
        p90_minutes=percentile(done, _since_created(event), PERCENTILES[1], count),
        **targets,
    )


def _first_response_counts(now: datetime) -> dict[str, Count]:
    """Tickets with a first-response target that is settled (answered, or past due) and those
    answered in time."""
    due = Q(first_response_due__isnull=False)
    settled = Q(first_responded_at__isnull=False) | Q(first_response_due__lt=now)
    return {
        "with_target": Count("pk", filter=due & settled),
        "within_target": Count("pk", filter=due & Q(first_responded_at__lte=F("first_response_due"))),
    }


def _resolution_counts() -> dict[str, Count]:
    due = Q(resolution_due__isnull=False)
    return {
        "with_target": Count("pk", filter=due),
        "within_target": Count("pk", filter=due & Q(solved_at__lte=F("resolution_due"))),
    }


def first_response(start: datetime, end: datetime, now: datetime) -> Durations:
    """Tickets opened in [start, end): time to the first response; within SLA = answered by the
    due time (an unanswered ticket past its due time has missed it)."""
    opened = tickets().filter(created_at__gte=start, created_at__lt=end)
    answered = opened.filter(first_responded_at__isnull=False)
    return _durations(answered, "first_responded_at", opened.aggregate(**_first_response_counts(now)))


def resolution(start: datetime, end: datetime) -> Durations:
    """Tickets solved in [start, end): time from opening to solved; within SLA = solved by the
    resolution due time (which the SLA moves on while the ticket waits on the customer)."""
    solved = tickets().filter(solved_at__gte=start, solved_at__lt=end)
    return _durations(solved, "solved_at", solved.aggregate(**_resolution_counts()))


def _share(part: int | None, whole: int | None) -> float | None:
    return part / whole if whole else None


def _by_week(queryset: QuerySet, column: str, **aggregates) -> dict[date, dict]:
    week = TruncWeek(column, tzinfo=business_settings().zone)
    rows = queryset.annotate(week=week).values("week").annotate(**aggregates).order_by("week")
    return {_as_date(row.pop("week")): row for row in rows}


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def weekly(start: datetime, end: datetime, first: date, weeks: int, now: datetime) -> list[Week]:
    """One row per week, empty weeks included (three grouped queries, whatever the volume)."""
    opened = _by_week(
        tickets().filter(created_at__gte=start, created_at__lt=end),
        "created_at",
        n=Count("pk"),
        **_first_response_counts(now),
    )
    solved = _by_week(
        tickets().filter(solved_at__gte=start, solved_at__lt=end),
        "solved_at",
        n=Count("pk"),
        **_resolution_counts(),
    )
    csat = _by_week(
        CsatAnswer.objects.filter(answered_at__gte=start, answered_at__lt=end),
        "answered_at",
        n=Count("pk"),
        average=Avg("score"),
        satisfied=Count("pk", filter=Q(score__gte=SATISFIED)),
    )
    rows = []
    for index in range(weeks):  # the weeks shown, never the tickets
        monday = first + timedelta(weeks=index)
        o, s, c = opened.get(monday, {}), solved.get(monday, {}), csat.get(monday, {})
        rows.append(
            Week(
                week=monday,
                opened=o.get("n", 0),
                solved=s.get("n", 0),
                first_response_within_sla=_share(o.get("within_target"), o.get("with_target")),
                resolution_within_sla=_share(s.get("within_target"), s.get("with_target")),
                csat_average=c.get("average"),
                csat_satisfied=_share(c.get("satisfied"), c.get("n")),
                csat_responses=c.get("n", 0),
            )
        )
    return rows


def support_report(weeks: int = DEFAULT_WEEKS, *, now: datetime | None = None) -> SupportReport:
    """The figures of the last ``weeks`` weeks (this one included)."""
    weeks = max(1, min(int(weeks), MAX_WEEKS))
    now = now or timezone.now()
    start, end, first = window(weeks, now=now)
    csat = CsatAnswer.objects.filter(answered_at__gte=start, answered_at__lt=end).aggregate(
        n=Count("pk"), average=Avg("score"), satisfied=Count("pk", filter=Q(score__gte=SATISFIED))
    )
    rows = weekly(start, end, first, weeks, now)
    return SupportReport(
        since=first,
        until=first + timedelta(weeks=weeks, days=-1),
        opened=sum(row.opened for row in rows),
        solved=sum(row.solved for row in rows),
        first_response=first_response(start, end, now),
        resolution=resolution(start, end),
        csat_average=csat["average"],
        csat_satisfied=_share(csat["satisfied"], csat["n"]),
        csat_responses=csat["n"],
        weeks=rows,
    )


def as_dict(report: SupportReport) -> dict[str, Any]:
    """The report as plain values (the API's answer and the CLI's JSON)."""
    data = asdict(report)
    for key in ("first_response", "resolution"):
        data[key]["within_sla"] = getattr(report, key).within_sla
    data["since"], data["until"] = report.since.isoformat(), report.until.isoformat()
    for week in data["weeks"]:
        week["week"] = week["week"].isoformat()
    return data
