"""Time-ordered UUIDs (version 7, RFC 9562) for public ids.

Random (version 4) UUIDs land all over the unique index, so every insert of a big import touches
a different page; version 7 UUIDs start with the creation time in milliseconds, so new rows go
to the end of the index like an auto-increment key, while staying unguessable (74 random bits).
"""

from __future__ import annotations

import os
import time
import uuid

_VARIANT = "89ab"  # the two variant bits 10xx of RFC 9562, as the first hex digit of the 4th group


def uuid7_hex_batch(count: int, unix_ms: int | None = None) -> list[str]:
    """``count`` version-7 UUIDs as 32-digit hex strings, from one urandom call."""
    stamp = f"{(unix_ms if unix_ms is not None else time.time_ns() // 1_000_000) & (2**48 - 1):012x}"
    text = os.urandom(16 * count).hex()
    keys = []
    for start in range(0, 32 * count, 32):
        raw = text[start : start + 32]
        keys.append(f"{stamp}7{raw[13:16]}{_VARIANT[int(raw[16], 16) & 3]}{raw[17:]}")
    return keys


def uuid7() -> uuid.UUID:
    """One version-7 UUID (the model default for public ids)."""
    return uuid.UUID(uuid7_hex_batch(1)[0])
