"""Tickets: one customer question each, from the support mailbox, the help form, the contact
page or the API, with its own event list and SLA clocks (see docs/support.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from solocrm.contacts.models import Contact, Tag
from solocrm.lib.models import PublicModel
from solocrm.mail.models import MailMessage, MailThread
from solocrm.sales.models import Deal, Order

from .choices import EventKind, Priority, TicketSource, TicketStatus


def default_business_hours() -> dict[str, list[list[str]]]:
    """Monday (0) to Friday (4), 09:00–17:00 in the business's time zone."""
    return {str(day): [["09:00", "17:00"]] for day in range(5)}


def default_first_response_minutes() -> dict[str, int]:
    return {"urgent": 60, "high": 4 * 60, "normal": 8 * 60, "low": 16 * 60}


def default_resolution_minutes() -> dict[str, int]:
    return {"urgent": 8 * 60, "high": 16 * 60, "normal": 40 * 60, "low": 80 * 60}


class SlaPolicy(PublicModel):
    """Targets per priority, counted in business minutes: the weekly hours minus holidays.

    ``business_hours`` maps a weekday ("0" Monday … "6" Sunday) to [start, end] pairs of
    "HH:MM"; ``holidays`` is a list of ISO dates; both read in the business's time zone."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(_("default policy"), default=False)
    business_hours = models.JSONField(_("business hours"), default=default_business_hours)
    holidays = models.JSONField(_("holidays"), default=list, blank=True)
    first_response_minutes = models.JSONField(
        _("first response targets (business minutes)"), default=default_first_response_minutes
    )
    resolution_minutes = models.JSONField(
        _("resolution targets (business minutes)"), default=default_resolution_minutes
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["-is_default", "name"]

    def __str__(self) -> str:
        return self.name


class Ticket(PublicModel):
    """One customer question and everything said about it."""

    number = models.PositiveIntegerField(_("number"), unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=300)
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        verbose_name=_("contact"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=TicketStatus.choices, default=TicketStatus.NEW, db_index=True
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    source = models.CharField(
        _("source"), max_length=10, choices=TicketSource.choices, default=TicketSource.MANUAL
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets", verbose_name=_("tags"))
    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets", verbose_name=_("deal")
    )
    order = models.ForeignKey(
        Order,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        verbose_name=_("order"),
    )
    # The e-mail conversation the ticket lives in: customer replies to it join the ticket.
    thread = models.ForeignKey(
        MailThread, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    sla_policy = models.ForeignKey(
        SlaPolicy,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        verbose_name=_("SLA policy"),
    )
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True, db_index=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True, db_index=True)
    # The next deadline while the ticket needs something from us (the first response until it is
    # given, then the resolution); null while it rests (waiting on the customer, solved, closed).
    # Stored so the queue's "breached / due soon" filters, its sort and Today are one indexed read.
    next_due = models.DateTimeField(_("next deadline"), null=True, blank=True, db_index=True)
    first_responded_at = models.DateTimeField(_("first responded"), null=True, blank=True)
    last_customer_message_at = models.DateTimeField(_("customer last wrote"), null=True, blank=True)
    solved_at = models.DateTimeField(_("solved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Business minutes spent waiting on the customer: the resolution clock stops meanwhile.
    paused_minutes = models.PositiveIntegerField(default=0, editable=False)
    waiting_since = models.DateTimeField(null=True, blank=True, editable=False)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_tickets"
    )
    # Bumped by every change: a stale form gets a clear 409 instead of undoing someone's edit.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "resolution_due"], name="ticket_status_due"),
            models.Index(fields=["contact", "-created_at"], name="ticket_contact_created"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"


class TicketEvent(models.Model):
    """One line of a ticket's history: a reply either way, an internal note, or a change."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("text"), blank=True)
    message = models.ForeignKey(
        MailMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="ticket_events"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), db_index=True)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticket_event_ticket_time")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.kind}"


class CannedReply(PublicModel):
    """A saved answer (Markdown, with the same merge fields as e-mail templates)."""

    title = models.CharField(_("title"), max_length=150, unique=True)
    body = models.TextField(_("text"))
    uses = models.PositiveIntegerField(_("times used"), default=0, editable=False)

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title
