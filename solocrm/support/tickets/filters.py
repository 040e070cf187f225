"""The one filter definition of the ticket queue (the queue page, ``GET /api/v1/tickets`` and
``solocrm tickets export``)."""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone
from pydantic import Field

from solocrm.lib.filters import ListFilter, every_word

from .choices import DONE, Priority, TicketStatus
from .services import DUE_SOON

SlaState = Literal["breached", "due_soon", "on_track", "paused"]
StatusFilter = Literal["new", "open", "waiting", "solved", "closed", "active", "unsolved"]

PRIORITY_RANK = Case(
    *(When(priority=p, then=Value(rank)) for rank, p in enumerate(reversed(Priority.values))),
    default=Value(9),
    output_field=IntegerField(),
)


def sla_condition(state: str, now=None) -> Q:
    """Tickets in an SLA state: ``breached`` (past the next deadline), ``due_soon`` (within
    DUE_SOON of it), ``on_track`` (further), ``paused`` (resting: waiting, solved, closed)."""
    now = now or timezone.now()
    if state == "breached":
        return Q(next_due__lt=now)
    if state == "due_soon":
        return Q(next_due__gte=now, next_due__lt=now + DUE_SOON)
    if state == "on_track":
        return Q(next_due__gte=now + DUE_SOON)
    return Q(next_due__isnull=True)


class TicketFilter(ListFilter):
    """The ticket queue: by status (``active``: new or open; ``unsolved``: also waiting),
    priority, assignee, tag, SLA state, contact, and a search by subject, number or contact."""

    orderings: ClassVar[dict[str, tuple]] = {
        "due": (F("next_due").asc(nulls_last=True), "-created_at", "-id"),
        "-created": ("-created_at", "-id"),
        "created": ("created_at", "id"),
        "priority": (PRIORITY_RANK, F("next_due").asc(nulls_last=True), "-id"),
        "-updated": ("-updated_at", "-id"),
        "number": ("number",),
        "-number": ("-number",),
    }
    default_ordering = "due"

    q: str | None = Field(
        None, max_length=200, description="Subject, #number, or the contact's name or e-mail"
    )
    status: StatusFilter | None = Field(
        None,
        description="new, open, waiting, solved, closed; active (new or open); unsolved (not solved/closed)",
    )
    priority: Priority | None = Field(None, description="low, normal, high or urgent")
    assignee: str | None = Field(
        None, max_length=150, description="Username of the assignee; 'none' for unassigned"
    )
    tag: str | None = Field(None, max_length=60, description="Tag name (any case)")
    sla: SlaState | None = Field(None, description="breached, due_soon, on_track or paused")
    contact: UUID | None = Field(None, description="Contact (public id)")
    ordering: Literal["due", "-created", "created", "priority", "-updated", "number", "-number"] | None = None

    def filter_q(self, value: str | None) -> Q:
        if not value:
            return Q()
        text = value.strip().lstrip("#")
        by_number = Q(number=int(text)) if text.isdigit() and len(text) < 10 else Q(pk__in=[])
        words = every_word(
            value,
            "subject__icontains",
            "contact__first_name__icontains",
            "contact__last_name__icontains",
            "contact__email__icontains",
        )
        return by_number | words

    def filter_status(self, value: str | None) -> Q:
        if value is None:
            return Q()
        if value == "active":
            return Q(status__in=[TicketStatus.NEW, TicketStatus.OPEN])
        if value == "unsolved":
            return ~Q(status__in=DONE)
        return Q(status=value)

    def filter_priority(self, value: str | None) -> Q:
        return Q(priority=value) if value else Q()

    def filter_assignee(self, value: str | None) -> Q:
        if not value:
            return Q()
        return Q(assignee__isnull=True) if value == "none" else Q(assignee__username=value)

    def filter_tag(self, value: str | None) -> Q:
        # A subquery, not a join: one row per ticket, no DISTINCT needed.
        from .models import Ticket

        return (
            Q(pk__in=Ticket.tags.through.objects.filter(tag__name__iexact=value).values("ticket_id"))
            if value
            else Q()
        )

    def filter_sla(self, value: str | None) -> Q:
        return sla_condition(value) if value else Q()

    def filter_contact(self, value: UUID | None) -> Q:
        return Q(contact__uuid=value) if value else Q()
