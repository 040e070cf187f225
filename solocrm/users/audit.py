"""The audit log's hash chain: appending an entry, and checking that none was changed or removed.

Each entry's ``entry_hash`` is the SHA-256 of the previous entry's hash and of its own fields in
a fixed JSON form; the first entry's previous hash is empty. ``verify()`` walks the entries in
the order they were written and names the first one whose stored hash or link does not match:
an edited row fails its own hash, a deleted row breaks the link of the one after it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import QuerySet

if TYPE_CHECKING:
    from .models import AuditLog

# One number for the PostgreSQL advisory lock that makes writers of the chain take turns.
CHAIN_LOCK = 0x50C0A0D1


def entry_hash(entry: AuditLog, prev_hash: str) -> str:
    fields = {
        "prev": prev_hash,
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_uuid": str(entry.object_uuid) if entry.object_uuid else "",
        "summary": entry.summary,
        "changes": entry.changes,
    }
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)
    return hashlib.sha256(text.encode()).hexdigest()


def append(entry: AuditLog) -> AuditLog:
    """Save ``entry`` at the end of the chain."""
    from .models import AuditLog

    with transaction.atomic():  # on SQLite a BEGIN IMMEDIATE: the write lock, so one at a time
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
        last = AuditLog.objects.order_by("-pk").values_list("entry_hash", flat=True).first() or ""
        entry.prev_hash = last
        entry.entry_hash = entry_hash(entry, last)
        entry.save(force_insert=True)
    return entry


@dataclass(frozen=True)
class AuditFilter:
    """The one filter of the audit log: the owner's page, the API and `solocrm audit list`."""

    user: str = ""
    action: str = ""
    object_type: str = ""
    since: date | None = None
    until: date | None = None

    def apply(self, entries: QuerySet) -> QuerySet:
        if self.user:
            entries = entries.filter(actor_name=self.user)
        if self.action:
            entries = entries.filter(action=self.action)
        if self.object_type:
            entries = entries.filter(object_type=self.object_type)
        if self.since:
            entries = entries.filter(at__date__gte=self.since)
        if self.until:
            entries = entries.filter(at__date__lte=self.until)
        return entries.order_by("-at", "-pk")


@dataclass
class Break:
    entry_id: int
    reason: str


def _in_order() -> Iterator[AuditLog]:
    from .models import AuditLog

    yield from AuditLog.objects.order_by("pk").iterator(chunk_size=2000)


def verify() -> tuple[int, Break | None]:
    """How many entries were checked, and the first break in the chain (None when whole)."""
    previous = ""
    checked = 0
    for entry in _in_order():
        if entry.prev_hash != previous:
            return checked, Break(entry.pk, "the entry before it was changed or removed")
        if entry.entry_hash != entry_hash(entry, entry.prev_hash):
            return checked, Break(entry.pk, "its fields were changed after it was written")
        previous = entry.entry_hash
        checked += 1
    return checked, None


def head() -> dict:
    """The chain's latest entry (its id and hash): an anchor to keep elsewhere (the backups)."""
    from .models import AuditLog

    last = AuditLog.objects.order_by("-pk").values("pk", "entry_hash").first()
    return {"id": last["pk"], "hash": last["entry_hash"]} if last else {"id": 0, "hash": ""}
