"""Tickets from the support mailbox: registered with solocrm.mail.hooks (support/apps.py).

- A message received by a support mailbox (``account.is_support``) in a thread without a ticket
  opens one (source e-mail); so does a customer writing again in the thread of a closed ticket
  (a follow-up).
- Any message of a thread that has a ticket joins it: the customer's marks it waiting on us
  (open), ours — sent from here or from any mail client — counts as a reply.

It runs inside the sync batch's transaction, so the tickets commit with the messages (a crash
repeats both or neither) and a message is taken once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.utils import timezone

from solocrm.mail.hooks import on_stored
from solocrm.mail.models import Direction, MailMessage

from . import services
from .choices import TicketSource, TicketStatus
from .models import Ticket

# Mail older than this when it is first stored (the first sync of an old mailbox) is history,
# not a question waiting for an answer: it opens no ticket.
MAX_AGE = timedelta(days=14)


@on_stored
def tickets_from_mail(messages: Sequence[MailMessage]) -> None:
    for message in messages:
        take(message)


def ticket_of_thread(thread_id: int) -> Ticket | None:
    """The ticket living in a thread: the newest one not closed or merged."""
    return (
        Ticket.objects.filter(thread_id=thread_id, merged_into__isnull=True)
        .exclude(status=TicketStatus.CLOSED)
        .order_by("-created_at", "-id")
        .first()
    )


def take(message: MailMessage) -> Ticket | None:
    """Give ``message`` to its ticket, or open one for it; the ticket, or None when the
    message is not support mail."""
    ticket = ticket_of_thread(message.thread_id)
    if ticket is not None:
        services.take_message(ticket, message)
        return ticket
    if message.direction != Direction.IN or message.contact_id is None:
        return None
    follow_up = Ticket.objects.filter(thread_id=message.thread_id).exists()
    is_support = message.account is not None and message.account.is_support
    if not (is_support or follow_up) or message.date < timezone.now() - MAX_AGE:
        return None
    return services.create_ticket(
        contact=message.contact,
        subject=message.subject,
        body=message.text,
        source=TicketSource.EMAIL,
        message=message,
    )
