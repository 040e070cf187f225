"""Mailbox sync: bring the messages that concern contacts from an account's IMAP folders into
the CRM (see docs/mail.md for the rules).

Per folder: open it read-only and compare its UIDVALIDITY with the one remembered (a new one
means the UIDs were renumbered: the folder is read again from the start; messages are found
again by their key, so nothing is duplicated). The UIDs above the last one read are handled in
batches: first their headers only, to decide which concern a known contact (private mail from
strangers is never fetched, let alone stored), then the whole message of those kept. Each
batch is one transaction that also advances the folder's last UID: a crash or kill -9 repeats
at most the batch in progress, and the unique message key and location make a repeat harmless.
Lost connections are retried with a bounded back-off, going on from the last batch committed."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from solocrm.contacts import identity
from solocrm.contacts import services as contact_services
from solocrm.contacts.choices import InteractionKind, LifecycleStage
from solocrm.contacts.models import Contact, Interaction
from solocrm.lib.normalize import split_full_name
from solocrm.sales.deals import services as deal_services
from solocrm.sales.deals.models import Deal
from solocrm.sales.leadforms.services import OUTBOUND_KINDS
from solocrm.sales.quotes.attachments import safe_name

from . import hooks, imap, parsing
from .models import (
    Direction,
    MailAccount,
    MailAttachment,
    MailFolderState,
    MailMessage,
    MailMessageCopy,
    MailThread,
)

logger = logging.getLogger(__name__)

# UIDs whose headers are fetched (and committed) together
HEADER_BATCH = int(os.environ.get("SOLOCRM_MAIL_BATCH", "500"))
BODY_BATCH_BYTES = 20 * 1024 * 1024  # whole messages fetched in one command, at most about this
BODY_BATCH_COUNT = 200
RETRIES = 4  # reconnections after a lost connection, waiting BACKOFF, 2×, 4×… seconds
BACKOFF = 2.0
THREAD_WINDOW = timedelta(days=30)
INTERACTION_TEXT = 2000  # characters of the text shown on the timeline entry
MAX_CONTACTS_PER_MESSAGE = 10

Progress = Callable[[str, int, int | None], None]


class SyncError(Exception):
    """The sync of an account failed; the message is for the owner."""


@dataclass
class SyncReport:
    account: str = ""
    folders: int = 0
    seen: int = 0  # new UIDs looked at
    stored: int = 0  # new messages stored
    copies: int = 0  # new locations of messages already stored
    skipped: int = 0  # messages that concern no contact: not stored
    contacts_created: int = 0
    attachments_refused: int = 0
    resynced_folders: list[str] = field(default_factory=list)
    folder_errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _noop(step: str, done: int, total: int | None) -> None:
    pass


# --- the entry point ---------------------------------------------------------------------------


def sync_account(
    account: MailAccount,
    *,
    progress: Progress | None = None,
    stop_after_batches: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncReport:
    """Sync every folder of ``account``; reconnect after a lost connection (at most RETRIES
    times, waiting longer each time). ``stop_after_batches`` stops after that many committed
    batches, as a crash would (tests)."""
    report = SyncReport(account=account.name)
    attempt = 0
    while True:
        try:
            _sync_once(account, report, progress or _noop, stop_after_batches)
        except imap.TRANSIENT as error:
            attempt += 1
            if attempt > RETRIES:
                _record_error(account, _("Connection lost: %(error)s") % {"error": error})
                raise SyncError(str(error)) from error
            wait = BACKOFF * 2 ** (attempt - 1)
            logger.warning(
                "mail %s: connection lost (%s); retry %d in %.0f s", account.name, error, attempt, wait
            )
            sleep(wait)
            continue
        except (imap.MailError, imap.imaplib.IMAP4.error) as error:
            _record_error(account, str(error))
            raise SyncError(str(error)) from error
        break
    MailAccount.objects.filter(pk=account.pk).update(
        last_sync_at=timezone.now(), last_error="; ".join(report.folder_errors)[:2000]
    )
    return report


def _record_error(account: MailAccount, message: str) -> None:
    logger.error("mail %s: %s", account.name, message)
    MailAccount.objects.filter(pk=account.pk).update(last_sync_at=timezone.now(), last_error=message[:2000])


class _Stop(Exception):
    pass


def _sync_once(account: MailAccount, report: SyncReport, progress: Progress, stop_after: int | None) -> None:
    conn = imap.connect(account)
    try:
        folders = account.folders or imap.default_folders(conn)
        report.folders = len(folders)
        batches = 0
        for folder in folders:
            try:
                batches = _sync_folder(conn, account, folder, report, progress, stop_after, batches)
            except _Stop:
                return
            except imap.MailError as error:  # a missing folder must not stop the others
                logger.error("mail %s/%s: %s", account.name, folder, error)
                report.folder_errors.append(f"{folder}: {error}")
                MailFolderState.objects.update_or_create(
                    account=account, folder=folder, defaults={"last_error": str(error)[:2000]}
                )
    finally:
        imap.close(conn)


def _sync_folder(
    conn, account: MailAccount, folder: str, report: SyncReport, progress: Progress, stop_after, batches: int
) -> int:
    status = imap.examine(conn, folder)
    state, _created = MailFolderState.objects.get_or_create(account=account, folder=folder)
    if state.uidvalidity != status.uidvalidity:
        with transaction.atomic():
            if state.uidvalidity:
                logger.warning(
                    "mail %s/%s: UIDVALIDITY changed (%s → %s): reading the folder again",
                    account.name, folder, state.uidvalidity, status.uidvalidity,
                )  # fmt: skip
                report.resynced_folders.append(folder)
                # the old locations are gone: the messages stay and are found again by key
                MailMessageCopy.objects.filter(account=account, folder=folder).exclude(
                    uidvalidity=status.uidvalidity
                ).delete()
            state.uidvalidity, state.last_uid = status.uidvalidity, 0
            state.save(update_fields=["uidvalidity", "last_uid"])
    uids = imap.uids_after(conn, state.last_uid)
    step = _("Reading %(folder)s") % {"folder": folder}
    progress(step, 0, len(uids))
    for start in range(0, len(uids), HEADER_BATCH):
        batch = uids[start : start + HEADER_BATCH]
        _sync_batch(conn, account, state, folder, batch, report)
        report.seen += len(batch)
        batches += 1
        progress(step, start + len(batch), len(uids))
        if stop_after is not None and batches >= stop_after:
            raise _Stop
    MailFolderState.objects.filter(pk=state.pk).update(last_sync_at=timezone.now(), last_error="")
    return batches


# --- one batch ---------------------------------------------------------------------------------


def _own_addresses() -> set[str]:
    return {identity.email_key(e) for e in MailAccount.objects.values_list("email", flat=True) if e}


def _known_contacts(addresses: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for key, contact_id in identity.ids_by_email(addresses):
        found.setdefault(key, contact_id)  # primary matches come first, then the oldest contact
    return found


@dataclass
class _Plan:
    uid: int
    headers: parsing.Headers
    direction: str
    contact_ids: list[int]
    new_sender: bool  # create a contact for the sender first


def _plan(
    account: MailAccount, uid: int, headers: parsing.Headers, own: set[str], known: dict[str, int]
) -> _Plan | None:
    direction = Direction.OUT if headers.from_address in own else Direction.IN
    if direction == Direction.IN:
        order = [headers.from_address, *headers.to, *headers.cc]
    else:
        order = [*headers.to, *headers.cc]
    contact_ids = list(dict.fromkeys(known[a] for a in order if a in known and a not in own))
    may_create = account.is_support or account.create_contacts_from_new_senders
    new_sender = (
        not contact_ids
        and direction == Direction.IN
        and may_create
        and bool(headers.from_address)
        and not headers.automated
    )
    if not contact_ids and not new_sender:
        return None
    return _Plan(uid, headers, direction, contact_ids[:MAX_CONTACTS_PER_MESSAGE], new_sender)


def _sync_batch(
    conn, account: MailAccount, state: MailFolderState, folder: str, uids: list[int], report
) -> None:
    fields = " ".join(parsing.HEADER_FIELDS)
    heads = list(imap.fetch(conn, uids, f"BODY.PEEK[HEADER.FIELDS ({fields})]"))
    sizes = {f.uid: f.size for f in heads}
    parsed = [(f, parsing.parse_headers(f.data, f.internal_date)) for f in heads]
    own = _own_addresses()
    known = _known_contacts({a for _f, h in parsed for a in h.addresses} - own)
    plans: list[_Plan] = []
    for fetched, headers in parsed:
        plan = _plan(account, fetched.uid, headers, own, known)
        if plan is None:
            report.skipped += 1
        else:
            plans.append(plan)
    keys = {p.headers.key for p in plans} | {h.key for _f, h in parsed}
    stored = dict(MailMessage.objects.filter(message_key__in=keys).values_list("message_key", "id"))
    # A message already stored (from another folder or account) only gains a location, even one
    # that would not be kept from this account: it was kept once, it concerns a contact.
    located = [(f.uid, h.key) for f, h in parsed if h.key in stored]
    wanted = [p for p in plans if p.headers.key not in stored]
    bodies = _fetch_bodies(conn, [p.uid for p in wanted], sizes)
    unique: dict[str, _Plan] = {}
    for plan in wanted:
        if plan.headers.key in unique:  # twice in this batch: one message, two locations
            located.append((plan.uid, plan.headers.key))
        else:
            unique[plan.headers.key] = plan
    parsed_bodies = {uid: parsing.parse_body(raw) for uid, raw in bodies.items()}  # before locking
    with transaction.atomic():
        created = _store_batch(account, list(unique.values()), parsed_bodies, sizes, own, report)
        hooks.notify_stored(list(created.values()))
        new = len(created)
        stored.update(created)
        located.extend((plan.uid, plan.headers.key) for plan in unique.values())
        before = MailMessageCopy.objects.filter(
            account=account, folder=folder, uidvalidity=state.uidvalidity
        ).count()
        MailMessageCopy.objects.bulk_create(
            [
                MailMessageCopy(
                    message_id=stored[key],
                    account=account,
                    folder=folder,
                    uidvalidity=state.uidvalidity,
                    uid=uid,
                )
                for uid, key in located
            ],
            ignore_conflicts=True,
        )
        after = MailMessageCopy.objects.filter(
            account=account, folder=folder, uidvalidity=state.uidvalidity
        ).count()
        report.copies += after - before - new
        state.last_uid = max(state.last_uid, *uids)
        MailFolderState.objects.filter(pk=state.pk).update(last_uid=state.last_uid)


def _fetch_bodies(conn, uids: list[int], sizes: dict[int, int]) -> dict[int, bytes]:
    bodies: dict[int, bytes] = {}
    chunk: list[int] = []
    total = 0
    for uid in [*uids, None]:
        if uid is not None and (
            not chunk or (total + sizes.get(uid, 0) <= BODY_BATCH_BYTES and len(chunk) < BODY_BATCH_COUNT)
        ):
            chunk.append(uid)
            total += sizes.get(uid, 0)
            continue
        for fetched in imap.fetch(conn, chunk, "BODY.PEEK[]"):
            bodies[fetched.uid] = fetched.data
        chunk, total = ([uid], sizes.get(uid, 0)) if uid is not None else ([], 0)
    return bodies


# --- storing one message -----------------------------------------------------------------------


def _sender_contact(plan: _Plan) -> int | None:
    """The contact for a new sender (support mailbox or "create contacts from new senders"),
    through the identity rules: an existing one when the address is known after all."""
    headers = plan.headers
    found, _reason = identity.find_contact(email=headers.from_address)
    if found is not None:
        return found.pk
    first, last = split_full_name(headers.from_name) if headers.from_name else ("", "")
    data = {
        "email": headers.from_address,
        "first_name": first[:100],
        "last_name": last[:100],
        "source": "e-mail",
    }
    try:
        with transaction.atomic():
            contact = contact_services.create_contact(data, via=_("e-mail"))
    except IntegrityError:  # created meanwhile by someone else: use theirs
        found, _reason = identity.find_contact(email=headers.from_address)
        return found.pk if found else None
    return contact.pk


class _Threads:
    """Threads for one batch, found with a few queries for the whole batch: by In-Reply-To /
    References (messages stored before, or earlier in the batch), else by subject and people
    within THREAD_WINDOW, else a new thread."""

    def __init__(self, plans: list[_Plan], own: set[str]) -> None:
        self.own = own
        refs = {"m:" + r for p in plans for r in [*p.headers.references, p.headers.in_reply_to] if r}
        self.by_key: dict[str, int] = dict(
            MailMessage.objects.filter(message_key__in=refs).values_list("message_key", "thread_id")
        )
        subjects = {parsing.subject_key(p.headers.subject) for p in plans} - {""}
        self.candidates: dict[tuple[str, str], list[list]] = {}
        self.last: dict[int, datetime] = {}
        self.changed: set[int] = set()
        self.new: dict[int, MailThread] = {}  # negative batch-local ids
        if subjects and plans:
            earliest = min(p.headers.date for p in plans) - THREAD_WINDOW
            rows = MailThread.objects.filter(
                subject_key__in=subjects, last_message_at__gte=earliest
            ).values_list("id", "subject_key", "participants_key", "last_message_at")
            for thread_id, subject, people, last in rows:
                self.candidates.setdefault((subject, people), []).append(thread_id)
                self.last[thread_id] = last

    def find(self, headers: parsing.Headers, contact_id: int | None) -> int:
        thread_id = None
        for ref in [headers.in_reply_to, *reversed(headers.references)]:
            if ref and (thread_id := self.by_key.get("m:" + ref)) is not None:
                break
        subject = parsing.subject_key(headers.subject)
        people = parsing.participants_key(headers.addresses - self.own)
        if thread_id is None and subject:
            near = [
                t for t in self.candidates.get((subject, people), [])
                if abs(self.last.get(t, headers.date) - headers.date) <= THREAD_WINDOW
            ]  # fmt: skip
            if near:
                thread_id = max(near, key=lambda t: self.last.get(t, headers.date))
        if thread_id is None:  # a new thread: inserted with the others of the batch (save)
            thread_id = -(len(self.new) + 1)
            self.new[thread_id] = MailThread(
                subject=headers.subject,
                subject_key=subject,
                participants_key=people,
                contact_id=contact_id,
                last_message_at=headers.date,
            )
            self.last[thread_id] = headers.date
            if subject:
                self.candidates.setdefault((subject, people), []).append(thread_id)
        elif thread_id < 0:
            thread = self.new[thread_id]
            thread.last_message_at = max(thread.last_message_at, headers.date)
            self.last[thread_id] = thread.last_message_at
        elif thread_id not in self.last or headers.date > self.last[thread_id]:
            self.last[thread_id] = headers.date
            self.changed.add(thread_id)
        self.by_key[headers.key] = thread_id
        return thread_id

    def save(self) -> dict[int, int]:
        """Insert the new threads; {batch-local id: real id} (real ids map to themselves)."""
        MailThread.objects.bulk_create(self.new.values())
        return {local: thread.pk for local, thread in self.new.items()}

    def touch(self) -> None:
        """Move the last message time of the older threads that gained messages forward (one
        UPDATE from the stored messages: never backwards, whatever the order of arrival)."""
        if self.changed:
            latest = (
                MailMessage.objects.filter(thread=OuterRef("pk"))
                .order_by()
                .values("thread")
                .annotate(latest=Max("date"))
                .values("latest")[:1]
            )
            MailThread.objects.filter(pk__in=self.changed).update(last_message_at=Subquery(latest))


def _store_batch(
    account: MailAccount,
    plans: list[_Plan],
    bodies: dict[int, parsing.Body],
    sizes: dict[int, int],
    own: set[str],
    report: SyncReport,
) -> dict[str, int]:
    """Store the batch's new messages (with threads, attachments and timeline entries) in a few
    bulk statements; returns {message key: id}."""
    if not plans:
        return {}
    threads = _Threads(plans, own)
    messages: list[MailMessage] = []
    contacts_of: list[list[int]] = []
    for plan in plans:
        headers = plan.headers
        contact_ids = list(plan.contact_ids)
        if plan.new_sender and (created := _sender_contact(plan)) is not None:
            contact_ids = [created]
            report.contacts_created += 1
        body = bodies.get(plan.uid) or parsing.Body(problems=["message gone before its body was read"])
        for problem in body.problems:
            logger.warning("mail %s: %s: %s", account.name, headers.key, problem)
        contact_id = contact_ids[0] if contact_ids else None
        messages.append(
            MailMessage(
                message_key=headers.key,
                message_id=headers.message_id,
                in_reply_to=headers.in_reply_to,
                references=" ".join(f"<{r}>" for r in headers.references),
                account=account,
                thread_id=threads.find(headers, contact_id),
                direction=plan.direction,
                from_address=headers.from_address,
                from_name=headers.from_name,
                to_addresses=headers.to,
                cc_addresses=headers.cc,
                subject=headers.subject,
                date=headers.date,
                text=body.text,
                html=body.html,
                has_remote_images=body.has_remote_images,
                auth_failed=headers.auth_failed,
                size=min(sizes.get(plan.uid, 0), 2**31 - 1),
                contact_id=contact_id,
            )
        )
        contacts_of.append(contact_ids)
    real = threads.save()
    for message in messages:
        message.thread_id = real.get(message.thread_id, message.thread_id)
    _timeline(messages, contacts_of)  # before the messages: they point to their entry
    MailMessage.objects.bulk_create(messages)
    threads.touch()
    reply_effects(messages)
    report.stored += len(messages)
    attachments: list[MailAttachment] = []
    for plan, message in zip(plans, messages, strict=True):
        body = bodies.get(plan.uid)
        if body is not None:
            report.attachments_refused += _attachments(account, message, body.attachments, attachments)
    MailAttachment.objects.bulk_create(attachments)
    return {m.message_key: m.pk for m in messages}


def _timeline(messages: list[MailMessage], contacts_of: list[list[int]]) -> None:
    """One timeline entry per contact concerned, written once: when the message is stored.
    An e-mail of ours counts as the first response to a lead (speed-to-lead reads EMAIL_OUT)."""
    wanted = {c for ids in contacts_of for c in ids}
    if not wanted:
        return
    companies = dict(Contact.objects.filter(pk__in=wanted).values_list("pk", "company_id"))
    entries: list[Interaction] = []
    first_of: list[tuple[MailMessage, Interaction]] = []
    for message, contact_ids in zip(messages, contacts_of, strict=True):
        kind = InteractionKind.EMAIL_OUT if message.direction == Direction.OUT else InteractionKind.EMAIL_IN
        first = None
        for contact_id in contact_ids:
            if contact_id not in companies:
                continue
            entry = Interaction(
                kind=kind,
                occurred_at=message.date,
                subject=message.subject,
                body=message.text[:INTERACTION_TEXT],
                contact_id=contact_id,
                company_id=companies[contact_id],
                external_id=f"mail:{message.uuid}",
                data={
                    "mail_message": str(message.uuid),
                    "from": message.from_address,
                    "auth_failed": message.auth_failed,
                },
            )
            entries.append(entry)
            first = first or entry
        if first is not None:
            first_of.append((message, first))
    Interaction.objects.bulk_create(entries)
    for message, entry in first_of:
        message.interaction = entry


LEAD_ANSWERED = "lead_answered"  # data["event"] of the timeline entry that marks it


def reply_effects(messages: list[MailMessage]) -> None:
    """What a customer's e-mail changes in sales (a few queries per batch): their open deals
    are active again (last activity moves to the e-mail's date, so they are not stalled), and a
    lead who answers an e-mail of ours is marked answered on its timeline, once. Our own e-mails
    need nothing here: speed-to-lead reads their ``email_out`` timeline entries."""
    now = timezone.now()
    latest: dict[int, datetime] = {}
    for message in messages:
        if message.direction == Direction.IN and message.contact_id:
            when = min(message.date, now)  # a Date header in the future must not park a deal
            latest[message.contact_id] = max(latest.get(message.contact_id, when), when)
    if latest:
        for deal in Deal.objects.open().filter(
            contact_id__in=latest, last_activity_at__lt=max(latest.values())
        ):
            deal_services.touch_deal(deal, latest[deal.contact_id])
    _mark_leads_answered({m.contact_id for m in messages if m.contact_id})


def _mark_leads_answered(contact_ids: set[int]) -> None:
    """A lead with an e-mail of theirs after one of ours (in any order of arrival: the inbox is
    often read before the Sent folder) gets one "answered" timeline entry."""
    leads = dict(
        Contact.objects.filter(pk__in=contact_ids, lifecycle_stage=LifecycleStage.LEAD).values_list(
            "pk", "company_id"
        )
    )
    marked = set(
        Interaction.objects.filter(
            contact_id__in=leads, kind=InteractionKind.SYSTEM, data__event=LEAD_ANSWERED
        ).values_list("contact_id", flat=True)
    )
    if not set(leads) - marked:
        return
    history = Interaction.objects.filter(
        contact_id__in=set(leads) - marked, kind__in=[*OUTBOUND_KINDS, InteractionKind.EMAIL_IN]
    ).order_by("occurred_at", "id")
    first_out: dict[int, datetime] = {}
    answers: dict[int, Interaction] = {}
    for entry in history.only("contact_id", "kind", "occurred_at", "data"):
        if entry.kind != InteractionKind.EMAIL_IN:
            first_out.setdefault(entry.contact_id, entry.occurred_at)
        elif entry.contact_id in first_out and entry.contact_id not in answers:
            answers[entry.contact_id] = entry
    Interaction.objects.bulk_create(
        Interaction(
            kind=InteractionKind.SYSTEM,
            occurred_at=answer.occurred_at,
            subject=_("The lead answered by e-mail"),
            contact_id=contact_id,
            company_id=leads[contact_id],
            external_id=f"mail:answered:{contact_id}",
            data={"event": LEAD_ANSWERED, "mail_message": (answer.data or {}).get("mail_message", "")},
        )
        for contact_id, answer in answers.items()
    )


def attachment_folder() -> Path:
    return Path(settings.SOLOCRM_ATTACHMENT_DIR) / "mail"


def attachment_path(attachment: MailAttachment) -> Path:
    return attachment_folder() / attachment.sha256[:2] / attachment.sha256


def _attachments(
    account: MailAccount, message: MailMessage, parts: list[parsing.Part], out: list[MailAttachment]
) -> int:
    """Store each attachment by its SHA-256 (the same file in many messages, or the same message
    read again after a crash, is one file; a file whose row was rolled back is reused, never
    duplicated). Over SOLOCRM_MAX_ATTACHMENT_BYTES: refused with a log line; the message is
    kept. Appends the rows to ``out``; returns how many were refused."""
    limit = settings.SOLOCRM_MAX_ATTACHMENT_BYTES
    refused = 0
    for part in parts:
        name = safe_name(part.filename) if part.filename else "attachment"
        if len(part.data) > limit:
            refused += 1
            logger.warning(
                "mail %s: message %s: attachment %r is %d bytes, over the %d-byte limit: not stored",
                account.name, message.message_key, name, len(part.data), limit,
            )  # fmt: skip
            continue
        sha256 = hashlib.sha256(part.data).hexdigest()
        path = attachment_folder() / sha256[:2] / sha256
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
            with os.fdopen(fd, "wb") as file:
                file.write(part.data)
            os.replace(temp, path)
        out.append(
            MailAttachment(
                message=message,
                filename=name,
                content_type=part.content_type,
                size=len(part.data),
                sha256=sha256,
                inline=part.inline,
            )
        )
    return refused


# --- the accounts ------------------------------------------------------------------------------


# The clock ticks once a minute and a sync ends a few seconds after its tick: without this
# slack a one-minute interval would be due only every other tick (two minutes).
DUE_SLACK = timedelta(seconds=20)


def due_accounts(now: datetime | None = None) -> list[MailAccount]:
    """Active accounts not synced for their polling interval (less the clock's slack)."""
    now = now or timezone.now()
    return [
        a
        for a in MailAccount.objects.filter(active=True)
        if a.last_sync_at is None
        or a.last_sync_at <= now - timedelta(minutes=max(a.poll_minutes, 1)) + DUE_SLACK
    ]
