"""Benchmark: the first sync of a 10,000-message mailbox from a real Dovecot, then a no-op sync.

    python bench/mail_sync.py [--messages 10000] [--database sqlite|postgres] [--seed 7]

Starts Dovecot (solocrm.mail.tests.dovecot: the tests' throw-away server) and writes the
messages into its Maildir (the same as APPENDing them, much faster to set up): most from 500
known contacts, 15 % from strangers (never stored), replies threaded, 5 % with a small
attachment, 1 in 50 also copied into the Sent folder. Times, in the same run:

- baseline: a raw imaplib fetch of every message (UID SEARCH + UID FETCH BODY.PEEK[] in
  batches of 500, bytes only, nothing parsed or stored);
- the first sync (headers, decision, bodies of the kept, parse, sanitise, store, thread,
  timeline) — budget (issue 13): <= 60 s;
- a second sync with nothing new (budget: a moment).

Prints one JSON line. The machine is shared: run it twice and keep the better figures."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from import_contacts import setup_django  # noqa: E402

CONTACTS = 500
WORDS = [
    "order",
    "invoice",
    "delivery",
    "quote",
    "thanks",
    "question",
    "meeting",
    "price",
    "schedule",
    "project",
    "update",
]


def build_messages(count: int, seed: int) -> list[tuple[str, bytes]]:
    from solocrm.mail.tests.factory import message

    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out: list[tuple[str, bytes]] = []
    previous: dict[int, str] = {}
    for n in range(count):
        when = start + timedelta(minutes=45 * n)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(40, 400)))
        attachments = [("notes.txt", "text/plain", text.encode() * 3)] if n % 20 == 0 else []
        if rng.random() < 0.15:
            sender = f"stranger{n}@elsewhere.test"
            raw = message(sender=sender, subject=f"Private {n}", text=text, date=when)
            out.append(("INBOX", raw))
            continue
        person = rng.randrange(CONTACTS)
        message_id = f"<m{n}@bench.test>"
        reply_to = previous.get(person, "")
        outgoing = rng.random() < 0.3
        sender = "owner@example.com" if outgoing else f"Person {person} <person{person}@customer.test>"
        to = f"person{person}@customer.test" if outgoing else "owner@example.com"
        raw = message(
            sender=sender,
            to=to,
            subject=("Re: " if reply_to else "") + f"Project {person}",
            text=text,
            html=f"<p>{text}</p><img src='https://tracker.test/{n}.gif'>" if n % 3 == 0 else "",
            message_id=message_id,
            in_reply_to=reply_to,
            references=reply_to,
            date=when,
            attachments=attachments,
        )
        previous[person] = message_id
        out.append(("Sent" if outgoing else "INBOX", raw))
        if n % 50 == 0:
            out.append(("Sent" if not outgoing else "INBOX", raw))
    return out


def fill_maildir(server, messages: list[tuple[str, bytes]]) -> None:
    """Write the messages as Maildir files (Dovecot gives them UIDs when it next looks)."""
    conn = server.client()
    for folder in ("INBOX", "Sent"):
        conn.select(folder)  # the first look creates the Maildir folders
    conn.logout()
    base = server.root / "mail" / server.user
    owner = base.stat()
    for index, (folder, raw) in enumerate(messages):
        target = base / ("new" if folder == "INBOX" else f".{folder}/new")
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{1700000000 + index}.M{index}P1.bench"
        path.write_bytes(raw)
        if os.geteuid() == 0:
            os.chown(path, owner.st_uid, owner.st_gid)
    if os.geteuid() == 0:
        for folder in base.rglob("*"):
            if folder.is_dir():
                os.chown(folder, owner.st_uid, owner.st_gid)


def baseline(server) -> tuple[float, int]:
    import imaplib

    started = time.perf_counter()
    conn = imaplib.IMAP4("127.0.0.1", server.port)
    conn.login(server.user, server.password)
    total = 0
    for folder in ("INBOX", "Sent"):
        conn.select(folder, readonly=True)
        _typ, data = conn.uid("SEARCH", None, "ALL")
        uids = data[0].split()
        for i in range(0, len(uids), 500):
            chunk = b",".join(uids[i : i + 500]).decode()
            _typ, fetched = conn.uid("FETCH", chunk, "(BODY.PEEK[])")
            total += sum(len(item[1]) for item in fetched if isinstance(item, tuple))
    conn.logout()
    return time.perf_counter() - started, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="solocrm-bench-mail-"))
    setup_django(args.database, data_dir, pg_name="solocrm_bench_mail")

    from solocrm.contacts.models import Contact
    from solocrm.mail import sync
    from solocrm.mail.models import MailAccount, MailMessage, MailThread, Security
    from solocrm.mail.tests import dovecot

    Contact.objects.bulk_create(
        Contact(first_name="Person", last_name=str(i), email=f"person{i}@customer.test")
        for i in range(CONTACTS)
    )
    server = dovecot.start()
    try:
        messages = build_messages(args.messages, args.seed)
        fill_maildir(server, messages)
        account = MailAccount(
            name="Bench", email="owner@example.com", imap_host="127.0.0.1", imap_port=server.port,
            imap_security=Security.NONE, imap_user=server.user,
        )  # fmt: skip
        account.imap_password = server.password
        account.save()
        baseline(server)  # Dovecot indexes the new files on the first look: not part of either run
        raw_seconds, raw_bytes = baseline(server)
        started = time.perf_counter()
        first = sync.sync_account(account)
        first_seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = sync.sync_account(account)
        again_seconds = time.perf_counter() - started
    finally:
        dovecot.stop(server)
    result = {
        "database": args.database,
        "messages_in_mailbox": len(messages),
        "mailbox_bytes": raw_bytes,
        "baseline_raw_fetch_s": round(raw_seconds, 2),
        "first_sync_s": round(first_seconds, 2),
        "first_sync_budget_s": 60,
        "no_op_sync_s": round(again_seconds, 3),
        "stored": first.stored,
        "copies": first.copies,
        "skipped": first.skipped,
        "threads": MailThread.objects.count(),
        "messages_in_db": MailMessage.objects.count(),
        "second_sync_seen": again.seen,
    }
    print(json.dumps(result))
    shutil.rmtree(data_dir, ignore_errors=True)  # the SQLite file and stored attachments


if __name__ == "__main__":
    main()
