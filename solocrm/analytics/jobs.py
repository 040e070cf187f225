"""Running the analytics refresh in the background: one at a time, with its progress visible.

The state lives in a small JSON file in the data directory rather than in a table, so that a
refresh started from the command line shows its progress on the web page too, and a refresh
that died with its process (the lock is released by the operating system) is reported as
interrupted instead of "running" forever.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

try:  # Unix; on Windows only one refresh per process is prevented (see _lock)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
_thread_lock = threading.Lock()


class RefreshBusy(Exception):
    """Another refresh is running."""


def _status_path() -> Path:
    return Path(settings.DATA_DIR) / "analytics-refresh.json"


def _write_status(state: dict[str, Any]) -> None:
    path = _status_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, default=str), encoding="utf-8")
    os.replace(temporary, path)  # atomic: a reader never sees half a file


def _read_status() -> dict[str, Any]:
    try:
        return json.loads(_status_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


@contextmanager
def _lock() -> Iterator[None]:
    """Hold the refresh lock or raise RefreshBusy. The file lock is dropped by the kernel when
    the process dies, so a crash never leaves the refresh locked."""
    if not _thread_lock.acquire(blocking=False):
        raise RefreshBusy(_("An analytics refresh is already running."))
    try:
        if fcntl is None:
            yield
            return
        path = Path(settings.DATA_DIR) / "analytics-refresh.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RefreshBusy(_("An analytics refresh is already running.")) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        _thread_lock.release()


def _is_locked() -> bool:
    try:
        with _lock():
            return False
    except RefreshBusy:
        return True


def refresh_status() -> dict[str, Any]:
    """{"state": "idle"|"running"|"done"|"failed", "step", "done", "total", "error", "started_at",
    "finished_at"}; a "running" state whose process is gone reads as failed (interrupted)."""
    state = {"state": "idle", "step": "", "done": 0, "total": 0, "error": None, "finished_at": None}
    state.update(_read_status())
    if state["state"] == "running" and not _is_locked():
        state.update(state="failed", error=_("The refresh was interrupted; start it again."))
    for key in ("started_at", "finished_at"):
        if isinstance(state.get(key), str):
            state[key] = parse_datetime(state[key])
    return state


Progress = Callable[[str, int, int], None]


def run_with_status(work: Callable[[Progress], Any]) -> Any:
    """Run ``work(progress)`` under the lock, keeping the status file up to date."""
    with _lock():
        started = timezone.now()
        state: dict[str, Any] = {"state": "running", "step": "", "done": 0, "total": 0, "started_at": started}
        _write_status(state)

        def progress(step: str, done: int, total: int) -> None:
            state.update(step=step, done=done, total=total)
            _write_status(state)

        try:
            result = work(progress)
        except Exception as error:
            state.update(
                state="failed", error=str(error) or error.__class__.__name__, finished_at=timezone.now()
            )
            _write_status(state)
            raise
        state.update(state="done", error=None, finished_at=timezone.now())
        _write_status(state)
        return result


def start_in_background(work: Callable[[Progress], Any]) -> None:
    """Start ``work`` in a daemon thread (inline when settings.SOLOCRM_JOBS_INLINE). Raises
    RefreshBusy at once when a refresh is running, so the page can say so."""
    if _is_locked() or refresh_status()["state"] == "running":
        raise RefreshBusy(_("An analytics refresh is already running."))
    if settings.SOLOCRM_JOBS_INLINE:
        run_with_status(work)
        return
    close_old_connections()

    def target() -> None:
        try:
            run_with_status(work)
        except RefreshBusy:
            pass
        except Exception:
            log.exception("analytics refresh failed")
        finally:
            connections.close_all()

    threading.Thread(target=target, daemon=True, name="analytics-refresh").start()
