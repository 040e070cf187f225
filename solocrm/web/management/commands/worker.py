"""`solocrm worker`: run the background jobs (django-tasks-db's worker loop) and, once a minute,
the scheduler tick that queues the periodic ones (daily digests, the analytics refresh)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from types import FrameType

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from django.utils.translation import gettext as _
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker

from solocrm.web import scheduler

log = logging.getLogger("solocrm.worker")
TICK_SECONDS = 60
BATCH = 100  # tasks per drain before the clock is looked at again
REFRESH_THREAD = "analytics-refresh"  # the name solocrm.analytics.jobs gives its thread


class Runner:
    """The loop: tick when a minute has passed, drain the queue, sleep ``interval`` seconds.

    The queue is drained by django-tasks-db's own Worker in batch mode (it claims each task
    with SELECT … FOR UPDATE SKIP LOCKED, so several workers share a queue safely). A first
    SIGTERM/SIGINT lets the running task finish and then stops; a second one stops at once."""

    def __init__(self, *, interval: float, once: bool, worker_id: str, backend: str | None) -> None:
        self.interval, self.once, self.worker_id, self.backend = interval, once, worker_id, backend
        self.stopping = threading.Event()
        self.worker: Worker | None = None

    def stop(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping.is_set():
            log.warning("second %s: stopping now", signal.strsignal(signum))
            raise KeyboardInterrupt
        log.warning("%s: stopping after the running task (again to force)", signal.strsignal(signum))
        self.stopping.set()
        if self.worker is not None:
            self.worker.running = False

    def run(self) -> None:
        next_tick = 0.0
        while not self.stopping.is_set():
            if time.monotonic() >= next_tick:
                self.tick()
                next_tick = time.monotonic() + TICK_SECONDS
            self.drain()
            if self.once:
                break
            self.stopping.wait(self.interval)
        if self.once:
            wait_for_refresh()
        log.info("worker %s stopped", self.worker_id)

    def tick(self) -> None:
        close_old_connections()
        try:
            scheduler.tick()
        except Exception:  # a broken tick must not end the worker; the next minute retries
            log.exception("scheduler tick failed")

    def drain(self) -> None:
        """Run the queued tasks that are ready (at most BATCH, then the clock gets a look)."""
        if self.backend is None:
            return  # tasks run inline at enqueue (SOLOCRM_JOBS_INLINE): nothing is queued
        self.worker = Worker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name=self.backend,
            startup_delay=False,
            max_tasks=None if self.once else BATCH,
            worker_id=self.worker_id,
            excluded_queue_names=[],
        )
        try:
            self.worker.run()
        finally:
            self.worker = None


def wait_for_refresh() -> None:
    """With --once, let an analytics refresh the tick started finish before the process ends
    (it runs in a daemon thread that would otherwise die with the process)."""
    for thread in threading.enumerate():
        if thread.name == REFRESH_THREAD:
            log.info("waiting for the analytics refresh to finish")
            thread.join()


def database_backend() -> str | None:
    """The alias of the task backend to drain, or None when tasks run inline."""
    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    return DEFAULT_TASK_BACKEND_ALIAS if isinstance(backend, DatabaseBackend) else None


class Command(BaseCommand):
    help = _(
        "Run background jobs (e-mails, digests) and the daily schedule. Keep it running next to "
        "`solocrm serve`, or run `--once` from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help=_("Run the schedule once, finish every queued job, then exit (for cron and tests)."),
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=2.0,
            help=_("Seconds to wait for new jobs when the queue is empty (default 2)."),
        )

    def handle(self, *args, once: bool, interval: float, verbosity: int, **options) -> None:
        if not 0.1 <= interval <= 600:
            raise CommandError(_("--interval must be between 0.1 and 600 seconds."))
        worker_id = f"{socket.gethostname()}-{os.getpid()}"[:64]
        runner = Runner(interval=interval, once=once, worker_id=worker_id, backend=database_backend())
        previous = {sig: signal.signal(sig, runner.stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        restore = self._configure_logging(verbosity)
        try:
            log.info("worker %s started%s", worker_id, " (once)" if once else "")
            if runner.backend is None:
                log.info("background jobs run inline (SOLOCRM_JOBS_INLINE): only the schedule runs here")
            runner.run()
        except KeyboardInterrupt:
            sys.exit(1)
        finally:
            restore()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _configure_logging(self, verbosity: int):
        """What the worker does goes to the console: its own lines and each task run; the
        queue's per-batch chatter only with -v 2. Returns a function that undoes it."""
        handler = logging.StreamHandler(self.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        levels = {
            "solocrm": logging.DEBUG if verbosity > 1 else logging.INFO if verbosity else logging.WARNING,
            "django_tasks": logging.INFO if verbosity else logging.WARNING,
            "django_tasks_db": logging.INFO if verbosity > 1 else logging.WARNING,
        }
        saved = []
        for name, level in levels.items():
            logger = logging.getLogger(name)
            saved.append((logger, logger.level, logger.propagate))
            logger.setLevel(level)
            logger.addHandler(handler)
            logger.propagate = False  # else the root's console handler prints every line twice

        def restore() -> None:
            for logger, level, propagate in saved:
                logger.removeHandler(handler)
                logger.setLevel(level)
                logger.propagate = propagate

        return restore
