"""The daily backup: queued once a day after its hour, and old archives thinned out."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from solocrm.jobs.models import Job
from solocrm.ops import jobs
from solocrm.web.scheduler import tick


def test_retention_keeps_the_newest_of_each_of_the_last_days_weeks_and_months():
    today = date(2026, 12, 7)  # a Monday
    daily = [datetime(2026, 12, 7, 3) - timedelta(days=n) for n in range(400)]
    twice_today = datetime(2026, 12, 7, 15)
    kept = jobs.keep([*daily, twice_today], today, daily=7, weekly=4, monthly=12)
    days = sorted({moment.date() for moment in kept}, reverse=True)
    assert twice_today in kept and datetime(2026, 12, 7, 3) not in kept  # the newest of the day
    assert days[:7] == [today - timedelta(days=n) for n in range(7)]
    # weeks run Monday to Sunday: today's and last week's newest are among the days; then
    # the newest of the two weeks before, Sundays 11-29 and 11-22
    assert {date(2026, 11, 29), date(2026, 11, 22)} <= set(days)
    assert date(2026, 11, 15) not in days
    months = {(d.year, d.month) for d in days}
    assert len(months) == 12 and (2026, 1) in months and (2025, 12) not in months
    assert {date(2026, 11, 30), date(2026, 10, 31), date(2026, 1, 31)} <= set(days)  # each month's newest
    assert len(kept) == 7 + 2 + 11  # this month's newest is today's


def test_retention_keeps_everything_of_a_young_folder():
    moments = [datetime(2026, 12, 7, 3), datetime(2026, 12, 6, 3)]
    assert jobs.keep(moments, date(2026, 12, 7)) == set(moments)


@pytest.fixture
def backup_folder(settings, tmp_path):
    settings.SOLOCRM_BACKUP_DIR = tmp_path / "backups"
    settings.SOLOCRM_BACKUP_HOUR = 3
    settings.TIME_ZONE = "UTC"
    return settings.SOLOCRM_BACKUP_DIR


def test_the_clock_queues_one_backup_a_day_after_its_hour(db, backup_folder):
    night = datetime(2026, 12, 7, 2, 59, tzinfo=datetime.now().astimezone().tzinfo).astimezone()
    assert tick(night.replace(hour=2)).backup_started is False
    morning = datetime.fromisoformat("2026-12-07T03:01:00+00:00")
    assert tick(morning).backup_started is True
    job = Job.objects.get(kind=jobs.KIND)
    assert job.status == "done" and "Backup written" in job.message
    assert len(jobs.archives(backup_folder)) == 1
    assert tick(morning + timedelta(hours=1)).backup_started is False  # one a day


def test_old_archives_beyond_the_retention_are_removed_after_a_backup(db, backup_folder):
    backup_folder.mkdir(parents=True)
    for n in range(1, 40):
        stamp = datetime(2026, 12, 7) - timedelta(days=n)
        (backup_folder / f"solocrm-backup-{stamp:%Y%m%d}-030000.tar.gz").write_bytes(b"old")
    mine = backup_folder / "my-own-copy.tar.gz"
    mine.write_bytes(b"kept")
    removed = jobs.prune(backup_folder, date(2026, 12, 7))
    left = jobs.archives(backup_folder)
    assert len(left) + len(removed) == 39
    assert {moment.date() for moment, _ in left} >= {date(2026, 12, 6), date(2026, 12, 1)}
    assert mine.exists()
