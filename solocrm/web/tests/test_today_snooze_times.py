"""Snoozing a Today item hides it until 9:00 in the owner's time zone, like a snoozed task."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from solocrm.sales.tasks.reminders import snooze_until


@pytest.mark.parametrize(
    ("choice", "expected"), [("tomorrow", datetime(2026, 3, 11, 9)), ("week", datetime(2026, 3, 17, 9))]
)
def test_snoozed_items_come_back_at_nine_in_the_owners_time_zone(settings, choice, expected):
    settings.TIME_ZONE = "Asia/Shanghai"
    zone = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 3, 10, 23, 30, tzinfo=zone)
    with timezone.override(zone):
        assert timezone.localtime(snooze_until(choice, now)).replace(tzinfo=None) == expected
