"""The IMAP conversation (stdlib imaplib): connect, list folders, read UIDs and fetch in
batches. Nothing here writes to the mailbox: folders are opened read-only (EXAMINE) and bodies
are fetched with BODY.PEEK, so no message is ever marked as read."""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from .models import MailAccount, Security

TIMEOUT = 60
# Errors worth reconnecting for (the server dropped us, the network failed).
TRANSIENT = (imaplib.IMAP4.abort, OSError, EOFError)

_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?P<delim>"(?:[^"\\]|\\.)*"|NIL) (?P<name>.+)$')
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


class MailError(Exception):
    """A problem the owner must fix (bad password, unknown folder): retrying will not help."""


def connect(account: MailAccount, *, timeout: float = TIMEOUT) -> imaplib.IMAP4:
    host, port = account.imap_host, account.imap_port
    if account.imap_security == Security.SSL:
        conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            host, port, ssl_context=ssl.create_default_context(), timeout=timeout
        )
    else:
        conn = imaplib.IMAP4(host, port, timeout=timeout)
        if account.imap_security == Security.STARTTLS:
            conn.starttls(ssl.create_default_context())
    try:
        conn.login(account.imap_user, account.imap_password)
    except imaplib.IMAP4.error as error:
        close(conn)
        raise MailError(f"login failed: {error}") from error
    return conn


def close(conn: imaplib.IMAP4) -> None:
    with contextlib.suppress(Exception):  # already gone
        conn.logout()


def quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def list_folders(conn: imaplib.IMAP4) -> list[tuple[str, set[str]]]:
    """(name, flags) of every folder; names as the server spells them (modified UTF-7)."""
    typ, data = conn.list()
    if typ != "OK":
        return []
    folders = []
    items = iter(data)
    for item in items:
        if isinstance(item, tuple):  # the name sent as a literal
            line, name = item[0], _unquote(item[1])
            flags = _LIST_LINE.match(line + b"x")
        else:
            if item is None:
                continue
            flags = _LIST_LINE.match(item)
            name = _unquote(flags.group("name")) if flags else ""
        if flags and name:
            folders.append((name, {f.lower() for f in flags.group("flags").decode().split()}))
    return folders


def default_folders(conn: imaplib.IMAP4) -> list[str]:
    """The inbox and the folder marked \\Sent (RFC 6154), else one named like "Sent"."""
    folders = list_folders(conn)
    sent = [name for name, flags in folders if "\\sent" in flags]
    if not sent:
        sent = [name for name, _flags in folders if name.rsplit("/", 1)[-1].rsplit(".", 1)[-1].lower() in {
            "sent", "sent items", "sent messages", "sent mail"}]  # fmt: skip
    return ["INBOX", *sent[:1]]


@dataclass
class FolderStatus:
    uidvalidity: int
    uidnext: int | None
    exists: int


def examine(conn: imaplib.IMAP4, folder: str) -> FolderStatus:
    typ, data = conn.select(quote(folder), readonly=True)
    if typ != "OK":
        raise MailError(f"cannot open folder {folder!r}: {data[0]!r}")
    uidvalidity = conn.response("UIDVALIDITY")[1][0]
    uidnext = conn.response("UIDNEXT")[1][0]
    return FolderStatus(
        int(uidvalidity or 0), int(uidnext) if uidnext else None, int(data[0] or 0) if data and data[0] else 0
    )


def uids_after(conn: imaplib.IMAP4, last_uid: int) -> list[int]:
    """The UIDs above ``last_uid``, ascending (``n:*`` also answers the highest UID when none
    is above ``n``: it is dropped)."""
    typ, data = conn.uid("SEARCH", None, f"UID {last_uid + 1}:*")
    if typ != "OK":
        raise MailError(f"UID SEARCH failed: {data!r}")
    uids = sorted({int(x) for x in b" ".join(d for d in data if d).split()})
    return [u for u in uids if u > last_uid]


def _uid_set(uids: list[int]) -> str:
    """1,2,3,7,8 → 1:3,7:8 (short commands for long runs)."""
    ranges: list[str] = []
    start = prev = uids[0]
    for uid in uids[1:]:
        if uid == prev + 1:
            prev = uid
            continue
        ranges.append(f"{start}:{prev}" if prev != start else str(start))
        start = prev = uid
    ranges.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(ranges)


@dataclass
class Fetched:
    uid: int
    size: int
    internal_date: datetime | None
    data: bytes


def fetch(conn: imaplib.IMAP4, uids: list[int], items: str) -> Iterator[Fetched]:
    """UID FETCH ``items`` (one literal each, e.g. BODY.PEEK[]) for ``uids``."""
    if not uids:
        return
    typ, data = conn.uid("FETCH", _uid_set(uids), f"(UID RFC822.SIZE INTERNALDATE {items})")
    if typ != "OK":
        raise MailError(f"UID FETCH failed: {data!r}")
    wanted = set(uids)
    index = 0
    while index < len(data):
        item = data[index]
        index += 1
        if not isinstance(item, tuple):
            continue
        meta, literal = item[0], item[1]
        if index < len(data) and isinstance(data[index], bytes):  # items after the literal
            meta += data[index]
            index += 1
        uid_match = _UID.search(meta)
        if not uid_match or int(uid_match.group(1)) not in wanted:
            continue  # an unsolicited FETCH (flags changed by another client)
        size = _SIZE.search(meta)
        when = _INTERNALDATE.search(meta)
        internal = None
        if when:
            parsed = imaplib.Internaldate2tuple(b'INTERNALDATE "' + when.group(1) + b'"')
            if parsed:
                internal = datetime.fromtimestamp(time.mktime(parsed), UTC)
        yield Fetched(
            int(uid_match.group(1)), int(size.group(1)) if size else len(literal), internal, literal
        )
