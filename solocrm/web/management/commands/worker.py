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

from solocrm.jobs.worker import Pool, database_backend, recover
from solocrm.web import scheduler

log = logging.getLogger("solocrm.worker")
TICK_SECONDS = 60
DEFAULT_SLOTS = 2  # jobs run at once by one worker (each in its own process)


class Runner:
    """The loop: recover what a crash left running, then tick once a minute while the pool's
    slots run the queued jobs (each in a child process, see solocrm.jobs.runner).

    A first SIGTERM/SIGINT lets the running jobs finish and then stops; a second one stops at
    once (the jobs' processes see their worker go and end; the next start marks them failed)."""

    def __init__(
        self, *, interval: float, once: bool, worker_id: str, backend: str | None, slots: int = DEFAULT_SLOTS
    ) -> None:
        self.interval, self.once, self.worker_id, self.backend = interval, once, worker_id, backend
        self.slots = slots
        self.stopping = threading.Event()
        self.pool: Pool | None = None

    def stop(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping.is_set():
            log.warning("second %s: stopping now", signal.strsignal(signum))
            raise KeyboardInterrupt
        log.warning("%s: stopping after the running jobs (again to force)", signal.strsignal(signum))
        self.stopping.set()
        if self.pool is not None:
            self.pool.stop()

    def run(self) -> None:
        recovered = recover()
        if recovered:
            log.warning("%d job(s) left running by a stopped worker were marked failed", recovered)
        if self.once:
            self.tick()
            self.drain()
        else:
            self._loop()
        log.info("worker %s stopped", self.worker_id)

    def _loop(self) -> None:
        if self.backend is not None:
            self.pool = self._pool(batch=False).start()
        watchers = scheduler.start_watchers()  # IMAP IDLE: new mail within seconds
        next_tick = 0.0
        try:
            while not self.stopping.is_set():
                if time.monotonic() >= next_tick:
                    self.tick()
                    next_tick = time.monotonic() + TICK_SECONDS
                self.stopping.wait(min(self.interval, TICK_SECONDS))
        finally:
            watchers.stop()
            if self.pool is not None:
                self.pool.stop()
                self.pool.join()

    def _pool(self, *, batch: bool) -> Pool:
        assert self.backend is not None
        return Pool(
            worker_id=self.worker_id,
            backend=self.backend,
            slots=self.slots,
            interval=self.interval,
            batch=batch,
        )

    def tick(self) -> None:
        close_old_connections()
        try:
            if not self.once:
                recover()  # a worker on another machine may have died since
            scheduler.tick()
        except Exception:  # a broken tick must not end the worker; the next minute retries
            log.exception("scheduler tick failed")

    def drain(self) -> None:
        """Run every queued job that is ready, then return (--once)."""
        if self.backend is None:
            return  # tasks run inline at enqueue (SOLOCRM_JOBS_INLINE): nothing is queued
        self.pool = self._pool(batch=True).start()
        try:
            self.pool.join()
        finally:
            self.pool = None


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
            "--slots",
            type=int,
            default=DEFAULT_SLOTS,
            help=_("How many jobs this worker runs at once, each in its own process (default 2)."),
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=2.0,
            help=_("Seconds to wait for new jobs when the queue is empty (default 2)."),
        )

    def handle(self, *args, once: bool, interval: float, slots: int, verbosity: int, **options) -> None:
        if not 0.1 <= interval <= 600:
            raise CommandError(_("--interval must be between 0.1 and 600 seconds."))
        if not 1 <= slots <= 64:
            raise CommandError(_("--slots must be between 1 and 64."))
        worker_id = f"{socket.gethostname()}-{os.getpid()}"[:64]
        runner = Runner(
            interval=interval, once=once, worker_id=worker_id, backend=database_backend(), slots=slots
        )
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
