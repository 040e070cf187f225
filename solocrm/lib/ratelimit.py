"""A fixed-window rate limit for the public endpoints (lead forms, quote links, calendar feeds).

Counts live in Django's cache. The default cache is per process (with room for 50,000
counters, see settings.CACHES), which is what the built-in server (one process, many threads)
needs; several processes need a shared cache."""

from __future__ import annotations

import hashlib
import ipaddress
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


def client_key(request: HttpRequest) -> str:
    """What one visitor is counted by: the IPv4 address, or the IPv6 /64 network (one household
    or server gets a whole /64, so single IPv6 addresses would give unlimited tries)."""
    address = client_ip(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:  # ::ffff:203.0.113.5 is an IPv4 visitor
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def hashed_ip(request: HttpRequest) -> str:
    """A keyed hash of the client's address: enough to count and compare, not to identify."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{client_key(request)}".encode()).hexdigest()


def hit(scope: str, request: HttpRequest | None, *, limit: int, window: int = 3600) -> bool:
    """Count one request of ``scope`` from this client (or from everybody, with no request);
    False once more than ``limit`` came in the current ``window`` seconds."""
    bucket = int(time.time() // window)
    who = hashed_ip(request) if request is not None else "all"
    key = f"ratelimit:{scope}:{who}:{bucket}"
    if cache.add(key, 1, timeout=window + 60):
        return limit >= 1
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window + 60)
        count = 1
    return count <= limit
