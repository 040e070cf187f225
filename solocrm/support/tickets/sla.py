"""Business-time arithmetic for SLA targets: pure functions, no database.

A ``Schedule`` is the weekly opening hours (wall-clock intervals per weekday), the holidays
(whole local days off) and the time zone they are read in. Targets are counted in *business
minutes*: minutes inside an opening interval on a day that is not a holiday. Intervals are turned
into real instants day by day with the zone's rules, so a daylight-saving change moves the hours
with the wall clock: "09:00–17:00" is 09:00–17:00 local time on both sides of the change (and an
interval that spans the change is as long as the clock really ran: 01:00–04:00 on the night
the clocks go forward is two hours).

A schedule with no hours at all counts every minute (around the clock, no holidays), so a
policy emptied by mistake still gives deadlines rather than none.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A deadline further than this is a configuration error (a schedule open a minute a year):
# the search gives up rather than loop for ever.
MAX_DAYS = 3 * 366
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Schedule:
    """Opening hours per weekday (Monday = 0) as (start, end) wall-clock pairs, holidays, zone.

    An ``end`` of 00:00 means midnight at the end of the day."""

    hours: Mapping[int, tuple[tuple[time, time], ...]]
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    holidays: frozenset[date] = frozenset()

    @property
    def around_the_clock(self) -> bool:
        return not any(self.hours.values())

    def intervals(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The opening intervals of local ``day`` as UTC instants (none on a holiday)."""
        if day in self.holidays:
            return
        for start, end in self.hours.get(day.weekday(), ()):
            begin = _instant(day, start, self.zone)
            finish = _instant(day + timedelta(days=1), time(0), self.zone) if end == time(0) else None
            finish = finish or _instant(day, end, self.zone)
            if finish > begin:
                yield begin, finish


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time. PEP 495's fold=0 reads a time the clocks skip
    with the offset before the change (02:30 on a spring-forward night is the instant the
    clocks show 03:30) and a repeated time as its first pass."""
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def parse_hours(raw: Mapping[str, Iterable[Iterable[str]]]) -> dict[int, tuple[tuple[time, time], ...]]:
    """``{"0": [["09:00", "17:00"]], …}`` (the SlaPolicy JSON) as times; raises ValueError
    naming what is wrong (a bad time, an interval that ends before it starts, an overlap)."""
    hours: dict[int, tuple[tuple[time, time], ...]] = {}
    for key, pairs in raw.items():
        weekday = int(key)
        if not 0 <= weekday <= 6:
            raise ValueError(f"weekday {key} is not 0 (Monday) to 6 (Sunday)")
        parsed = sorted((time.fromisoformat(start), time.fromisoformat(end)) for start, end in pairs)
        previous_end: time | None = None
        for start, end in parsed:
            if end != time(0) and end <= start:
                raise ValueError(f"{start:%H:%M}–{end:%H:%M} ends before it starts")
            if previous_end is not None and (previous_end == time(0) or start < previous_end):
                raise ValueError(f"{start:%H:%M} overlaps the interval before it")
            previous_end = end
        if parsed:
            hours[weekday] = tuple(parsed)
    return hours


def schedule_from(raw_hours: Mapping, raw_holidays: Iterable[str], zone: str) -> Schedule:
    """A schedule from an SlaPolicy's JSON fields and the business's time zone name."""
    holidays = frozenset(date.fromisoformat(day) for day in raw_holidays)
    return Schedule(hours=parse_hours(raw_hours), zone=ZoneInfo(zone), holidays=holidays)


def add_business_minutes(start: datetime, minutes: float, schedule: Schedule) -> datetime:
    """The instant ``minutes`` business minutes after ``start`` (an aware datetime).

    Zero minutes is ``start`` itself; a start outside the hours counts from the next opening."""
    if minutes <= 0:
        return start
    if schedule.around_the_clock:
        return start + timedelta(minutes=minutes)
    remaining = timedelta(minutes=minutes)
    day = start.astimezone(schedule.zone).date() - timedelta(days=1)  # an interval past midnight
    for _ in range(MAX_DAYS):
        for begin, end in schedule.intervals(day):
            begin = max(begin, start)
            if begin >= end:
                continue
            if end - begin >= remaining:
                return begin + remaining
            remaining -= end - begin
        day += timedelta(days=1)
    raise ValueError("the schedule has no opening hours within three years")


def business_minutes_between(start: datetime, end: datetime, schedule: Schedule) -> float:
    """Business minutes from ``start`` to ``end`` (0 when ``end`` is not after ``start``)."""
    if end <= start:
        return 0.0
    if schedule.around_the_clock:
        return (end - start) / MINUTE
    total = timedelta(0)
    day = start.astimezone(schedule.zone).date() - timedelta(days=1)
    last = end.astimezone(schedule.zone).date()
    while day <= last:
        for begin, finish in schedule.intervals(day):
            overlap = min(finish, end) - max(begin, start)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total / MINUTE


def business_minutes_left(now: datetime, due: datetime, schedule: Schedule) -> float:
    """Business minutes until ``due``; negative when it has passed (how late, in business time)."""
    if due >= now:
        return business_minutes_between(now, due, schedule)
    return -business_minutes_between(due, now, schedule)


def describe_minutes(minutes: float) -> tuple[int, int, int]:
    """(days of 24 h, hours, minutes) of an absolute number of minutes, for display."""
    whole = int(abs(minutes))
    return whole // (24 * 60), whole % (24 * 60) // 60, whole % 60
