"""The worker's heartbeat: a small file in the data directory that `solocrm worker` rewrites
once a minute, so any page can tell whether a worker is running (and so whether digests go out)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

LATE_AFTER = timedelta(minutes=10)


def _heartbeat_path() -> Path:
    return Path(settings.DATA_DIR) / "worker-heartbeat.json"


def beat(now: datetime) -> None:
    path = _heartbeat_path()
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"at": now.isoformat(), "pid": os.getpid()}), encoding="utf-8")
    os.replace(temporary, path)  # atomic: a reader never sees half a file


def last_tick() -> datetime | None:
    """When a worker last ran its scheduler (None: never, on this data directory)."""
    try:
        return parse_datetime(json.loads(_heartbeat_path().read_text(encoding="utf-8"))["at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def worker_is_late(now: datetime | None = None) -> bool:
    seen = last_tick()
    return seen is None or (now or timezone.now()) - seen > LATE_AFTER
