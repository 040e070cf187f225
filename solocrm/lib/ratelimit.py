"""A fixed-window rate limit for the public endpoints (lead forms, quote links, calendar feeds).

Counts live in Django's cache. The default cache is per process, which is what the built-in
server (one process, many threads) needs; several processes need a shared cache (CACHES)."""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address; behind a reverse proxy, the last hop it added (only when
    SOLOCRM_TRUSTED_PROXY is on, since anybody can send an X-Forwarded-For header)."""
    if settings.SOLOCRM_TRUSTED_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def hashed_ip(request: HttpRequest) -> str:
    """A keyed hash of the client's address: enough to count and compare, not to identify."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{client_ip(request)}".encode()).hexdigest()


def hit(scope: str, request: HttpRequest, *, limit: int, window: int = 3600) -> bool:
    """Count one request of ``scope`` from this client; False once it made more than ``limit``
    in the current ``window`` seconds."""
    bucket = int(time.time() // window)
    key = f"ratelimit:{scope}:{hashed_ip(request)}:{bucket}"
    if cache.add(key, 1, timeout=window + 60):
        return limit >= 1
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window + 60)
        count = 1
    return count <= limit
