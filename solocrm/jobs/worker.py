"""The worker pool `solocrm worker` and `solocrm serve` share: a few slot threads, each running
django-tasks-db's own worker loop (it claims each queued task with SELECT … FOR UPDATE SKIP
LOCKED, so any number of workers may share one PostgreSQL queue). A slot that picks up a job
runs it in a child process (runner.py), so a slot thread only waits and watches."""

from __future__ import annotations

import logging
import threading

from django.db import connections
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker

from . import services

log = logging.getLogger("solocrm.worker")


def database_backend() -> str | None:
    """The alias of the task backend to drain, or None when tasks run inline."""
    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    return DEFAULT_TASK_BACKEND_ALIAS if isinstance(backend, DatabaseBackend) else None


def recover() -> int:
    """Mark failed the jobs a crashed worker left running; never raises (logged)."""
    try:
        return len(services.recover_abandoned())
    except Exception:
        log.exception("recovering abandoned jobs failed")
        return 0
    finally:
        connections.close_all()


class Pool:
    """``slots`` threads draining the queue. ``batch``: each slot stops when the queue is empty
    (``--once``); otherwise they poll every ``interval`` seconds until ``stop()``."""

    def __init__(self, *, worker_id: str, backend: str, slots: int, interval: float, batch: bool) -> None:
        self.worker_id, self.backend, self.interval, self.batch = worker_id, backend, interval, batch
        self.stopping = threading.Event()
        self.workers = [self._worker(number) for number in range(1, slots + 1)]
        self.threads = [
            threading.Thread(target=self._run, args=(w,), daemon=True, name=f"job-slot-{n}")
            for n, w in enumerate(self.workers, start=1)
        ]

    def _worker(self, number: int) -> Worker:
        return Worker(
            queue_names=["*"],
            interval=self.interval,
            batch=self.batch,
            backend_name=self.backend,
            startup_delay=False,
            max_tasks=None,
            worker_id=f"{self.worker_id}/{number}"[-64:],
            excluded_queue_names=[],
        )

    def _run(self, worker: Worker) -> None:
        """One slot; a database hiccup is logged and the slot starts again after a pause."""
        try:
            while not self.stopping.is_set():
                try:
                    worker.run()
                except Exception:
                    log.exception("a worker slot failed; starting it again")
                    worker.running = not self.stopping.is_set()
                    self.stopping.wait(self.interval)
                    continue
                if self.batch:
                    return
        finally:
            connections.close_all()

    def start(self) -> Pool:
        for thread in self.threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Let each slot finish the job it runs, then end."""
        self.stopping.set()
        for worker in self.workers:
            worker.running = False

    def join(self, timeout: float | None = None) -> None:
        for thread in self.threads:
            thread.join(timeout)
