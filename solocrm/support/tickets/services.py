"""Everything that changes a ticket: create, reply, note, status (with the SLA clocks),
priority, assignee, tags, merge, links; canned replies and SLA policies (see docs/support.md).

Views, the API, the mail listener and the help desk all call these. Every change runs in one
transaction that locks the ticket's row, checks the ``version`` the caller loaded (a stale edit is
a ``StaleTicket``: the API answers 409, a page says to reload), bumps it, and writes a
``TicketEvent``; opening and solving also write the customer's timeline.

The SLA clocks (docs/support.md, "SLA"): both deadlines count business minutes of the ticket's
policy from its creation. Our first reply (from the page, the API or any mail client) meets the
first-response target. While the ticket rests (waiting on the customer, solved, closed) the
resolution clock is stopped: the business minutes spent resting are added to its target when
the ticket becomes active again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from solocrm.contacts.choices import InteractionKind
from solocrm.contacts.models import Contact, Tag
from solocrm.contacts.services import Conflict, create_interaction, get_or_create_tag
from solocrm.lib.access import role_of
from solocrm.lib.business import business_settings
from solocrm.lib.roles import Role
from solocrm.mail.models import Direction, MailAccount, MailMessage
from solocrm.sales.models import Deal, Order
from solocrm.sales.quotes.models import NumberSequence
from solocrm.users.models import AuditLog

from . import hooks, sla
from .choices import RESTING, EventKind, Priority, TicketSource, TicketStatus
from .models import CannedReply, SlaPolicy, Ticket, TicketEvent

NUMBER_KEY = "ticket"
MAX_SUBJECT = 300
MAX_BODY = 100_000
ASSIGNABLE_ROLES = (Role.OWNER, Role.ASSISTANT)


class TicketError(ValueError):
    """A change that cannot be made; the message says why (the API answers 422)."""


class StaleTicket(Conflict):
    """The ticket changed since the caller loaded it (the API answers 409)."""

    def __init__(self, ticket: Ticket) -> None:
        super().__init__(
            _("Ticket #%(number)s was changed by someone else since you opened it. Reload it and try again.")
            % {"number": ticket.number}
        )


def _user(user):
    return user if getattr(user, "is_authenticated", False) else None


# --- SLA policies -----------------------------------------------------------------------------


def default_policy() -> SlaPolicy:
    """The policy new tickets get: the one marked default, else the first, else a new
    "Standard" one (Monday–Friday 09:00–17:00, the usual targets)."""
    policy = SlaPolicy.objects.order_by("-is_default", "pk").first()
    if policy is None:
        policy, _created = SlaPolicy.objects.get_or_create(name=_("Standard"), defaults={"is_default": True})
    return policy


def schedule_for(policy: SlaPolicy | None) -> sla.Schedule:
    """The policy's business hours and holidays in the business's time zone (around the clock
    without a policy)."""
    zone = business_settings().time_zone
    if policy is None:
        return sla.schedule_from({}, [], zone)
    return sla.schedule_from(policy.business_hours, policy.holidays, zone)


def _target(table: dict, priority: str) -> int:
    return int(table.get(priority, table.get(Priority.NORMAL, 0)) or 0)


def _set_deadlines(ticket: Ticket) -> None:
    """Both deadlines from the creation time, the priority and the business minutes spent
    resting; ``next_due`` is the one that matters now (none while resting)."""
    policy = ticket.sla_policy
    if policy is None:
        ticket.first_response_due = ticket.resolution_due = ticket.next_due = None
        return
    schedule = schedule_for(policy)
    start = ticket.created_at
    ticket.first_response_due = sla.add_business_minutes(
        start, _target(policy.first_response_minutes, ticket.priority), schedule
    )
    ticket.resolution_due = sla.add_business_minutes(
        start, _target(policy.resolution_minutes, ticket.priority) + ticket.paused_minutes, schedule
    )
    _set_next_due(ticket)


def _set_next_due(ticket: Ticket) -> None:
    if ticket.status in RESTING or ticket.resolution_due is None:
        ticket.next_due = None
    elif ticket.first_responded_at is None and ticket.first_response_due is not None:
        ticket.next_due = min(ticket.first_response_due, ticket.resolution_due)
    else:
        ticket.next_due = ticket.resolution_due


# "Due soon": the next deadline falls within this much wall-clock time.
DUE_SOON = timedelta(hours=2)


def sla_state(ticket: Ticket, now: datetime | None = None) -> str:
    """``breached``, ``due_soon``, ``on_track`` or ``paused`` (resting, or no policy): the
    same definition as the queue's filter (filters.sla_condition)."""
    now = now or timezone.now()
    if ticket.next_due is None:
        return "paused"
    if ticket.next_due < now:
        return "breached"
    return "due_soon" if ticket.next_due < now + DUE_SOON else "on_track"


def minutes_left(ticket: Ticket, now: datetime | None = None) -> float | None:
    """Business minutes until the ticket's next deadline (negative: how late); None when it
    rests or has no policy."""
    if ticket.next_due is None:
        return None
    schedule = schedule_for(ticket.sla_policy)
    return sla.business_minutes_left(now or timezone.now(), ticket.next_due, schedule)


def _duration(minutes: float) -> str:
    days, hours, mins = sla.describe_minutes(minutes)
    if days:
        return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": mins}
    return _("%(minutes)s min") % {"minutes": mins}


TONES = {"breached": "danger", "due_soon": "warning", "on_track": "success", "paused": "neutral"}


def sla_summary(ticket: Ticket, now: datetime | None = None) -> dict[str, str]:
    """What the ticket's SLA badge says: its state, a tone, and the business time left
    ("First response: 2 h 10 min left", "Resolution: late by 1 d 3 h", "Clock stopped")."""
    now = now or timezone.now()
    state = sla_state(ticket, now)
    if state == "paused":
        text = "" if ticket.status in (TicketStatus.SOLVED, TicketStatus.CLOSED) else _("Clock stopped")
        return {"state": state, "tone": TONES[state], "text": text}
    left = minutes_left(ticket, now) or 0.0
    target = (
        _("First response")
        if ticket.first_responded_at is None and ticket.next_due == ticket.first_response_due
        else _("Resolution")
    )
    # Late is a matter of the clock (a deadline passed after hours is 0 business minutes late).
    late = ticket.next_due < now
    when = (_("late by %(time)s") if late else _("%(time)s left")) % {"time": _duration(left)}
    return {"state": state, "tone": TONES[state], "text": f"{target}: {when}"}


# --- numbering, events, the timeline ----------------------------------------------------------


def next_number() -> int:
    """The next ticket number: a row of NumberSequence bumped under its row lock, so two
    tickets created at once (two connections on PostgreSQL) never share one. Call it inside the
    transaction that saves the ticket."""
    NumberSequence.objects.get_or_create(key=NUMBER_KEY, defaults={"last": 0})
    sequence = NumberSequence.objects.select_for_update().get(key=NUMBER_KEY)
    sequence.last = F("last") + 1
    sequence.save(update_fields=["last"])
    sequence.refresh_from_db(fields=["last"])
    return sequence.last


def _event(
    ticket: Ticket,
    kind: str,
    user=None,
    *,
    body: str = "",
    message: MailMessage | None = None,
    data: dict | None = None,
    at: datetime | None = None,
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket,
        kind=kind,
        author=_user(user),
        body=body,
        message=message,
        data=data or {},
        created_at=at or timezone.now(),
    )


def _timeline(ticket: Ticket, subject: str, event: str, user=None) -> None:
    """An entry on the customer's timeline (ticket opened / solved)."""
    if ticket.contact_id is None:
        return
    create_interaction(
        {
            "contact": ticket.contact,
            "kind": InteractionKind.SYSTEM,
            "subject": subject[:300],
            "data": {"ticket": str(ticket.uuid), "number": ticket.number, "event": event},
        },
        actor=user,
    )


def _lock(ticket: Ticket, version: int | None) -> Ticket:
    """The ticket's row, locked for this transaction; a stale ``version`` is refused."""
    fresh = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("contact", "sla_policy")
        .get(pk=ticket.pk)
    )
    if version is not None and fresh.version != version:
        raise StaleTicket(fresh)
    return fresh


def _save(ticket: Ticket) -> Ticket:
    ticket.version += 1
    ticket.save()
    return ticket


# --- create -----------------------------------------------------------------------------------


def _clean_text(value: str, limit: int, label: str, *, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise TicketError(_("%(field)s may not be blank.") % {"field": label})
    if len(value) > limit:
        raise TicketError(_("%(field)s is too long.") % {"field": label})
    return value


@transaction.atomic
def create_ticket(
    *,
    contact: Contact | None,
    subject: str,
    body: str,
    source: str,
    user=None,
    priority: str = Priority.NORMAL,
    message: MailMessage | None = None,
) -> Ticket:
    """Open a ticket for ``contact`` with its first message (``body``: what the customer wrote,
    or what the owner noted down for them). ``source`` is a TicketSource; ``message`` the e-mail
    that started it (the ticket then lives in its thread: replies to it join the ticket).

    The SLA clocks start now under the default policy; the customer's timeline says the ticket
    was opened. Raises TicketError for a blank subject, an unknown source or priority."""
    subject = _clean_text(subject, MAX_SUBJECT, _("The subject"), required=False) or _("(no subject)")
    body = _clean_text(body, MAX_BODY, _("The message"), required=False)
    if source not in TicketSource.values:
        raise TicketError(_("Unknown ticket source “%(value)s”.") % {"value": source})
    if priority not in Priority.values:
        raise TicketError(_("Unknown priority “%(value)s”.") % {"value": priority})
    ticket = Ticket.objects.create(
        number=next_number(),
        subject=subject[:MAX_SUBJECT],
        contact=contact,
        source=source,
        priority=priority,
        thread=message.thread if message is not None else None,
        sla_policy=default_policy(),
        last_customer_message_at=message.date if message is not None else timezone.now(),
    )
    _set_deadlines(ticket)
    ticket.save(update_fields=["first_response_due", "resolution_due", "next_due"])
    if body or message is not None:
        # The customer's question, as they sent it or as the owner wrote it down (a call).
        _event(ticket, EventKind.CUSTOMER_REPLY, user, body=body, message=message)
    AuditLog.record(user, "ticket.create", ticket, summary=str(ticket))
    _timeline(ticket, _("Ticket #%(number)s opened: %(subject)s") % _names(ticket), "opened", user)
    return ticket


def _names(ticket: Ticket) -> dict[str, Any]:
    return {"number": ticket.number, "subject": ticket.subject}


# --- status, priority, assignee, tags --------------------------------------------------------


def _apply_status(ticket: Ticket, status: str, now: datetime) -> bool:
    """Move ``ticket`` to ``status`` with the clock rules; True when solved just now."""
    old = ticket.status
    if status not in TicketStatus.values:
        raise TicketError(_("Unknown status “%(value)s”.") % {"value": status})
    if old == status:
        return False
    if ticket.merged_into_id is not None:
        raise TicketError(_("This ticket was merged into another one; work on that one."))
    if old in RESTING and status not in RESTING and ticket.waiting_since is not None:
        rested = sla.business_minutes_between(ticket.waiting_since, now, schedule_for(ticket.sla_policy))
        ticket.paused_minutes += round(rested)
        ticket.waiting_since = None
    elif old not in RESTING and status in RESTING:
        ticket.waiting_since = now
    ticket.status = status
    if status == TicketStatus.SOLVED:
        ticket.solved_at, ticket.closed_at = now, None
    elif status == TicketStatus.CLOSED:
        ticket.solved_at, ticket.closed_at = ticket.solved_at or now, now
    else:
        ticket.solved_at = ticket.closed_at = None
    _set_deadlines(ticket)
    return status == TicketStatus.SOLVED


def _status_changed(ticket: Ticket, old: str, user, solved: bool) -> None:
    _event(ticket, EventKind.STATUS, user, data={"from": old, "to": ticket.status})
    AuditLog.record(
        user, "ticket.status", ticket, summary=str(ticket), changes={"status": [old, ticket.status]}
    )
    if solved:
        _timeline(ticket, _("Ticket #%(number)s solved: %(subject)s") % _names(ticket), "solved", user)
        hooks.notify_solved(ticket)


def _assignee(user) -> Any:
    """``user`` if they may be given tickets (an active owner or assistant)."""
    if user is None:
        return None
    if not user.is_active or role_of(user) not in ASSIGNABLE_ROLES:
        raise TicketError(
            _("%(user)s cannot be given tickets: only the owner and assistants can.") % {"user": user}
        )
    return user


def assignable_users() -> QuerySet:
    """The people a ticket can be assigned to: active owners (and superusers) and assistants."""
    from django.db.models import Q

    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=[r.value for r in ASSIGNABLE_ROLES]))
        .distinct()
        .order_by("username")
    )


def _tags(names: Iterable[str]) -> list[Tag]:
    tags: dict[str, Tag] = {}
    for name in (str(n).strip() for n in names):
        if len(name) > 60:
            raise TicketError(_("A tag is at most 60 characters."))
        if name and name.lower() not in tags:
            tags[name.lower()] = get_or_create_tag(name)
    return list(tags.values())


UNSET: Any = object()


@transaction.atomic
def update_ticket(
    ticket: Ticket,
    *,
    user,
    version: int | None = None,
    status: str = UNSET,
    priority: str = UNSET,
    assignee=UNSET,
    tags: Iterable[str] = UNSET,
    subject: str = UNSET,
) -> Ticket:
    """Change any of status, priority, assignee (a user or None), tags (the full list of names)
    and subject in one go: one version, one event per change. Returns the saved ticket."""
    ticket = _lock(ticket, version)
    now = timezone.now()
    changed = False
    if subject is not UNSET:
        new_subject = _clean_text(subject, MAX_SUBJECT, _("The subject"), required=True)
        if new_subject != ticket.subject:
            _event(ticket, EventKind.SUBJECT, user, data={"from": ticket.subject, "to": new_subject})
            ticket.subject, changed = new_subject, True
    if priority is not UNSET and priority != ticket.priority:
        changed |= _change_priority(ticket, priority, user)
    if assignee is not UNSET and assignee != ticket.assignee:
        changed |= _change_assignee(ticket, assignee, user)
    if tags is not UNSET:
        changed |= _change_tags(ticket, tags, user)
    if status is not UNSET and status != ticket.status:
        old = ticket.status
        solved = _apply_status(ticket, status, now)
        _save(ticket)
        _status_changed(ticket, old, user, solved)
        return ticket
    return _save(ticket) if changed else ticket


def _change_priority(ticket: Ticket, priority: str, user) -> bool:
    if priority not in Priority.values:
        raise TicketError(_("Unknown priority “%(value)s”.") % {"value": priority})
    old, ticket.priority = ticket.priority, priority
    _set_deadlines(ticket)
    _event(ticket, EventKind.PRIORITY, user, data={"from": old, "to": priority})
    return True


def _change_assignee(ticket: Ticket, assignee, user) -> bool:
    ticket.assignee = _assignee(assignee)
    name = assignee.get_username() if assignee is not None else ""
    _event(ticket, EventKind.ASSIGN, user, data={"to": name})
    AuditLog.record(user, "ticket.assign", ticket, summary=str(ticket), changes={"assignee": name})
    return True


def _change_tags(ticket: Ticket, names: Iterable[str], user) -> bool:
    tags = _tags(names)
    before = sorted(t.name for t in ticket.tags.all())
    after = sorted(t.name for t in tags)
    if before == after:
        return False
    ticket.tags.set(tags)
    _event(ticket, EventKind.TAGS, user, data={"tags": after, "before": before})
    return True


def set_status(ticket: Ticket, status: str, *, user, version: int | None = None) -> Ticket:
    return update_ticket(ticket, user=user, version=version, status=status)


def set_priority(ticket: Ticket, priority: str, *, user, version: int | None = None) -> Ticket:
    return update_ticket(ticket, user=user, version=version, priority=priority)


def assign(ticket: Ticket, assignee, *, user, version: int | None = None) -> Ticket:
    return update_ticket(ticket, user=user, version=version, assignee=assignee)


def set_tags(ticket: Ticket, names: Iterable[str], *, user, version: int | None = None) -> Ticket:
    return update_ticket(ticket, user=user, version=version, tags=names)


BULK_ACTIONS = ("assign", "status", "priority", "tag")


@transaction.atomic
def bulk_update(tickets: Iterable[Ticket], action: str, value: Any, *, user) -> int:
    """Apply one change to many tickets (the queue's bulk actions): ``assign`` (a user or
    None), ``status``, ``priority``, ``tag`` (a tag name added to each). Returns how many
    changed. All or nothing: one refused change refuses the lot."""
    if action not in BULK_ACTIONS:
        raise TicketError(_("Unknown bulk action “%(value)s”.") % {"value": action})
    count = 0
    for ticket in tickets:
        if action == "tag":
            names = [t.name for t in ticket.tags.all()] + [value]
            kwargs = {"tags": names}
        else:
            kwargs = {{"assign": "assignee"}.get(action, action): value}
        before = ticket.version
        if update_ticket(ticket, user=user, **kwargs).version != before:
            count += 1
    return count


# --- conversation -----------------------------------------------------------------------------


@transaction.atomic
def add_note(ticket: Ticket, body: str, *, user, version: int | None = None) -> TicketEvent:
    """An internal note: never sent, shown on the ticket only."""
    body = _clean_text(body, MAX_BODY, _("The note"), required=True)
    ticket = _lock(ticket, version)
    event = _event(ticket, EventKind.NOTE, user, body=body)
    _save(ticket)
    return event


def support_account() -> MailAccount | None:
    """The mailbox replies go out from: the support mailbox, when there is one (one with its
    own SMTP server first, then one being synced); None lets mail pick its default."""
    accounts = list(MailAccount.objects.filter(is_support=True).order_by("pk"))
    accounts.sort(key=lambda account: (not account.smtp_host, not account.active))
    return accounts[0] if accounts else None


def _last_customer_message(ticket: Ticket) -> MailMessage | None:
    event = (
        ticket.events.filter(kind=EventKind.CUSTOMER_REPLY, message__isnull=False)
        .select_related("message")
        .order_by("-created_at", "-id")
        .first()
    )
    return event.message if event is not None else None


def _reply_subject(ticket: Ticket, previous: MailMessage | None) -> str:
    if previous is not None and previous.subject:
        subject = previous.subject
        return subject if subject.lower().startswith("re:") else f"Re: {subject}"
    return f"{ticket.subject} [#{ticket.number}]"


@transaction.atomic
def reply(
    ticket: Ticket,
    body: str,
    *,
    user,
    version: int | None = None,
    status: str | None = TicketStatus.WAITING,
    canned: CannedReply | None = None,
) -> TicketEvent:
    """E-mail ``body`` to the ticket's customer (from the support mailbox when there is one, in
    the ticket's thread), record it as our reply (the first one meets the first-response
    target) and move the ticket to ``status`` (default: waiting on the customer; None leaves
    it). The e-mail is queued for the mail.send job in this transaction, so it leaves once the
    reply is committed; its sending status shows on the message. Bad input (a merge-field
    error) is a TicketError and changes nothing."""
    from solocrm.mail.outgoing import SendError, send_mail

    body = _clean_text(body, MAX_BODY, _("The reply"), required=True)
    ticket = _lock(ticket, version)
    if ticket.contact is None or not ticket.contact.email:
        raise TicketError(_("This ticket's customer has no e-mail address to reply to."))
    if ticket.merged_into_id is not None:
        raise TicketError(_("This ticket was merged into another one; work on that one."))
    previous = _last_customer_message(ticket)
    try:
        message = send_mail(
            to=ticket.contact,
            subject=_reply_subject(ticket, previous),
            body=body,
            user=_user(user),
            account=support_account(),
            reply_to=previous,
            thread=ticket.thread,
            # Through the mail.send job, queued in this transaction: the e-mail leaves only if
            # the reply is recorded, and at most once (mail.outgoing's rule for callers in a
            # transaction).
            send_at=timezone.now(),
        )
    except (ValidationError, SendError) as error:
        # Bad input (a merge-field error, an address) or a server that refused: nothing is
        # recorded (this transaction rolls back), the writer keeps the text and sees why.
        reason = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        raise TicketError(_("The reply was not sent: %(reason)s") % {"reason": reason}) from None
    # Sending may have told the mail listeners already (the sent copy joined the ticket through
    # take_message): read the row again so this save keeps what they wrote.
    ticket.refresh_from_db()
    event = _record_our_reply(ticket, message, user, body)
    if canned is not None:
        CannedReply.objects.filter(pk=canned.pk).update(uses=F("uses") + 1)
    if status and status != ticket.status:
        old = ticket.status
        solved = _apply_status(ticket, status, timezone.now())
        _save(ticket)
        _status_changed(ticket, old, user, solved)
    else:
        _save(ticket)
    return event


def _record_our_reply(ticket: Ticket, message: MailMessage | None, user, body: str = "") -> TicketEvent:
    """Our reply (sent from here or seen in the mailbox): once per message. Meets the first
    response; a ticket still "new" becomes open. The caller saves the ticket."""
    if message is not None:
        existing = ticket.events.filter(message=message).first()
        if existing is not None:
            return existing
        if ticket.thread_id is None:
            ticket.thread_id = message.thread_id
    now = timezone.now()
    at = min(message.date, now) if message is not None else now
    event = _event(
        ticket,
        EventKind.AGENT_REPLY,
        user,
        body=body or (message.text if message else ""),
        message=message,
        at=at,
    )
    if ticket.first_responded_at is None:
        ticket.first_responded_at = at
    if ticket.status == TicketStatus.NEW:
        _apply_status(ticket, TicketStatus.OPEN, now)
    _set_next_due(ticket)
    return event


def _record_customer_message(ticket: Ticket, message: MailMessage) -> TicketEvent | None:
    """The customer wrote again: the message joins the ticket and the ticket waits on us
    (open) unless it is still new. The caller saves the ticket."""
    if ticket.events.filter(message=message).exists():
        return None
    event = _event(
        ticket,
        EventKind.CUSTOMER_REPLY,
        body=message.text,
        message=message,
        at=min(message.date, timezone.now()),
    )
    ticket.last_customer_message_at = message.date
    if ticket.status != TicketStatus.NEW:
        _apply_status(ticket, TicketStatus.OPEN, timezone.now())
    return event


@transaction.atomic
def take_message(ticket: Ticket, message: MailMessage) -> TicketEvent | None:
    """Join an e-mail of the ticket's thread to it: the customer's reopens it (waiting on us),
    ours counts as a reply. Idempotent per message."""
    ticket = _lock(ticket, None)
    old = ticket.status
    if message.direction == Direction.IN:
        event = _record_customer_message(ticket, message)
    else:
        event = _record_our_reply(ticket, message, None)
    if event is not None:
        _save(ticket)
        if ticket.status != old:
            _event(ticket, EventKind.STATUS, None, data={"from": old, "to": ticket.status})
    return event


# --- merge and links --------------------------------------------------------------------------


@transaction.atomic
def merge_tickets(source: Ticket, target: Ticket, *, user, version: int | None = None) -> Ticket:
    """Merge ``source`` into ``target``: its events and e-mail move to the target (its thread's
    messages join the target's thread, so replies to either land there), its tags are added,
    and ``source`` is closed pointing to ``target``. ``version`` is the source's."""
    if source.pk == target.pk:
        raise TicketError(_("A ticket cannot be merged into itself."))
    # Lock both in primary-key order: two opposite merges at once cannot deadlock.
    first, second = sorted([source, target], key=lambda t: t.pk)
    locked = {t.pk: _lock(t, version if t.pk == source.pk else None) for t in (first, second)}
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise TicketError(_("A merged ticket cannot be merged again."))
    TicketEvent.objects.filter(ticket=source).update(ticket=target)
    _merge_threads(source, target)
    target.tags.add(*source.tags.all())
    if source.last_customer_message_at and (
        target.last_customer_message_at is None
        or source.last_customer_message_at > target.last_customer_message_at
    ):
        target.last_customer_message_at = source.last_customer_message_at
    _event(target, EventKind.MERGE, user, data={"from": source.number, "from_uuid": str(source.uuid)})
    old = source.status
    _apply_status(source, TicketStatus.CLOSED, timezone.now())
    source.merged_into = target
    _save(source)
    _event(
        source,
        EventKind.MERGE,
        user,
        data={"into": target.number, "into_uuid": str(target.uuid), "from": old},
    )
    AuditLog.record(user, "ticket.merge", source, summary=f"#{source.number} -> #{target.number}")
    return _save(target)


def _merge_threads(source: Ticket, target: Ticket) -> None:
    if source.thread_id is None or source.thread_id == target.thread_id:
        source.thread = None
        return
    if target.thread_id is None:
        target.thread_id = source.thread_id
    else:
        MailMessage.objects.filter(thread_id=source.thread_id).update(thread_id=target.thread_id)
    source.thread = None


@transaction.atomic
def link(
    ticket: Ticket,
    *,
    user,
    version: int | None = None,
    deal: Deal | None = UNSET,
    order: Order | None = UNSET,
) -> Ticket:
    """Link the ticket to a deal and/or an order (None unlinks)."""
    ticket = _lock(ticket, version)
    data: dict[str, str] = {}
    for name, value in (("deal", deal), ("order", order)):
        if value is not UNSET and getattr(ticket, f"{name}_id") != (value.pk if value else None):
            setattr(ticket, name, value)
            data[name] = str(value) if value is not None else ""
    if not data:
        return ticket
    _event(ticket, EventKind.LINK, user, data=data)
    return _save(ticket)


# --- canned replies ---------------------------------------------------------------------------


def save_canned_reply(canned: CannedReply | None, *, title: str, body: str, user) -> CannedReply:
    """Create (``canned`` None) or change a canned reply; a title in use is a Conflict (409)."""
    title = _clean_text(title, 150, _("The title"), required=True)
    body = _clean_text(body, MAX_BODY, _("The text"), required=True)
    others = CannedReply.objects.filter(title__iexact=title)
    if canned is not None:
        others = others.exclude(pk=canned.pk)
    if others.exists():
        raise Conflict(_("There is already a canned reply called “%(title)s”.") % {"title": title})
    canned = canned or CannedReply()
    canned.title, canned.body = title, body
    canned.save()
    AuditLog.record(user, "canned_reply.save", canned, summary=title)
    return canned


def delete_canned_reply(canned: CannedReply, *, user) -> None:
    AuditLog.record(user, "canned_reply.delete", canned, summary=canned.title)
    canned.delete()


def fill_canned(canned: CannedReply, ticket: Ticket) -> str:
    """The canned text with the ticket's merge fields filled in: {first_name}, {full_name},
    {ticket_number}, {ticket_subject} (an unknown field is left as written)."""
    contact = ticket.contact
    values = {
        "first_name": getattr(contact, "first_name", "") or "",
        "full_name": str(contact) if contact is not None else "",
        "ticket_number": str(ticket.number),
        "ticket_subject": ticket.subject,
    }
    text = canned.body
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


# --- SLA policy -------------------------------------------------------------------------------


@transaction.atomic
def save_policy(
    policy: SlaPolicy,
    *,
    user,
    business_hours: dict | None = None,
    holidays: list[str] | None = None,
    first_response_minutes: dict | None = None,
    resolution_minutes: dict | None = None,
    name: str | None = None,
) -> SlaPolicy:
    """Change a policy (validated: hours, holidays as ISO dates, whole minutes ≥ 0 per
    priority). Open tickets keep the deadlines they were given; new ones use the new targets."""
    if business_hours is not None:
        try:
            sla.parse_hours(business_hours)
        except (TypeError, ValueError) as error:
            raise TicketError(_("Business hours: %(error)s") % {"error": error}) from None
        policy.business_hours = business_hours
    if holidays is not None:
        policy.holidays = sorted({_holiday(day) for day in holidays})
    for field, table in (
        ("first_response_minutes", first_response_minutes),
        ("resolution_minutes", resolution_minutes),
    ):
        if table is not None:
            setattr(policy, field, _targets(table))
    if name is not None:
        policy.name = _clean_text(name, 100, _("The name"), required=True)
    policy.save()
    AuditLog.record(user, "sla_policy.save", policy, summary=policy.name)
    return policy


def _holiday(value: str) -> str:
    from datetime import date

    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise TicketError(_("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": value}) from None


def _targets(table: dict) -> dict[str, int]:
    targets = {}
    for priority in Priority.values:
        value = table.get(priority)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 525_600:
            raise TicketError(
                _("The %(priority)s target must be whole minutes from 0 to 525600.") % {"priority": priority}
            )
        targets[priority] = value
    return targets
