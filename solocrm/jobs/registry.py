"""Job kinds: a function that does the work, declared with ``@job_kind(...)``.

The Job row keeps the function's dotted path, so a worker process (or the child process that
runs one job) finds the kind by importing that path; nothing has to be registered at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from .models import Job
    from .services import Progress

Handler = Callable[["Job", "Progress"], Any]

DEFAULT_TIME_LIMIT = 3600


@dataclass(frozen=True)
class Kind:
    """What the job system needs to know about one kind of job.

    ``limit``: how many of this kind may run at once (over every worker);
    ``exclusive``: refuse a new one while one is queued or running (a second analytics refresh
    would only redo the same work); ``rerun_after_crash``: a job a crash left running is queued
    again (it must be safe to run twice); ``on_stop(job)``: called in the worker when a job
    ends without its handler finishing (cancelled, killed, crashed) to tidy what it owns."""

    name: str
    path: str
    handler: Handler
    limit: int = 1
    time_limit: int = DEFAULT_TIME_LIMIT
    exclusive: bool = False
    rerun_after_crash: bool = False
    on_stop: Callable[[Job], None] | None = None


_KINDS: dict[str, Kind] = {}


def job_kind(
    name: str,
    *,
    limit: int = 1,
    time_limit: int = DEFAULT_TIME_LIMIT,
    exclusive: bool = False,
    rerun_after_crash: bool = False,
    on_stop: Callable[[Job], None] | None = None,
) -> Callable[[Handler], Handler]:
    """Declare ``handler(job, progress)`` as the job kind ``name``."""

    def decorate(handler: Handler) -> Handler:
        path = f"{handler.__module__}.{handler.__qualname__}"
        kind = Kind(name, path, handler, limit, time_limit, exclusive, rerun_after_crash, on_stop)
        _KINDS[name] = kind
        handler.job_kind = kind  # type: ignore[attr-defined]
        return handler

    return decorate


def kind_of(handler: Handler) -> Kind:
    kind = getattr(handler, "job_kind", None)
    if not isinstance(kind, Kind):
        raise TypeError(f"{handler!r} is not declared with @job_kind")
    return kind


def load(job: Job) -> Kind:
    """The kind of ``job``, importing its handler's module if this process has not yet."""
    if job.kind not in _KINDS:
        import_string(job.handler)
    return _KINDS[job.kind]
