"""Tickets from the support mailbox, synced from a real Dovecot server (the mail tests' fixture):
a new thread opens a ticket, replies join it either way, old mail and other mailboxes do not."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from solocrm.mail import sync
from solocrm.mail.tests.factory import message
from solocrm.support.tickets.choices import EventKind, TicketSource, TicketStatus
from solocrm.support.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def support(account):
    account.is_support = True
    account.save()
    return account


def _now(minutes: int = 0) -> datetime:
    return timezone.now().astimezone(UTC).replace(microsecond=0) - timedelta(minutes=30 - minutes)


def test_a_new_thread_opens_a_ticket_and_the_customers_reply_joins_it(support, dovecot, owner):
    dovecot.append(
        message(
            sender="Carla Diaz <carla@new.test>",
            subject="Login broken",
            message_id="<q1@new.test>",
            date=_now(),
        )
    )
    sync.sync_account(support)
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.source, ticket.status) == (
        "Login broken",
        TicketSource.EMAIL,
        TicketStatus.NEW,
    )
    assert ticket.contact.email == "carla@new.test"
    first = ticket.events.get()
    assert first.kind == EventKind.CUSTOMER_REPLY and first.message.message_id == "q1@new.test"
    assert "Hi there" in first.body

    # Our answer, sent from a mail client (From: the mailbox's address), is seen by the sync.
    dovecot.append(
        message(
            sender="Owner <owner@example.com>",
            to="carla@new.test",
            subject="Re: Login broken",
            message_id="<a1@example.com>",
            in_reply_to="<q1@new.test>",
            date=_now(5),
        )
    )
    sync.sync_account(support)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None
    assert ticket.status == TicketStatus.OPEN
    assert ticket.events.filter(kind=EventKind.AGENT_REPLY).count() == 1

    from solocrm.support.tickets import services

    ticket = services.set_status(ticket, TicketStatus.WAITING, user=owner)
    dovecot.append(
        message(
            sender="Carla Diaz <carla@new.test>",
            subject="Re: Login broken",
            message_id="<q2@new.test>",
            in_reply_to="<a1@example.com>",
            date=_now(10),
        )
    )
    sync.sync_account(support)
    ticket.refresh_from_db()
    assert Ticket.objects.count() == 1
    assert ticket.status == TicketStatus.OPEN  # waiting on us again
    assert ticket.events.filter(kind=EventKind.CUSTOMER_REPLY).count() == 2
    sync.sync_account(support)  # a re-run takes nothing twice
    assert ticket.events.filter(message__isnull=False).count() == 3


def test_mail_to_an_ordinary_mailbox_opens_no_ticket(account, dovecot, ada):
    dovecot.append(message(subject="Lunch?", date=_now()))
    sync.sync_account(account)
    assert not Ticket.objects.exists()


def test_old_mail_of_a_first_sync_opens_no_ticket(support, dovecot):
    dovecot.append(message(sender="old@customer.test", subject="Ancient", date=_now() - timedelta(days=60)))
    sync.sync_account(support)
    assert not Ticket.objects.exists()


def test_writing_again_after_a_ticket_is_closed_opens_a_follow_up(support, dovecot, owner):
    from solocrm.support.tickets import services

    dovecot.append(
        message(sender="carla@new.test", subject="Refund", message_id="<r1@new.test>", date=_now())
    )
    sync.sync_account(support)
    first = Ticket.objects.get()
    services.set_status(first, TicketStatus.CLOSED, user=owner)
    dovecot.append(
        message(
            sender="carla@new.test",
            subject="Re: Refund",
            message_id="<r2@new.test>",
            in_reply_to="<r1@new.test>",
            date=_now(3),
        )
    )
    sync.sync_account(support)
    assert Ticket.objects.count() == 2
    follow_up = Ticket.objects.exclude(pk=first.pk).get()
    assert follow_up.thread_id == first.thread_id and follow_up.status == TicketStatus.NEW
