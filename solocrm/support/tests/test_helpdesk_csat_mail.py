"""The CSAT question e-mailed when a ticket is solved (through the tickets' @on_solved hook and
send_mail, delivered by the mail.send job to a real SMTP server)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from solocrm.jobs import services as job_services
from solocrm.jobs.models import Job
from solocrm.mail import outgoing
from solocrm.mail.models import MailMessage, SendStatus
from solocrm.mail.tests import smtp
from solocrm.support.helpdesk import services
from solocrm.support.helpdesk.models import CsatAnswer
from solocrm.support.tickets import services as tickets
from solocrm.support.tickets.choices import TicketSource, TicketStatus

pytestmark = pytest.mark.django_db

# The real SMTP server (aiosmtpd) and an account sending through it, from the mail tests.
smtp_server = smtp.smtp_server
send_account = smtp.send_account

LINK = re.compile(r"\(http://localhost:8000(/help/ask/rate/[^)\s]+/)\)")


@pytest.fixture
def ticket(customer):
    return tickets.create_ticket(
        contact=customer,
        subject="Refund {{ first_name }} [now](http://x.test)",
        body="Hi",
        source=TicketSource.FORM,
    )


def solve(ticket, owner):
    return tickets.set_status(ticket, TicketStatus.SOLVED, user=owner)


def test_solving_a_ticket_schedules_one_question_with_five_signed_links(ticket, owner, send_account):
    solve(ticket, owner)
    message = MailMessage.objects.get(subject__startswith="How did we do?")
    assert message.status == SendStatus.SCHEDULED
    assert message.send_at > timezone.now() + timedelta(minutes=4)
    links = LINK.findall(message.text)
    assert len(links) == 5
    assert [services.read_csat_token(link.split("/")[-2]).score for link in links] == [5, 4, 3, 2, 1]
    # what the customer typed is neither a merge field nor Markdown
    assert "{{ first_name }}" in message.text.replace("\\", "")
    assert "Ada" not in message.text.split("How satisfied")[0]


def test_the_links_use_the_public_address_when_set(ticket, owner, send_account, settings):
    settings.SOLOCRM_PUBLIC_URL = "https://crm.example.com"
    solve(ticket, owner)
    message = MailMessage.objects.get(subject__startswith="How did we do?")
    assert message.text.count("](https://crm.example.com/help/ask/rate/") == 5


def test_the_job_delivers_it_and_the_links_record_nothing_until_the_page_is_sent(
    ticket, owner, send_account, smtp_server
):
    solve(ticket, owner)
    message = MailMessage.objects.get(subject__startswith="How did we do?")
    MailMessage.objects.filter(pk=message.pk).update(send_at=timezone.now() - timedelta(seconds=1))
    job = Job.objects.get(kind=outgoing.KIND, params__message=str(message.uuid))
    assert job_services.claim(job, enforce_limit=False) == job_services.CLAIMED
    job.refresh_from_db()
    job_services.execute(job)
    assert len(smtp_server.messages) == 1
    stranger = Client(enforce_csrf_checks=True)
    link = LINK.findall(MailMessage.objects.get(pk=message.pk).text)[1]  # "4"
    assert stranger.get(link).status_code == 200
    assert not CsatAnswer.objects.exists()
    assert stranger.post(link, {"score": "4"}).status_code == 200
    assert CsatAnswer.objects.get().score == 4


def test_an_answered_ticket_solved_again_is_not_asked_again(ticket, owner, send_account):
    solve(ticket, owner)
    ticket.refresh_from_db()
    services.record_csat(ticket, 5)
    tickets.set_status(ticket, TicketStatus.OPEN, user=owner)
    solve(ticket, owner)
    assert MailMessage.objects.filter(subject__startswith="How did we do?").count() == 1


def test_a_contact_without_an_address_is_not_asked(owner, send_account, customer):
    customer.email = ""
    customer.save()
    ticket = tickets.create_ticket(contact=customer, subject="Call me", body="", source=TicketSource.MANUAL)
    solve(ticket, owner)
    assert not MailMessage.objects.filter(subject__startswith="How did we do?").exists()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.SOLVED
