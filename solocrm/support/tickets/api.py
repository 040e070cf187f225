"""``/api/v1/tickets``: the ticket queue, one ticket with its conversation, changes (status,
priority, assignee, tags, links; 409 on a stale ``version``), replies, internal notes, merge.
Roles follow the method (GET view, POST/PATCH edit); the work is done by services.py."""

import uuid
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import paginate
from ninja.responses import Status

from solocrm.contacts.models import Contact
from solocrm.lib import access
from solocrm.lib.api import LongText, Pagination, RequiredText, TagName, WriteSchema, ref, resolve, responses
from solocrm.lib.roles import Action
from solocrm.sales.models import Deal, Order

from . import services
from .choices import Priority, TicketSource, TicketStatus
from .filters import TicketFilter
from .models import Ticket, TicketEvent

router = Router(tags=["tickets"])


class TicketOut(Schema):
    uuid: uuid.UUID
    number: int
    subject: str
    status: str = Field(description="new, open, waiting (on the customer), solved or closed")
    priority: str
    source: str = Field(description="email, form, manual or api")
    contact: uuid.UUID | None
    contact_name: str
    assignee: str | None = Field(description="Username")
    tags: list[str]
    deal: uuid.UUID | None
    order: uuid.UUID | None
    first_response_due: datetime | None
    first_responded_at: datetime | None
    resolution_due: datetime | None
    next_due: datetime | None = Field(description="The next SLA deadline; null while the ticket rests")
    sla_state: str = Field(description="breached, due_soon, on_track or paused")
    minutes_left: int | None = Field(description="Business minutes to the next deadline (negative: late)")
    solved_at: datetime | None
    closed_at: datetime | None
    merged_into: uuid.UUID | None
    version: int = Field(description="Send it back with a change: a stale one gets 409")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_contact(obj: Ticket) -> uuid.UUID | None:
        return ref(obj.contact)

    @staticmethod
    def resolve_contact_name(obj: Ticket) -> str:
        return str(obj.contact) if obj.contact else ""

    @staticmethod
    def resolve_assignee(obj: Ticket) -> str | None:
        return obj.assignee.get_username() if obj.assignee else None

    @staticmethod
    def resolve_tags(obj: Ticket) -> list[str]:
        return [tag.name for tag in obj.tags.all()]

    @staticmethod
    def resolve_deal(obj: Ticket) -> uuid.UUID | None:
        return ref(obj.deal)

    @staticmethod
    def resolve_order(obj: Ticket) -> uuid.UUID | None:
        return ref(obj.order)

    @staticmethod
    def resolve_sla_state(obj: Ticket) -> str:
        return services.sla_state(obj)

    @staticmethod
    def resolve_minutes_left(obj: Ticket) -> int | None:
        left = services.minutes_left(obj)
        return None if left is None else round(left)

    @staticmethod
    def resolve_merged_into(obj: Ticket) -> uuid.UUID | None:
        return ref(obj.merged_into)


class EventOut(Schema):
    kind: str = Field(
        description="customer_reply, agent_reply, note, status, priority, assign, tags, subject, "
        "merge, link, csat"
    )
    author: str | None
    body: str
    message: uuid.UUID | None = Field(description="The e-mail (GET /api/v1/messages/{uuid})")
    data: dict[str, Any]
    created_at: datetime

    @staticmethod
    def resolve_author(obj: TicketEvent) -> str | None:
        return obj.author.get_username() if obj.author else None

    @staticmethod
    def resolve_message(obj: TicketEvent) -> uuid.UUID | None:
        return ref(obj.message)


class TicketDetailOut(TicketOut):
    events: list[EventOut] = Field(description="The conversation, notes and changes, oldest first")

    @staticmethod
    def resolve_events(obj: Ticket) -> list[TicketEvent]:
        return list(obj.events.select_related("author", "message").order_by("created_at", "id"))


class TicketIn(WriteSchema):
    contact: uuid.UUID = Field(description="The customer (public id)")
    subject: RequiredText(300)
    body: LongText = Field("", description="The customer's question")
    priority: Priority = Priority.NORMAL
    assignee: str | None = Field(None, max_length=150, description="Username (owner or assistant)")
    tags: list[TagName] = Field(default_factory=list, max_length=20)


class TicketPatch(WriteSchema):
    version: int | None = Field(None, description="The version you loaded: a stale one gets 409")
    subject: RequiredText(300) | None = None
    status: TicketStatus | None = None
    priority: Priority | None = None
    assignee: str | None = Field(None, max_length=150, description="Username; empty string unassigns")
    tags: list[TagName] | None = Field(None, max_length=20, description="The full list of tags")
    deal: uuid.UUID | None = Field(None, description="Link a deal (public id); null unlinks")
    order: uuid.UUID | None = Field(None, description="Link an order (public id); null unlinks")


class ReplyIn(WriteSchema):
    body: RequiredText(100_000)
    status: TicketStatus | None = Field(
        TicketStatus.WAITING, description="The status after the reply (default: waiting on the customer)"
    )
    version: int | None = None


class NoteIn(WriteSchema):
    body: RequiredText(100_000)
    version: int | None = None


class MergeIn(WriteSchema):
    into: uuid.UUID = Field(description="The ticket this one is merged into (public id)")
    version: int | None = None


def _tickets() -> models.QuerySet:
    return Ticket.objects.select_related(
        "contact", "assignee", "deal", "order", "sla_policy", "merged_into"
    ).prefetch_related("tags")


def _user(username: str | None, *loc: str):
    if not username:
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NinjaValidationError(
            [
                {
                    "loc": ["body", "payload", *loc],
                    "msg": _("no active user with this username"),
                    "type": "value_error",
                }
            ]
        )
    return user


@router.get("/tickets", response=responses({200: list[TicketOut]}))
@paginate(Pagination)
def list_tickets(request: HttpRequest, filters: Query[TicketFilter]):
    """The queue (the page's filters): by default the next deadline first."""
    return filters.apply(_tickets())


@router.post("/tickets", response=responses({201: TicketDetailOut}))
def create_ticket(request: HttpRequest, payload: TicketIn):
    """Open a ticket for a contact (source "api"); its SLA clocks start now."""
    contact = resolve(request.user, Contact, payload.contact, "contact")
    assignee = _user(payload.assignee, "assignee")
    ticket = services.create_ticket(
        contact=contact,
        subject=payload.subject,
        body=payload.body,
        source=TicketSource.API,
        user=request.user,
        priority=payload.priority,
    )
    if assignee is not None or payload.tags:
        changes: dict[str, Any] = {"tags": payload.tags} if payload.tags else {}
        if assignee is not None:
            changes["assignee"] = assignee
        services.update_ticket(ticket, user=request.user, **changes)
    return Status(201, _tickets().get(pk=ticket.pk))


@router.get("/tickets/{uuid}", response=responses({200: TicketDetailOut}))
def get_ticket(request: HttpRequest, uuid: str):
    return access.get_for(request.user, _tickets(), uuid)


@router.patch("/tickets/{uuid}", response=responses({200: TicketOut}))
def update_ticket(request: HttpRequest, uuid: str, payload: TicketPatch):
    """Change status, priority, assignee, tags, subject or the linked deal/order. With
    ``version``, a ticket changed since is refused with 409 and left alone."""
    ticket = access.get_for(request.user, _tickets(), uuid, Action.EDIT)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version", None)
    links = {name: data.pop(name) for name in ("deal", "order") if name in data}
    for name in ("status", "priority", "subject", "tags"):
        if data.get(name) is None:
            data.pop(name, None)
    if "assignee" in data:
        data["assignee"] = _user(data["assignee"], "assignee")
    if data:
        ticket = services.update_ticket(ticket, user=request.user, version=version, **data)
        version = None if version is None else ticket.version
    if links:
        resolved = {
            name: resolve(request.user, model, links[name], name)
            for name, model in (("deal", Deal), ("order", Order))
            if name in links
        }
        services.link(ticket, user=request.user, version=version, **resolved)
    return _tickets().get(pk=ticket.pk)


@router.post("/tickets/{uuid}/replies", response=responses({201: EventOut}))
def reply(request: HttpRequest, uuid: str, payload: ReplyIn):
    """E-mail a reply to the customer (from the support mailbox) and record it."""
    ticket = access.get_for(request.user, _tickets(), uuid, Action.EDIT)
    event = services.reply(
        ticket, payload.body, user=request.user, version=payload.version, status=payload.status
    )
    return Status(201, event)


@router.post("/tickets/{uuid}/notes", response=responses({201: EventOut}))
def add_note(request: HttpRequest, uuid: str, payload: NoteIn):
    """An internal note (never sent)."""
    ticket = access.get_for(request.user, _tickets(), uuid, Action.EDIT)
    return Status(201, services.add_note(ticket, payload.body, user=request.user, version=payload.version))


@router.post("/tickets/{uuid}/merge", response=responses({200: TicketOut}))
def merge(request: HttpRequest, uuid: str, payload: MergeIn):
    """Merge this ticket into ``into``: the answer is the ticket merged into."""
    source = access.get_for(request.user, _tickets(), uuid, Action.EDIT)
    target = resolve(request.user, Ticket, payload.into, "into")
    merged = services.merge_tickets(source, target, user=request.user, version=payload.version)
    return _tickets().get(pk=merged.pk)
