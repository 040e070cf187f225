"""The daily refresh the server schedules by itself: when it is due, that it runs once, and how
it is configured or switched off."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from solocrm.analytics import tasks
from solocrm.analytics.choices import ModelKind
from solocrm.analytics.models import FittedModel
from solocrm.web.demo import load_demo

pytestmark = pytest.mark.django_db


def _stored_at(moment: datetime) -> None:
    FittedModel.objects.create(kind=ModelKind.RFM, params={}, metrics={}, code_version="t", n_samples=1,
                               data_end=moment.date(), duration_ms=1)  # fmt: skip
    FittedModel.objects.update(created_at=moment)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 5, 2, 59, tzinfo=UTC), datetime(2026, 3, 4, 3, tzinfo=UTC)),
        (datetime(2026, 3, 5, 3, 0, tzinfo=UTC), datetime(2026, 3, 5, 3, tzinfo=UTC)),
        (datetime(2026, 3, 5, 23, 0, tzinfo=UTC), datetime(2026, 3, 5, 3, tzinfo=UTC)),
    ],
)
def test_the_latest_scheduled_moment_is_today_at_the_hour_once_it_has_passed(now, expected):
    assert tasks.due_since(now, 3) == expected


def test_the_hour_is_the_owners_local_hour(settings):
    settings.TIME_ZONE = "Asia/Shanghai"  # UTC+8: 20:00 UTC is 04:00 the next day there
    with timezone.override("Asia/Shanghai"):
        due = tasks.due_since(datetime(2026, 3, 5, 20, 0, tzinfo=UTC), 3)
        before = tasks.due_since(datetime(2026, 3, 5, 18, 0, tzinfo=UTC), 3)  # 02:00 there
    assert due.astimezone(UTC) == datetime(2026, 3, 5, 19, 0, tzinfo=UTC)
    assert before.astimezone(UTC) == datetime(2026, 3, 4, 19, 0, tzinfo=UTC)


def test_it_is_due_without_any_refresh_and_after_the_hour_passed():
    now = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    assert tasks.is_due(now, 3)
    _stored_at(now - timedelta(hours=7))  # 02:00, before today's 03:00
    assert tasks.is_due(now, 3)
    _stored_at(now - timedelta(hours=5))  # 04:00, after it
    assert not tasks.is_due(now, 3)


def test_run_if_due_refreshes_once(settings):
    settings.SOLOCRM_ANALYTICS_HOUR = "0"
    load_demo(contacts=60, seed=2, end=date.today())
    assert tasks.run_if_due() is True
    models = FittedModel.objects.count()
    assert models > 0
    assert tasks.run_if_due() is False
    assert FittedModel.objects.count() == models


def test_a_switched_off_schedule_never_refreshes(settings):
    settings.SOLOCRM_ANALYTICS_HOUR = "off"
    assert tasks.refresh_hour() is None
    assert tasks.run_if_due() is False
    assert not FittedModel.objects.exists()


@pytest.mark.parametrize("value", ["24", "-1", "3am", "nine"])
def test_a_wrong_hour_is_refused_with_what_to_write(settings, value):
    settings.SOLOCRM_ANALYTICS_HOUR = value
    with pytest.raises(ImproperlyConfigured, match="0 to 23 or 'off'"):
        tasks.refresh_hour()


def test_an_empty_shop_is_refreshed_once_a_day_not_at_every_wake_up(settings):
    settings.SOLOCRM_ANALYTICS_HOUR = "0"
    assert tasks.run_if_due() is True  # no orders: the refresh stores no model
    assert not FittedModel.objects.exists()
    assert tasks.run_if_due() is False
