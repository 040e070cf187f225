"""Writing e-mail from the CRM: ``send_mail`` (see docs/mail.md, "Writing e-mail").

One function for every writer — the compose page, the API, the command line, the ticket desk,
the satisfaction survey::

    message = send_mail(to=contact, subject="Your quote", body="Hello {{ first_name }}", user=user)

The body is Markdown with merge fields (templating.py). It becomes a plain-text part (the
Markdown itself) and an HTML part (markdown-it with raw HTML off, then nh3). The message is
stored as a ``MailMessage`` (direction out) under a Message-ID normalised exactly as the sync
keys messages, so the copy the sync later finds in the Sent folder is recognised, not stored
twice.

**Never sent twice.** A message is marked ``sending`` (a committed, conditional UPDATE that one
caller wins) *before* the SMTP conversation and ``sent`` after it. A crash or kill -9 between
the two leaves it ``sending``; the job that runs again after a crash finds it so and marks it
``unknown`` ("interrupted while sending: check your Sent folder") instead of sending it again.
At most once, never twice: a lost message is visible, a doubled one would not be undoable.
Retries happen only when the server said, before accepting anything, that it could not take
the message now (connection refused, 4xx).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import smtplib
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import Any

import nh3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task_backends
from markdown_it import MarkdownIt

from solocrm.contacts import identity
from solocrm.contacts.choices import InteractionKind
from solocrm.contacts.models import Contact, Interaction
from solocrm.jobs import services as job_services
from solocrm.jobs.choices import ACTIVE
from solocrm.jobs.models import Job
from solocrm.jobs.registry import job_kind, kind_of
from solocrm.lib.business import business_settings, mail_goes_to_outbox
from solocrm.sales.quotes.attachments import AttachmentError, safe_name, too_large_message
from solocrm.sales.quotes.attachments import kind_of as file_kind

from . import parsing, templating
from .models import (
    STALE_SENDING,
    Direction,
    MailAccount,
    MailAttachment,
    MailMessage,
    MailSignature,
    MailThread,
    Security,
    SendStatus,
)
from .sync import INTERACTION_TEXT, MAX_CONTACTS_PER_MESSAGE, attachment_folder, attachment_path

logger = logging.getLogger(__name__)

KIND = "mail.send"
MAX_ATTEMPTS = 5
RETRY_AFTER = (60, 300, 900, 3600)  # seconds before the 2nd, 3rd, 4th, 5th attempt
SIGNATURE_SEPARATOR = "\n\n-- \n"  # RFC 3676: mail clients recognise and fold the signature


class SendError(Exception):
    """The server refused or could not be reached; ``message`` is the stored MailMessage
    (status failed, with the error), so the writer can see it and send it again."""

    def __init__(self, text: str, message: MailMessage) -> None:
        super().__init__(text)
        self.message = message


@dataclass(frozen=True)
class OutgoingFile:
    """A file to attach: its name as the recipient sees it, and its bytes."""

    name: str
    data: bytes


Attachment = UploadedFile | OutgoingFile | MailAttachment


# --- the entry point ---------------------------------------------------------------------------


def send_mail(
    *,
    to: Contact,
    subject: str,
    body: str,
    user=None,
    account: MailAccount | None = None,
    reply_to: MailMessage | None = None,
    thread: MailThread | None = None,
    cc: Sequence[str] = (),
    attachments: Sequence[Attachment] = (),
    send_at: datetime | None = None,
    merge: dict | None = None,
    deal=None,
) -> MailMessage:
    """Write ``body`` (Markdown with merge fields) to ``to``, now or at ``send_at``.

    Returns the stored message: status ``sent`` (or ``outbox`` when no mail server is set up),
    or ``scheduled`` when ``send_at`` is given. Raises ValidationError for bad input (no
    address, a line break in the subject or an address, a template error, a refused file) —
    nothing is stored then — and SendError when the server refuses (the message is stored as
    ``failed``).

    Without ``send_at`` the SMTP conversation happens in this call. Inside a transaction that
    may still roll back (a mail.hooks listener, for one), pass ``send_at=timezone.now()``: the
    mail.send job is queued in the same transaction and sends only once it is committed."""
    account = account or default_account()
    values = {**templating.contact_fields(to, user), **(merge or {})}
    subject_text = _subject(templating.render(subject, values))
    text = templating.render(body, values)
    signature = signature_of(user)
    if signature.strip():
        text = text.rstrip() + SIGNATURE_SEPARATOR + templating.render(signature, values).strip()
    recipients = _recipients(to, cc)
    files = [_checked_file(item) for item in attachments]
    later = send_at is not None  # a time given, even a past one: through the mail.send job
    message = _store(
        to=to, subject=subject_text, text=text, user=user, account=account, reply_to=reply_to,
        thread=thread, recipients=recipients, files=files, send_at=send_at,
        deal=deal or (reply_to.deal if reply_to is not None else None),
    )  # fmt: skip
    if later:
        schedule(message, send_at, user=user)
        return message
    _transmit(message)
    if message.status == SendStatus.FAILED:
        raise SendError(message.send_error, message)
    return message


# --- choosing the account and the signature ----------------------------------------------------


def default_account() -> MailAccount | None:
    """The account mail is sent from when none is named: SOLOCRM_MAIL_SEND_ACCOUNT (an account
    name), else the first active account (by name) with an SMTP server; None: the business's
    mail settings (settings page) are used."""
    accounts = MailAccount.objects.exclude(smtp_host="")
    name = getattr(settings, "SOLOCRM_MAIL_SEND_ACCOUNT", "")
    if name and (named := accounts.filter(name=name).first()) is not None:
        return named
    return accounts.filter(active=True).order_by("name").first()


def can_compose() -> bool:
    """Whether the CRM can send (an account with SMTP, or a mail server in the settings);
    else the pages offer mailto: links."""
    return default_account() is not None or business_settings().mail_configured


def signature_of(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return MailSignature.objects.filter(user=user).values_list("body", flat=True).first() or ""


def save_signature(user, body: str) -> MailSignature:
    templating.compile_template(body)  # a broken merge field is refused now, not at send time
    signature, _created = MailSignature.objects.update_or_create(user=user, defaults={"body": body})
    return signature


# --- checking what was given -------------------------------------------------------------------


def _no_line_breaks(value: str, what: str) -> None:
    if "\r" in value or "\n" in value:
        message = _("The %(what)s contains a line break, which is not allowed in an e-mail header.")
        raise ValidationError(message % {"what": what})


def _subject(value: str) -> str:
    _no_line_breaks(value, _("subject"))
    value = value.strip()
    if not value:
        raise ValidationError(_("The subject is empty."))
    if len(value) > 300:
        raise ValidationError(_("The subject is longer than 300 characters."))
    return value


def check_address(address: str) -> str:
    """The address as stored and compared (identity.email_key); ValidationError when it is not
    one address (a line break, a comma, not an address at all)."""
    _no_line_breaks(address, _("address"))
    address = address.strip()
    try:
        validate_email(address)
    except ValidationError:
        message = _("“%(address)s” is not a valid e-mail address.") % {"address": address}
        raise ValidationError(message) from None
    return identity.email_key(address)


def _recipients(to: Contact, cc: Sequence[str]) -> tuple[str, list[str]]:
    if not to.email:
        name = to.full_name or _("This contact")
        raise ValidationError(_("%(name)s has no e-mail address.") % {"name": name})
    main = check_address(to.email)
    copies = [check_address(a) for a in cc if a and a.strip()]
    return main, [a for a in dict.fromkeys(copies) if a != main]


def _checked_file(item: Attachment) -> tuple[str, str, str, int]:
    """(name, content type, sha256, size) of a file kept under the mail attachments folder.
    New files follow the rules of every attachment (size limit, allowed types checked by
    content); a stored mail attachment (forwarding) is reused as it is."""
    if isinstance(item, MailAttachment):
        return item.filename, item.content_type, item.sha256, item.size
    limit = settings.SOLOCRM_MAX_ATTACHMENT_BYTES
    if isinstance(item, OutgoingFile):
        name, chunks, declared = item.name, [item.data], len(item.data)
    else:
        name, chunks, declared = item.name or "", item.chunks(), item.size
    name = safe_name(name)
    if declared is not None and declared > limit:
        raise ValidationError(f"{name}: {too_large_message()}")
    folder = attachment_folder()
    folder.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=folder, prefix=".upload-")
    temp = Path(temp_name)
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise ValidationError(f"{name}: {too_large_message()}")
                digest.update(chunk)
                handle.write(chunk)
        if size == 0:
            raise ValidationError(_("%(name)s: the file is empty.") % {"name": name})
        with temp.open("rb") as handle:
            head = handle.read(8192)
        try:
            kind = file_kind(name, head, temp)
        except AttachmentError as error:
            raise ValidationError(str(error)) from None
        sha256 = digest.hexdigest()
        final = folder / sha256[:2] / sha256
        if not final.exists():  # the same file attached twice is one file
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, final)
    finally:
        temp.unlink(missing_ok=True)
    return name, kind.content_type, sha256, size


# --- Markdown ----------------------------------------------------------------------------------

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["table", "strikethrough"])
URL_SCHEMES = {"http", "https", "mailto"}


def markdown_html(text: str) -> str:
    """The HTML part of ``text``: Markdown with raw HTML shown as text, then cleaned by nh3
    (no scripts, handlers or javascript: links, whatever markdown-it let through)."""
    return nh3.clean(_MARKDOWN.render(text), url_schemes=URL_SCHEMES, link_rel="noopener noreferrer")


def preview(
    *, to: Contact | None, subject: str, body: str, user=None, merge: dict | None = None
) -> dict[str, str]:
    """The merged subject, text and HTML as they would be sent (the compose page's preview);
    ValidationError for a template error."""
    values = {**templating.contact_fields(to, user), **(merge or {})}
    text = templating.render(body, values)
    signature = signature_of(user)
    if signature.strip():
        text = text.rstrip() + SIGNATURE_SEPARATOR + templating.render(signature, values).strip()
    return {"subject": templating.render(subject, values), "text": text, "html": markdown_html(text)}


# --- storing -----------------------------------------------------------------------------------


def _sender(account: MailAccount | None, user) -> tuple[str, str]:
    """(address, display name) of the sender."""
    config = business_settings()
    name = ""
    if user is not None and getattr(user, "is_authenticated", False):
        name = user.get_full_name()
    if account is not None:
        return account.email, name or config.business_name
    return config.from_email, name or config.business_name


def _msgid_domain(address: str) -> str:
    domain = address.rpartition("@")[2] or "solocrm.localhost"
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return "solocrm.localhost"


def _references(reply_to: MailMessage | None) -> tuple[str, str]:
    """(In-Reply-To, References) of a reply: the parent's id, after the parent's references."""
    if reply_to is None or not reply_to.message_id:
        return "", ""
    parent = f"<{reply_to.message_id}>"
    chain = parsing.message_ids(reply_to.references or "")
    chain = [c for c in chain if c != reply_to.message_id][-20:]  # a bounded header
    return parent, " ".join([*(f"<{c}>" for c in chain), parent])


def _thread_for(
    subject: str, reply_to: MailMessage | None, thread: MailThread | None, to: Contact, people: set[str], when
) -> MailThread:
    if reply_to is not None:
        thread = reply_to.thread
    if thread is None:
        return MailThread.objects.create(
            subject=subject,
            subject_key=parsing.subject_key(subject),
            participants_key=parsing.participants_key(people),
            contact=to,
            last_message_at=when,
        )
    return thread


@transaction.atomic
def _store(
    *, to, subject, text, user, account, reply_to, thread, recipients, files, send_at, deal
) -> MailMessage:
    main, copies = recipients
    address, display = _sender(account, user)
    message_id = parsing.normalise_message_id(make_msgid(domain=_msgid_domain(address)))
    in_reply_to, references = _references(reply_to)
    when = send_at or timezone.now()
    html, remote = parsing.sanitise_html(markdown_html(text))  # the stored copy, as synced mail
    message = MailMessage.objects.create(
        message_key="m:" + message_id,  # as the sync keys it: the Sent folder's copy is this one
        message_id=message_id,
        in_reply_to=parsing.normalise_message_id(in_reply_to),
        references=references,
        account=account,
        thread=_thread_for(subject, reply_to, thread, to, {main, *copies}, when),
        direction=Direction.OUT,
        from_address=identity.email_key(address),
        from_name=display[:200],
        to_addresses=[main],
        cc_addresses=copies,
        subject=subject,
        date=when,
        text=text,
        html=html,
        has_remote_images=remote,
        contact=to,
        deal=deal,
        status=SendStatus.SCHEDULED if send_at else SendStatus.SENDING,
        send_at=send_at,
        attempts=0 if send_at else 1,
        written_by=user if getattr(user, "is_authenticated", False) else None,
    )
    MailAttachment.objects.bulk_create(
        MailAttachment(message=message, filename=n, content_type=t, sha256=s, size=z) for n, t, s, z in files
    )
    return message


# --- sending -----------------------------------------------------------------------------------


def build(message: MailMessage) -> EmailMultiAlternatives:
    """The e-mail of a stored message, with its headers, both parts and its attachments."""
    sender = message.from_address
    if message.from_name:
        sender = formataddr((message.from_name, message.from_address))
    headers = {
        "Message-ID": f"<{message.message_id}>",
        "Date": formatdate(message.date.timestamp(), localtime=False),
    }
    if message.in_reply_to:
        headers["In-Reply-To"] = f"<{message.in_reply_to}>"
    if message.references:
        headers["References"] = message.references
    email = EmailMultiAlternatives(
        message.subject, message.text, sender, list(message.to_addresses), cc=list(message.cc_addresses),
        headers=headers,
    )  # fmt: skip
    email.attach_alternative(markdown_html(message.text), "text/html")
    for attachment in message.attachments.all():
        email.attach(attachment.filename, attachment_path(attachment).read_bytes(), attachment.content_type)
    return email


def _connection(account: MailAccount | None) -> BaseEmailBackend:
    if account is None or not account.smtp_host:
        return get_connection(fail_silently=False)  # the business's settings: SMTP or the outbox
    return SMTPBackend(
        host=account.smtp_host,
        port=account.smtp_port,
        username=account.smtp_user or None,
        password=account.smtp_password or None,
        use_tls=account.smtp_security == Security.STARTTLS,
        use_ssl=account.smtp_security == Security.SSL,
        timeout=getattr(settings, "EMAIL_TIMEOUT", None) or 30,
        fail_silently=False,
    )


def _retryable(error: Exception, connected: bool) -> bool:
    """The server did not take the message and said (or showed) it might later."""
    if not connected:
        return isinstance(error, OSError)  # refused, unreachable, timed out: nothing was sent
    return isinstance(error, smtplib.SMTPResponseException) and 400 <= error.smtp_code < 500


def _transmit(message: MailMessage) -> bool:
    """Send a message already marked ``sending``; record the outcome. True when a failure may
    be retried later."""
    account = message.account
    # Django's backend sends it when the account has no SMTP server: maybe only to the outbox
    outbox = (account is None or not account.smtp_host) and mail_goes_to_outbox()
    message.date = timezone.now()  # the Date header says when it left
    try:
        email = build(message)
    except OSError as error:  # an attachment's file is gone from the disk
        logger.error("mail %s: cannot build the message: %s", message.message_key, error)
        _failed(message, str(error))
        return False
    connection = _connection(account)
    connected = False
    try:
        connection.open()
        connected = True
        connection.send_messages([email])
    except (OSError, smtplib.SMTPException) as error:  # smtplib's errors are OSError
        logger.warning("mail %s: sending failed: %s", message.message_key, error)
        _failed(message, str(error) or error.__class__.__name__)
        return _retryable(error, connected)
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.close()
    _sent(message, len(email.message().as_bytes()), outbox)
    return False


def _failed(message: MailMessage, error: str) -> None:
    message.status, message.send_error = SendStatus.FAILED, error[:2000]
    MailMessage.objects.filter(pk=message.pk).update(status=message.status, send_error=message.send_error)


@transaction.atomic
def _sent(message: MailMessage, size: int, outbox: bool) -> None:
    now = message.date
    message.status = SendStatus.OUTBOX if outbox else SendStatus.SENT
    message.sent_at, message.size, message.send_error = now, min(size, 2**31 - 1), ""
    if not outbox:  # only mail that left is a response on the timeline (speed-to-lead)
        message.interaction = _timeline(message)
    message.save(update_fields=["status", "sent_at", "size", "send_error", "date", "interaction"])
    MailThread.objects.filter(pk=message.thread_id, last_message_at__lt=now).update(last_message_at=now)


def _timeline(message: MailMessage) -> Interaction | None:
    """One EMAIL_OUT entry per contact concerned, as the sync writes for sent mail it finds
    (speed-to-lead reads these): the recipient, then known contacts in cc."""
    ids = [message.contact_id] if message.contact_id else []
    ids += [i for _key, i in identity.ids_by_email(message.cc_addresses)]
    ids = list(dict.fromkeys(ids))[:MAX_CONTACTS_PER_MESSAGE]
    companies = dict(Contact.objects.filter(pk__in=ids).values_list("pk", "company_id"))
    entries = [
        Interaction(
            kind=InteractionKind.EMAIL_OUT,
            occurred_at=message.date,
            subject=message.subject,
            body=message.text[:INTERACTION_TEXT],
            contact_id=contact_id,
            company_id=companies[contact_id],
            author=message.written_by,
            deal=message.deal if contact_id == message.contact_id else None,
            external_id=f"mail:{message.uuid}",
            data={"mail_message": str(message.uuid), "from": message.from_address, "auth_failed": False},
        )
        for contact_id in ids
        if contact_id in companies
    ]
    Interaction.objects.bulk_create(entries)
    return entries[0] if entries else None


# --- later: the mail.send job ------------------------------------------------------------------


def _can_defer() -> bool:
    return bool(getattr(task_backends["default"], "supports_defer", False))


def schedule(message: MailMessage, when: datetime, *, user=None) -> Job:
    """Queue the job that sends ``message`` at ``when``. With a backend that cannot wait (the
    immediate one of the tests and SOLOCRM_JOBS_INLINE) a future job stays queued untouched."""
    kind = kind_of(send_job)
    job = Job.objects.create(
        kind=kind.name,
        handler=kind.path,
        params={"message": str(message.uuid)},
        title=(_("E-mail: %(subject)s") % {"subject": message.subject})[:200],
        created_by=user if getattr(user, "is_authenticated", False) else None,
        time_limit=kind.time_limit,
    )
    if when <= timezone.now():
        job_services.dispatch(job)
    elif _can_defer():
        job_services.dispatch(job, run_after=when)
    return job


def deliver(message: MailMessage) -> str:
    """Send a scheduled message if nobody has; what happened, for the job's summary."""
    if message.status == SendStatus.SENDING:  # a crash stopped an earlier attempt mid-way
        MailMessage.objects.filter(pk=message.pk, status=SendStatus.SENDING).update(
            status=SendStatus.UNKNOWN,
            send_error=_("Interrupted while sending: it may have gone out. Check your Sent folder."),
        )
        return "unknown"
    if message.status != SendStatus.SCHEDULED:
        return "skipped"
    if message.send_at and message.send_at > timezone.now() + timedelta(seconds=30):
        return "not due"
    claimed = MailMessage.objects.filter(pk=message.pk, status=SendStatus.SCHEDULED).update(
        status=SendStatus.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now()
    )  # committed before the server is contacted: a second runner finds "sending" and stops
    if not claimed:
        return "skipped"
    message.refresh_from_db()
    retry = _transmit(message)
    if message.status == SendStatus.FAILED and retry and message.attempts < MAX_ATTEMPTS:
        when = timezone.now() + timedelta(seconds=RETRY_AFTER[min(message.attempts, len(RETRY_AFTER)) - 1])
        MailMessage.objects.filter(pk=message.pk).update(status=SendStatus.SCHEDULED, send_at=when)
        schedule(message, when)
        return "retry"
    return message.status


@job_kind(KIND, limit=2, rerun_after_crash=True, time_limit=300)
def send_job(job: Job, progress: job_services.Progress) -> dict[str, Any]:
    message = MailMessage.objects.filter(uuid=(job.params or {}).get("message")).first()
    if message is None:
        raise job_services.JobFailed(_("The e-mail no longer exists."))
    outcome = deliver(message)
    message.refresh_from_db()
    if outcome == SendStatus.FAILED:
        raise job_services.JobFailed(message.send_error)
    return {"outcome": outcome, "message": message.get_status_display() or outcome}


def send_again(message: MailMessage, *, user=None) -> MailMessage:
    """Queue a message that failed (or was interrupted) to be sent now; ValidationError for one
    already sent, scheduled or sending."""
    again = MailMessage.objects.filter(
        Q(status__in=[SendStatus.FAILED, SendStatus.UNKNOWN, SendStatus.CANCELLED])
        | Q(status=SendStatus.SENDING, updated_at__lt=timezone.now() - STALE_SENDING),
        pk=message.pk,
    ).update(status=SendStatus.SCHEDULED, send_at=timezone.now(), updated_at=timezone.now())
    if not again:
        raise ValidationError(_("Only an e-mail that was not sent can be sent again."))
    message.refresh_from_db()
    schedule(message, message.send_at, user=user)
    return message


def cancel(message: MailMessage) -> MailMessage:
    """Stop a scheduled message; ValidationError when it is already going or gone."""
    if not MailMessage.objects.filter(pk=message.pk, status=SendStatus.SCHEDULED).update(
        status=SendStatus.CANCELLED
    ):
        raise ValidationError(_("Only a scheduled e-mail can be cancelled."))
    message.refresh_from_db()
    return message


def due_unqueued(now: datetime | None = None) -> int:
    """Queue scheduled messages that are due and have no job waiting (a backend that cannot
    wait, a lost task): the worker's clock may call this; returns how many."""
    now = now or timezone.now()
    mark_interrupted()
    waiting = set(Job.objects.filter(kind=KIND, status__in=ACTIVE).values_list("params__message", flat=True))
    count = 0
    for message in MailMessage.objects.filter(status=SendStatus.SCHEDULED, send_at__lte=now):
        if str(message.uuid) not in waiting:
            schedule(message, now)
            count += 1
    return count


__all__ = ["OutgoingFile", "SendError", "default_account", "deliver", "preview", "schedule", "send_mail"]


# --- what the compose page, the API and the command line share ---------------------------------


def find_recipient(value: str) -> Contact:
    """The contact ``value`` names: a public id, or an e-mail address (primary or other,
    through the identity rules); ValidationError when none does."""
    value = (value or "").strip()
    try:
        key = uuid.UUID(value)
    except ValueError:
        key = None
    if key is not None:
        found = Contact.objects.select_related("company").filter(uuid=key).first()
    else:
        _no_line_breaks(value, _("address"))
        found, _reason = identity.find_contact(email=value) if "@" in value else (None, "")
    if found is None:
        raise ValidationError(
            _("No contact has the address “%(value)s”. Add the contact first.") % {"value": value}
        )
    return found


def _quoted(message: MailMessage) -> str:
    """The parent's text as a Markdown quote, headed "On <date>, <sender> wrote:"."""
    when = timezone.localtime(message.date).strftime("%Y-%m-%d %H:%M")
    head = _("On %(date)s, %(sender)s wrote:") % {
        "date": when,
        "sender": message.from_name or message.from_address,
    }
    lines = (message.text or "").strip().splitlines()[:200]
    return "\n\n" + head + "\n" + "\n".join("> " + line for line in lines)


def _prefixed(prefix: str, subject: str) -> str:
    stripped = subject.strip()
    if parsing.subject_key(stripped) != stripped.casefold() and stripped.lower().startswith(prefix.lower()):
        return stripped  # already "Re: …"
    return f"{prefix} {stripped}".strip()[:300]


def reply_defaults(message: MailMessage) -> dict[str, str]:
    """Subject and body a reply to ``message`` starts with; the recipient is its contact."""
    return {"subject": _prefixed("Re:", message.subject), "body": _quoted(message)}


def forward_defaults(message: MailMessage) -> dict[str, str]:
    """Subject and body of a forward: the original's headers and text, quoted."""
    when = timezone.localtime(message.date).strftime("%Y-%m-%d %H:%M")
    lines = [
        "---------- " + _("Forwarded message") + " ----------",
        _("From: %(value)s") % {"value": formataddr((message.from_name, message.from_address))},
        _("Date: %(value)s") % {"value": when},
        _("Subject: %(value)s") % {"value": message.subject},
        _("To: %(value)s") % {"value": ", ".join(message.to_addresses)},
        "",
        (message.text or "").strip(),
    ]
    return {
        "subject": _prefixed("Fwd:", message.subject),
        "body": "\n\n" + "\n".join(lines),
    }


def written_here():
    """Messages written in solocrm (any status), newest first, with what their lists show."""
    return (
        MailMessage.objects.exclude(status="")
        .select_related("contact", "account", "written_by")
        .order_by("-created_at", "-id")
    )


def mark_interrupted(older_than: timedelta = STALE_SENDING) -> int:
    """Messages left "sending" by a crash of a web request (no job to look after them) become
    "unknown" after a while, so the outbox page says what is known."""
    limit = timezone.now() - older_than
    return MailMessage.objects.filter(status=SendStatus.SENDING, updated_at__lt=limit).update(
        status=SendStatus.UNKNOWN,
        send_error=_("Interrupted while sending: it may have gone out. Check your Sent folder."),
    )
