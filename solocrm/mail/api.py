"""REST endpoints for synced e-mail: ``GET /api/v1/messages`` (filter by contact, thread,
direction) and ``GET /api/v1/messages/{uuid}`` (roles checked as everywhere in the API: GET
needs the view right). The HTML is the sanitised copy, remote images still blocked
(``data-remote-src``)."""

import uuid
from datetime import date, datetime
from typing import ClassVar, Literal

from django.db.models import Q
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from solocrm.lib import access
from solocrm.lib.api import Pagination, ref, responses
from solocrm.lib.filters import ListFilter, date_range, every_word

from . import services
from .models import Direction, MailMessage

router = Router()


class MessageFilter(ListFilter):
    orderings: ClassVar[dict[str, tuple[str, ...]]] = {"-date": ("-date", "-id"), "date": ("date", "id")}
    default_ordering: ClassVar[str] = "-date"

    q: str | None = Field(None, max_length=200, description="Search in subject and text")
    contact: uuid.UUID | None = Field(None, description="Contact (public id)")
    thread: uuid.UUID | None = Field(None, description="Conversation (public id)")
    direction: Direction | None = Field(None, description="in: received; out: sent")
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
    return services.messages().prefetch_related("attachments")


@router.get("/messages", response=responses({200: list[MailMessageOut]}), tags=["messages"])
@paginate(Pagination)
def list_messages(request: HttpRequest, filters: Query[MessageFilter]):
    """Synced e-mail, newest first; ``contact`` gives one customer's conversation."""
    return filters.apply(_messages())


@router.get("/messages/{uuid}", response=responses({200: MailMessageOut}), tags=["messages"])
def get_message(request: HttpRequest, uuid: str):
    return access.get_for(request.user, _messages(), uuid)
