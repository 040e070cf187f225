"""The daily backup (job kind ``ops.backup``) and how long archives are kept.

The worker's clock (web/scheduler.py) calls ``backup_if_due`` once a minute: after
SOLOCRM_BACKUP_HOUR (local time, default 3) a backup is queued unless the backup folder already
holds one from today. After each backup, older archives are thinned out: the newest of each of
the last 7 days, 4 ISO weeks and 12 months that have one are kept (the
``SOLOCRM_BACKUP_KEEP`` setting, "7,4,12"); anything else named ``solocrm-backup-*.tar.gz`` in
the folder is deleted. Archives the owner put elsewhere or named otherwise are never touched."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from solocrm.jobs import services as job_services
from solocrm.jobs.models import Job
from solocrm.jobs.registry import job_kind

from .backup import create_backup

log = logging.getLogger(__name__)

KIND = "ops.backup"
NAME = re.compile(r"^solocrm-backup-(\d{8})-(\d{6})\.tar\.gz$")


@job_kind(KIND, exclusive=True, time_limit=4 * 3600)
def backup_job(job: Job, progress: job_services.Progress) -> dict[str, Any]:
    folder = Path(settings.SOLOCRM_BACKUP_DIR)
    report = create_backup(folder, progress=progress)
    removed = prune(folder, timezone.localdate())
    return {
        "path": str(report.path),
        "size": report.size,
        "removed": [p.name for p in removed],
        "message": _("Backup written: %(name)s (%(size).1f MB); %(removed)d older archive(s) removed.")
        % {"name": report.path.name, "size": report.size / 1e6, "removed": len(removed)},
    }


def archives(folder: Path) -> list[tuple[datetime, Path]]:
    """The folder's backup archives with the local time in their names, newest first."""
    found = []
    for path in folder.glob("solocrm-backup-*.tar.gz") if folder.is_dir() else []:
        match = NAME.match(path.name)
        if match:
            found.append((datetime.strptime("".join(match.groups()), "%Y%m%d%H%M%S"), path))
    return sorted(found, reverse=True)


def keep(
    dates: list[datetime], today: date, daily: int = 7, weekly: int = 4, monthly: int = 12
) -> set[datetime]:
    """Which archives to keep: the newest of each of the last ``daily`` days, ``weekly`` ISO
    weeks and ``monthly`` months that have one (as restic's --keep-daily/weekly/monthly); one
    dated after ``today`` (a clock set back) is kept too."""
    limits = {"day": daily, "week": weekly, "month": monthly}
    seen: dict[str, set] = {name: set() for name in limits}
    kept: set[datetime] = set()
    for moment in sorted(dates, reverse=True):
        day = moment.date()
        buckets = {"day": day, "week": day.isocalendar()[:2], "month": (day.year, day.month)}
        for name, bucket in buckets.items():
            if bucket not in seen[name] and len(seen[name]) < limits[name]:
                seen[name].add(bucket)
                kept.add(moment)
        if day > today:
            kept.add(moment)
    return kept


def retention() -> tuple[int, int, int]:
    daily, weekly, monthly = (int(part) for part in settings.SOLOCRM_BACKUP_KEEP.split(","))
    return daily, weekly, monthly


def prune(folder: Path, today: date) -> list[Path]:
    found = archives(folder)
    kept = keep([moment for moment, _path in found], today, *retention())
    removed = [path for moment, path in found if moment not in kept]
    for path in removed:
        path.unlink(missing_ok=True)
        log.info("backup retention: removed %s", path.name)
    return removed


def backup_if_due(now: datetime | None = None) -> bool:
    """Queue today's backup if its hour has come and none exists yet; True when queued."""
    hour = settings.SOLOCRM_BACKUP_HOUR
    if hour is None:
        return False
    local = timezone.localtime(now or timezone.now())
    if local.hour < hour:
        return False
    newest = archives(Path(settings.SOLOCRM_BACKUP_DIR))
    if newest and newest[0][0].date() >= local.date():
        return False
    try:
        job_services.enqueue(backup_job, title=_("Daily backup"))
    except job_services.JobBusy:
        return False
    return True
