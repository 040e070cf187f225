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
from django.utils import timezone
from django.utils.translation import gettext as _

from solocrm.contacts import identity
from solocrm.contacts import services as contact_services
from solocrm.contacts.choices import InteractionKind
from solocrm.contacts.models import Contact, Interaction
from solocrm.lib.normalize import split_full_name
from solocrm.sales.quotes.attachments import safe_name

from . import imap, parsing
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

HEADER_BATCH = 500  # UIDs whose headers are fetched (and committed) together
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
                _record_error(account, f"{_('Connection lost')}: {error}")
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
    MailAccount.objects.filter(pk=account.pk).update(last_sync_at=timezone.now(), last_error="")
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
    new = 0
    with transaction.atomic():
        for plan in wanted:
            if plan.headers.key in stored:  # twice in this batch
                located.append((plan.uid, plan.headers.key))
                continue
            message = _store(account, plan, bodies.get(plan.uid, b""), sizes.get(plan.uid, 0), report)
            stored[plan.headers.key] = message.pk
            new += 1
            located.append((plan.uid, plan.headers.key))
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


def _thread_for(headers: parsing.Headers, own: set[str], contact_id: int | None) -> MailThread:
    references = [*headers.references, headers.in_reply_to]
    keys = ["m:" + r for r in references if r]
    thread_id = None
    if keys:
        thread_id = (
            MailMessage.objects.filter(message_key__in=keys)
            .order_by("-date")
            .values_list("thread_id", flat=True)
            .first()
        )
    subject_key = parsing.subject_key(headers.subject)
    participants = parsing.participants_key(headers.addresses - own)
    if thread_id is None and subject_key:
        thread_id = (
            MailThread.objects.filter(
                subject_key=subject_key,
                participants_key=participants,
                last_message_at__gte=headers.date - THREAD_WINDOW,
                last_message_at__lte=headers.date + THREAD_WINDOW,
            )
            .order_by("-last_message_at")
            .values_list("id", flat=True)
            .first()
        )
    if thread_id is not None:
        thread = MailThread.objects.get(pk=thread_id)
        if headers.date > thread.last_message_at:
            thread.last_message_at = headers.date
            thread.save(update_fields=["last_message_at", "updated_at"])
        return thread
    return MailThread.objects.create(
        subject=headers.subject,
        subject_key=subject_key,
        participants_key=participants,
        contact_id=contact_id,
        last_message_at=headers.date,
    )


def _store(account: MailAccount, plan: _Plan, raw: bytes, size: int, report: SyncReport) -> MailMessage:
    headers = plan.headers
    contact_ids = list(plan.contact_ids)
    if plan.new_sender and (created := _sender_contact(plan)) is not None:
        contact_ids = [created]
        report.contacts_created += 1
    body = (
        parsing.parse_body(raw) if raw else parsing.Body(problems=["message gone before its body was read"])
    )
    for problem in body.problems:
        logger.warning("mail %s: %s: %s", account.name, headers.key, problem)
    own = _own_addresses()
    contact_id = contact_ids[0] if contact_ids else None
    thread = _thread_for(headers, own, contact_id)
    message = MailMessage.objects.create(
        message_key=headers.key,
        message_id=headers.message_id,
        in_reply_to=headers.in_reply_to,
        references=" ".join(f"<{r}>" for r in headers.references),
        account=account,
        thread=thread,
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
        size=min(size, 2**31 - 1),
        contact_id=contact_id,
    )
    report.stored += 1
    report.attachments_refused += _store_attachments(account, message, body.attachments)
    message.interaction = _timeline(message, thread, contact_ids)
    if message.interaction is not None:
        message.save(update_fields=["interaction", "updated_at"])
    return message


def _timeline(message: MailMessage, thread: MailThread, contact_ids: list[int]) -> Interaction | None:
    """One timeline entry per contact concerned, written once: when the message is stored.
    An e-mail of ours counts as the first response to a lead (speed-to-lead reads EMAIL_OUT)."""
    if not contact_ids:
        return None
    companies = dict(Contact.objects.filter(pk__in=contact_ids).values_list("pk", "company_id"))
    kind = InteractionKind.EMAIL_OUT if message.direction == Direction.OUT else InteractionKind.EMAIL_IN
    first = None
    for contact_id in contact_ids:
        if contact_id not in companies:
            continue
        interaction = Interaction.objects.create(
            kind=kind,
            occurred_at=message.date,
            subject=message.subject,
            body=message.text[:INTERACTION_TEXT],
            contact_id=contact_id,
            company_id=companies[contact_id],
            external_id=f"mail:{message.uuid}",
            data={
                "mail_message": str(message.uuid),
                "thread": str(thread.uuid),
                "from": message.from_address,
                "auth_failed": message.auth_failed,
            },
        )
        first = first or interaction
    return first


def attachment_folder() -> Path:
    return Path(settings.SOLOCRM_ATTACHMENT_DIR) / "mail"


def attachment_path(attachment: MailAttachment) -> Path:
    return attachment_folder() / attachment.sha256[:2] / attachment.sha256


def _store_attachments(account: MailAccount, message: MailMessage, parts: list[parsing.Part]) -> int:
    """Store each attachment by its SHA-256 (the same file in many messages, or the same message
    read again after a crash, is one file). Over SOLOCRM_MAX_ATTACHMENT_BYTES: refused with a
    log line; the message is kept. Returns how many were refused."""
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
            with os.fdopen(fd, "wb") as out:
                out.write(part.data)
            os.replace(temp, path)
        MailAttachment.objects.create(
            message=message,
            filename=name,
            content_type=part.content_type,
            size=len(part.data),
            sha256=sha256,
            inline=part.inline,
        )
    return refused


# --- the accounts ------------------------------------------------------------------------------


def due_accounts(now: datetime | None = None) -> list[MailAccount]:
    """Active accounts not synced for their polling interval."""
    now = now or timezone.now()
    return [
        a
        for a in MailAccount.objects.filter(active=True)
        if a.last_sync_at is None or a.last_sync_at <= now - timedelta(minutes=max(a.poll_minutes, 1))
    ]
