"""Replying to a ticket sends the e-mail (mail.outgoing.send_mail) from the support mailbox in
the ticket's thread; the customer's answer to it, synced from Dovecot, joins the ticket."""

from datetime import UTC, timedelta

import pytest
from django.core import mail as django_mail
from django.urls import reverse
from django.utils import timezone

from solocrm.mail import sync
from solocrm.mail.models import Direction, MailMessage
from solocrm.mail.tests.factory import message
from solocrm.support.tickets import services
from solocrm.support.tickets.choices import EventKind, TicketSource, TicketStatus
from solocrm.support.tickets.models import Ticket


def _new(customer):
    return services.create_ticket(
        contact=customer, subject="Broken login", body="Help", source=TicketSource.API
    )


def test_a_reply_is_sent_recorded_and_meets_the_first_response(customer, owner):
    ticket = _new(customer)
    event = services.reply(ticket, "Try resetting your password.", user=owner, version=ticket.version)
    ticket.refresh_from_db()
    sent = MailMessage.objects.get()
    assert sent.direction == Direction.OUT and sent.to_addresses == [customer.email]
    assert sent.subject == f"Broken login [#{ticket.number}]"
    assert event.kind == EventKind.AGENT_REPLY and event.message == sent and event.author == owner
    assert ticket.thread == sent.thread and ticket.first_responded_at is not None
    assert ticket.status == TicketStatus.WAITING and ticket.next_due is None
    assert len(django_mail.outbox) == 1 and django_mail.outbox[0].to == [customer.email]


def test_a_reply_can_leave_the_status_or_solve(customer, owner):
    ticket = _new(customer)
    services.reply(ticket, "Looking into it", user=owner, status=None)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN  # new → open: we are on it
    services.reply(ticket, "Fixed!", user=owner, status=TicketStatus.SOLVED)
    ticket.refresh_from_db()
    assert (
        ticket.status == TicketStatus.SOLVED and ticket.events.filter(kind=EventKind.AGENT_REPLY).count() == 2
    )


def test_a_reply_without_an_address_or_with_a_stale_version_is_refused(customer, owner):
    ticket = _new(customer)
    with pytest.raises(services.StaleTicket):
        services.reply(ticket, "Hi", user=owner, version=ticket.version + 5)
    customer.email = ""
    customer.save()
    with pytest.raises(services.TicketError, match="no e-mail address"):
        services.reply(ticket, "Hi", user=owner)
    assert not MailMessage.objects.exists()


def test_the_reply_box_sends_and_the_api_too(owner_client, customer):
    ticket = _new(customer)
    response = owner_client.post(
        reverse("support:ticket_reply", args=[ticket.uuid]),
        {"body": "Hello {{ first_name }}", "status": "waiting", "version": ticket.version},
    )
    assert response.status_code == 302
    assert MailMessage.objects.get().text.startswith("Hello Ada")
    response = owner_client.post(
        f"/api/v1/tickets/{ticket.uuid}/replies", {"body": "Second"}, content_type="application/json"
    )
    assert response.status_code == 201 and response.json()["kind"] == "agent_reply"
    stale = owner_client.post(
        f"/api/v1/tickets/{ticket.uuid}/replies", {"body": "x", "version": 1}, content_type="application/json"
    )
    assert stale.status_code == 409


@pytest.mark.django_db(transaction=True)
def test_the_customers_answer_to_our_reply_joins_the_ticket(account, dovecot, owner):
    account.is_support = True
    account.save()
    now = timezone.now().astimezone(UTC).replace(microsecond=0)
    dovecot.append(
        message(
            sender="Carla <carla@new.test>",
            subject="Refund?",
            message_id="<c1@new.test>",
            date=now - timedelta(minutes=9),
        )
    )
    sync.sync_account(account)
    ticket = Ticket.objects.get()
    services.reply(ticket, "Sure, done.", user=owner)
    ours = MailMessage.objects.get(direction=Direction.OUT)
    assert ours.in_reply_to == "c1@new.test" and ours.thread_id == ticket.thread_id
    dovecot.append(
        message(
            sender="Carla <carla@new.test>",
            subject="Re: Refund?",
            message_id="<c2@new.test>",
            in_reply_to=f"<{ours.message_id}>",
            date=now - timedelta(minutes=1),
        )
    )
    sync.sync_account(account)
    ticket.refresh_from_db()
    assert Ticket.objects.count() == 1
    assert ticket.status == TicketStatus.OPEN
    assert ticket.events.filter(kind=EventKind.CUSTOMER_REPLY).count() == 2
