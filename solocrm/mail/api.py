"""REST endpoints for synced e-mail: ``GET /api/v1/messages`` (filter by contact, thread,
direction) and ``GET /api/v1/messages/{uuid}`` (roles checked as everywhere in the API: GET
needs the view right). The HTML is the sanitised copy, remote images still blocked
(``data-remote-src``)."""

import base64
import binascii
import uuid
from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import paginate
from ninja.responses import Status

from solocrm.lib import access
from solocrm.lib.api import ErrorOut, Pagination, WriteSchema, needs, ref, resolve, responses
from solocrm.lib.filters import ListFilter, date_range, every_word
from solocrm.sales.deals.models import Deal

from . import outgoing, services, templating
from .models import Direction, MailAccount, MailMessage, MailTemplate, MailThread, SendStatus

router = Router()


class MessageFilter(ListFilter):
    orderings: ClassVar[dict[str, tuple[str, ...]]] = {"-date": ("-date", "-id"), "date": ("date", "id")}
    default_ordering: ClassVar[str] = "-date"

    q: str | None = Field(None, max_length=200, description="Search in subject and text")
    contact: uuid.UUID | None = Field(None, description="Contact (public id)")
    thread: uuid.UUID | None = Field(None, description="Conversation (public id)")
    direction: Direction | None = Field(None, description="in: received; out: sent")
    status: SendStatus | None = Field(None, description="Only mail written in solocrm with this status")
    after: date | None = Field(None, description="Sent on or after this day")
    before: date | None = Field(None, description="Sent on or before this day")
    ordering: Literal["-date", "date"] | None = None

    def filter_q(self, value: str | None) -> Q:
        return every_word(value, "subject__icontains", "text__icontains")

    def filter_contact(self, value: uuid.UUID | None) -> Q:
        return Q(contact__uuid=value) if value else Q()

    def filter_thread(self, value: uuid.UUID | None) -> Q:
        return Q(thread__uuid=value) if value else Q()

    def filter_direction(self, value: str | None) -> Q:
        return Q(direction=value) if value else Q()

    def filter_status(self, value: str | None) -> Q:
        return Q(status=value) if value else Q()

    def filter_after(self, value: date | None) -> Q:
        return date_range("date", value, None)

    def filter_before(self, value: date | None) -> Q:
        return date_range("date", None, value)


class MailAttachmentOut(Schema):
    uuid: uuid.UUID
    filename: str
    content_type: str
    size: int


class MailMessageOut(Schema):
    uuid: uuid.UUID
    thread: uuid.UUID
    contact: uuid.UUID | None
    direction: str
    message_id: str
    in_reply_to: str
    from_address: str
    from_name: str
    to: list[str] = Field(validation_alias="to_addresses")
    cc: list[str] = Field(validation_alias="cc_addresses")
    subject: str
    date: datetime
    text: str
    html: str = Field(description="Sanitised; remote images blocked (their URL in data-remote-src)")
    has_remote_images: bool
    auth_failed: bool = Field(description="The receiving server reported a DMARC failure: maybe forged")
    size: int
    attachments: list[MailAttachmentOut]
    status: str = Field(
        description="Mail written in solocrm: scheduled, sending, sent, outbox, failed, unknown, "
        "cancelled ('' for synced mail); see docs/mail.md"
    )
    send_at: datetime | None
    sent_at: datetime | None
    send_error: str
    deal: uuid.UUID | None

    @staticmethod
    def resolve_deal(obj: MailMessage) -> uuid.UUID | None:
        return ref(obj.deal)

    @staticmethod
    def resolve_thread(obj: MailMessage) -> uuid.UUID:
        return obj.thread.uuid

    @staticmethod
    def resolve_contact(obj: MailMessage) -> uuid.UUID | None:
        return ref(obj.contact)

    @staticmethod
    def resolve_attachments(obj: MailMessage) -> list:
        return list(obj.attachments.all())


def _messages():
    return services.messages().select_related("deal").prefetch_related("attachments")


@router.get("/messages", response=responses({200: list[MailMessageOut]}), tags=["messages"])
@paginate(Pagination)
def list_messages(request: HttpRequest, filters: Query[MessageFilter]):
    """Synced e-mail, newest first; ``contact`` gives one customer's conversation."""
    return filters.apply(_messages())


@router.get("/messages/{uuid}", response=responses({200: MailMessageOut}), tags=["messages"])
def get_message(request: HttpRequest, uuid: str):
    return access.get_for(request.user, _messages(), uuid)


# --- writing: POST /messages (mail/outgoing.py) ------------------------------------------------


class AttachmentIn(WriteSchema):
    filename: str = Field(min_length=1, max_length=255)
    content: str = Field(description="The file, base64-encoded", max_length=40_000_000)


class MessageIn(WriteSchema):
    to: str = Field(
        min_length=1, max_length=254, description="The contact: its public id or one of its e-mail addresses"
    )
    subject: str | None = Field(
        None, max_length=300, description="Merge fields allowed; default: the template's"
    )
    body: str | None = Field(
        None, max_length=100_000, description="Markdown with merge fields; default: the template's"
    )
    template: str | None = Field(None, max_length=100, description="A template's name or public id")
    cc: list[Annotated[str, Field(max_length=254)]] = Field(default_factory=list, max_length=20)
    reply_to: uuid.UUID | None = Field(None, description="The message this answers (threads it)")
    thread: uuid.UUID | None = Field(None, description="The conversation to add it to")
    deal: uuid.UUID | None = Field(None, description="The deal it is about")
    account: uuid.UUID | None = Field(None, description="Send from this account (default: docs/mail.md)")
    send_at: datetime | None = Field(None, description="Send later, at this time (with a time zone)")
    merge: dict[Annotated[str, Field(max_length=60)], Annotated[str, Field(max_length=2000)]] = Field(
        default_factory=dict, max_length=50, description="Extra merge values"
    )
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)


def _template(value: str | None) -> MailTemplate | None:
    if not value:
        return None
    found = MailTemplate.objects.filter(name=value).first()
    if found is None:
        try:
            found = MailTemplate.objects.filter(uuid=uuid.UUID(value)).first()
        except ValueError:
            found = None
    if found is None:
        raise NinjaValidationError(
            [
                {
                    "loc": ["body", "payload", "template"],
                    "msg": _("no template with this name or id"),
                    "type": "value_error",
                }
            ]
        )
    return found


def _files(payload: MessageIn) -> list[outgoing.OutgoingFile]:
    files = []
    for index, item in enumerate(payload.attachments):
        try:
            data = base64.b64decode(item.content, validate=True)
        except (binascii.Error, ValueError):
            raise NinjaValidationError(
                [
                    {
                        "loc": ["body", "payload", "attachments", index, "content"],
                        "msg": _("not base64"),
                        "type": "value_error",
                    }
                ]
            ) from None
        files.append(outgoing.OutgoingFile(item.filename, data))
    return files


@router.post("/messages", response=responses({201: MailMessageOut, 502: ErrorOut}), tags=["messages"])
def send_message(request: HttpRequest, payload: MessageIn):
    """Write an e-mail to a contact: now, or later with ``send_at``. Answers the stored message
    (status ``sent``, ``outbox`` or ``scheduled``); 502 when the server refused it (it is kept
    with status ``failed``)."""
    template = _template(payload.template)
    subject = payload.subject if payload.subject is not None else (template.subject if template else "")
    body = payload.body if payload.body is not None else (template.body if template else "")
    if not body.strip():
        raise HttpError(422, _("Give a body or a template."))
    try:
        contact = outgoing.find_recipient(payload.to)
    except DjangoValidationError as error:
        raise NinjaValidationError(
            [{"loc": ["body", "payload", "to"], "msg": " ".join(error.messages), "type": "value_error"}]
        ) from None
    try:
        message = outgoing.send_mail(
            to=contact,
            subject=subject,
            body=body,
            user=request.user,
            account=resolve(request.user, MailAccount, payload.account, "account"),
            reply_to=resolve(request.user, MailMessage, payload.reply_to, "reply_to"),
            thread=resolve(request.user, MailThread, payload.thread, "thread"),
            cc=payload.cc,
            attachments=_files(payload),
            send_at=payload.send_at,
            merge=payload.merge,
            deal=resolve(request.user, Deal, payload.deal, "deal"),
        )
    except outgoing.SendError as error:
        return Status(502, {"detail": _("The e-mail was not sent: %(error)s") % {"error": error}})
    return Status(201, _messages().get(pk=message.pk))


class MailTemplateOut(Schema):
    uuid: uuid.UUID
    name: str
    subject: str
    body: str


@router.get("/mail-templates", response=responses({200: list[MailTemplateOut]}), tags=["messages"])
@paginate(Pagination)
def list_templates(request: HttpRequest):
    """The e-mail templates, by name."""
    return templating.templates()


# === Mail accounts: /mail-accounts (owner only; passwords write-only) ===========================
# (kept in one block: the sending feature adds its own endpoints above)


from solocrm.lib.api import RequiredText, WriteSchema  # noqa: E402
from solocrm.lib.roles import Action  # noqa: E402

from .models import Security  # noqa: E402


class MailAccountOut(Schema):
    uuid: uuid.UUID
    name: str
    email: str
    imap_host: str
    imap_port: int
    imap_security: str
    imap_user: str
    imap_password_stored: bool = Field(description="An IMAP password is stored (it is never returned)")
    folders: list[str] = Field(description="Empty: the inbox and the server's Sent folder")
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_user: str
    smtp_password_stored: bool = Field(description="An SMTP password is stored (it is never returned)")
    is_support: bool
    create_contacts_from_new_senders: bool
    active: bool
    poll_minutes: int
    last_sync_at: datetime | None
    last_error: str

    @staticmethod
    def resolve_imap_password_stored(obj: MailAccount) -> bool:
        return bool(obj.imap_password_encrypted)

    @staticmethod
    def resolve_smtp_password_stored(obj: MailAccount) -> bool:
        return bool(obj.smtp_password_encrypted)


Port = Field(None, ge=1, le=65535)


class MailAccountPatch(WriteSchema):
    name: RequiredText(100) | None = None
    email: str | None = Field(None, max_length=254)
    imap_host: str | None = Field(None, max_length=255)
    imap_port: int | None = Port
    imap_security: Security | None = None
    imap_user: str | None = Field(None, max_length=255)
    imap_password: str | None = Field(
        None, max_length=500, description="Write-only; blank: keep the stored one"
    )
    folders: list[str] | None = Field(None, max_length=50)
    smtp_host: str | None = Field(None, max_length=255)
    smtp_port: int | None = Port
    smtp_security: Security | None = None
    smtp_user: str | None = Field(None, max_length=255)
    smtp_password: str | None = Field(
        None, max_length=500, description="Write-only; blank: keep the stored one"
    )
    is_support: bool | None = None
    create_contacts_from_new_senders: bool | None = None
    active: bool | None = None
    poll_minutes: int | None = Field(None, ge=1, le=60)


class MailAccountIn(MailAccountPatch):
    name: RequiredText(100)
    email: RequiredText(254)
    imap_host: RequiredText(255)
    imap_user: RequiredText(255)
    imap_password: RequiredText(500) = Field(description="Write-only")


def _account_data(payload: MailAccountPatch) -> dict:
    data = payload.model_dump(exclude_unset=True)
    return {k: (v.value if isinstance(v, Security) else v) for k, v in data.items() if v is not None}


def _owner(request: HttpRequest) -> None:
    access.require(request.user, Action.ADMIN)


@router.get("/mail-accounts", response=responses({200: list[MailAccountOut]}), tags=["mail accounts"])
@needs(Action.ADMIN)
@paginate(Pagination)
def list_mail_accounts(request: HttpRequest):
    """The mail accounts (owner only). Passwords are never returned."""
    _owner(request)
    return services.accounts()


@router.get("/mail-accounts/{uuid}", response=responses({200: MailAccountOut}), tags=["mail accounts"])
@needs(Action.ADMIN)
def get_mail_account(request: HttpRequest, uuid: str):
    return access.get_for(request.user, MailAccount, uuid, Action.ADMIN)


@router.post("/mail-accounts", response=responses({201: MailAccountOut}), tags=["mail accounts"])
@needs(Action.ADMIN)
def create_mail_account(request: HttpRequest, payload: MailAccountIn):
    """Add a mail account (owner only); poll every minute unless told otherwise."""
    _owner(request)
    data = {"poll_minutes": 1, **_account_data(payload)}
    if MailAccount.objects.filter(name=data["name"]).exists():
        raise HttpError(409, _("Another mail account has this name."))
    return Status(201, services.create_account(data, actor=request.user))


@router.patch("/mail-accounts/{uuid}", response=responses({200: MailAccountOut}), tags=["mail accounts"])
@needs(Action.ADMIN)
def patch_mail_account(request: HttpRequest, uuid: str, payload: MailAccountPatch):
    """Change some fields; a blank or missing password keeps the stored one."""
    account = access.get_for(request.user, MailAccount, uuid, Action.ADMIN)
    data = _account_data(payload)
    if "name" in data and MailAccount.objects.filter(name=data["name"]).exclude(pk=account.pk).exists():
        raise HttpError(409, _("Another mail account has this name."))
    return services.update_account(account, data, actor=request.user)


@router.delete("/mail-accounts/{uuid}", response=responses({204: None}), tags=["mail accounts"])
@needs(Action.ADMIN)
def delete_mail_account(request: HttpRequest, uuid: str):
    """Delete the account; the e-mails already stored stay (timelines, conversations)."""
    account = access.get_for(request.user, MailAccount, uuid, Action.ADMIN)
    services.delete_account(account, actor=request.user)
    return Status(204, None)
