"""Helpers of the support tests."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from unittest import mock


@contextmanager
def travel(moment: datetime) -> Iterator[None]:
    """Stop the clock at ``moment`` (Django's timezone.now, which the services and
    auto_now fields read)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield
