"""Business-minutes arithmetic: weekly hours, weekends, holidays, time zones and DST."""

from datetime import UTC, datetime, time

import pytest

from solocrm.support.tickets import sla

NINE_TO_FIVE = {str(day): [["09:00", "17:00"]] for day in range(5)}


def berlin(*args) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.fixture
def office():
    return sla.schedule_from(NINE_TO_FIVE, [], "Europe/Berlin")


def test_minutes_inside_one_day_are_added_as_they_are(office):
    assert sla.add_business_minutes(berlin(2026, 12, 7, 10, 0), 60, office) == berlin(2026, 12, 7, 11, 0)


def test_a_start_before_opening_counts_from_the_opening(office):
    assert sla.add_business_minutes(berlin(2026, 12, 7, 6, 0), 30, office) == berlin(2026, 12, 7, 9, 30)


def test_what_does_not_fit_today_continues_tomorrow_morning(office):
    # Monday 16:00 + 2 h: one hour on Monday, one on Tuesday.
    assert sla.add_business_minutes(berlin(2026, 12, 7, 16, 0), 120, office) == berlin(2026, 12, 8, 10, 0)


def test_the_weekend_is_skipped(office):
    # Friday 16:30 + 1 h: 30 minutes on Friday, 30 on Monday.
    assert sla.add_business_minutes(berlin(2026, 12, 11, 16, 30), 60, office) == berlin(2026, 12, 14, 9, 30)


def test_a_ticket_on_saturday_starts_its_clock_on_monday(office):
    assert sla.add_business_minutes(berlin(2026, 12, 12, 11, 0), 15, office) == berlin(2026, 12, 14, 9, 15)


def test_holidays_are_skipped():
    schedule = sla.schedule_from(NINE_TO_FIVE, ["2026-12-24", "2026-12-25"], "Europe/Berlin")
    # Wednesday 23 December 16:00 + 2 h: 1 h that day, then the 24th and 25th are off,
    # the 26th–27th a weekend: the second hour is on Monday 28th.
    due = sla.add_business_minutes(berlin(2026, 12, 23, 16, 0), 120, schedule)
    assert due == berlin(2026, 12, 28, 10, 0)


def test_the_office_hours_follow_the_wall_clock_across_spring_forward(office):
    # Friday 27 March 2026 16:00 CET + 2 h → Monday 30 March 10:00 CEST (UTC+2).
    due = sla.add_business_minutes(berlin(2026, 3, 27, 16, 0), 120, office)
    assert due == berlin(2026, 3, 30, 10, 0)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_the_office_hours_follow_the_wall_clock_across_fall_back(office):
    due = sla.add_business_minutes(berlin(2026, 10, 23, 16, 0), 120, office)
    assert due.astimezone(UTC) == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)  # 10:00 CET


def test_an_interval_across_the_change_is_as_long_as_the_clock_ran():
    night = sla.schedule_from({"6": [["01:00", "04:00"]]}, [], "Europe/Berlin")
    # Sunday 29 March 2026: the clocks jump from 02:00 to 03:00, so the night is 2 hours.
    start = berlin(2026, 3, 29, 0, 0)
    end = berlin(2026, 3, 29, 5, 0)
    assert sla.business_minutes_between(start, end, night) == 120
    # Sunday 25 October 2026: 02:00–03:00 happens twice, so the night is 4 hours.
    assert sla.business_minutes_between(berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 25, 6, 0), night) == 240


def test_minutes_between_skip_nights_and_weekends(office):
    # Friday 16:00 → Monday 10:00: 60 + 60 minutes.
    assert (
        sla.business_minutes_between(berlin(2026, 12, 11, 16, 0), berlin(2026, 12, 14, 10, 0), office) == 120
    )


def test_minutes_left_are_negative_once_late(office):
    now = berlin(2026, 12, 14, 10, 0)
    assert sla.business_minutes_left(now, berlin(2026, 12, 14, 11, 30), office) == 90
    assert sla.business_minutes_left(now, berlin(2026, 12, 11, 16, 0), office) == -120


def test_the_zone_decides_what_a_day_is():
    tokyo = sla.schedule_from(NINE_TO_FIVE, [], "Asia/Tokyo")
    # Sunday 23:30 UTC is Monday 08:30 in Tokyo: the clock starts at 09:00 Tokyo (00:00 UTC).
    due = sla.add_business_minutes(datetime(2026, 12, 6, 23, 30, tzinfo=UTC), 60, tokyo)
    assert due == datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def test_an_empty_schedule_counts_every_minute():
    always = sla.schedule_from({}, [], "UTC")
    start = datetime(2026, 12, 12, 23, 0, tzinfo=UTC)
    assert sla.add_business_minutes(start, 120, always) == datetime(2026, 12, 13, 1, 0, tzinfo=UTC)


def test_split_hours_and_midnight_ends():
    hours = sla.parse_hours({"0": [["13:00", "17:00"], ["08:00", "12:00"]], "1": [["20:00", "00:00"]]})
    assert hours[0] == ((time(8), time(12)), (time(13), time(17)))
    schedule = sla.Schedule(hours=hours)
    monday_noon = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
    assert sla.add_business_minutes(monday_noon, 120, schedule) == datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
    tuesday = datetime(2026, 12, 8, 23, 0, tzinfo=UTC)
    assert sla.business_minutes_between(tuesday, datetime(2026, 12, 9, 8, 0, tzinfo=UTC), schedule) == 60


@pytest.mark.parametrize(
    "raw",
    [
        {"7": [["09:00", "10:00"]]},
        {"0": [["10:00", "09:00"]]},
        {"0": [["09:00", "12:00"], ["11:00", "13:00"]]},
    ],
)
def test_bad_hours_are_refused(raw):
    with pytest.raises(ValueError):
        sla.parse_hours(raw)
