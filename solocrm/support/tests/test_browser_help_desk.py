"""The help desk in a real browser, with a real SMTP server: a stranger asks for help on the
public form, the owner answers the ticket with a canned reply and solves it, and the customer's
CSAT link records a 5."""

from __future__ import annotations

import re

import pytest

from solocrm.mail.models import Direction, MailMessage, SendStatus
from solocrm.mail.tests import smtp
from solocrm.support.helpdesk.models import CsatAnswer
from solocrm.support.models import CannedReply, Ticket
from solocrm.support.tickets.choices import TicketSource, TicketStatus
from solocrm.web.tests.browser import BROWSER_TEST, log_in

pytestmark = BROWSER_TEST

# The real SMTP server (aiosmtpd) and an account sending through it, from the mail tests.
smtp_server = smtp.smtp_server
send_account = smtp.send_account


@pytest.fixture
def support_mailbox(send_account, live_server, settings):
    send_account.is_support = True
    send_account.save()
    settings.SOLOCRM_PUBLIC_URL = live_server.url  # the CSAT links point here
    return send_account


def test_a_help_form_ticket_gets_a_canned_reply_is_solved_and_rated_5(
    browser_page, live_server, owner, support_mailbox, smtp_server
):
    expect = pytest.importorskip("playwright.sync_api").expect
    page = browser_page
    CannedReply.objects.create(title="Parcel found", body="Hello {first_name}, your parcel is on its way.")

    page.goto(f"{live_server.url}/help/ask/")
    page.get_by_label("Your name").fill("Grace Hopper")
    page.get_by_label("Your e-mail address").fill("grace@customer.test")
    page.get_by_label("Subject").fill("Where is my parcel?")
    page.get_by_label("Your question").fill("It was due on Monday.")
    page.wait_for_timeout(2100)  # the form's token is good from two seconds on (bots are faster)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    ticket = Ticket.objects.get()
    assert ticket.source == TicketSource.FORM and ticket.contact.email == "grace@customer.test"

    log_in(page, live_server)
    page.goto(f"{live_server.url}/support/")
    page.get_by_role("link", name="Where is my parcel?").click()
    page.get_by_label("Canned reply").select_option(label="Parcel found")
    # Insert with the reply box still empty (htmx must not halt on the box's "required")
    page.get_by_role("button", name="Insert").click()
    reply = page.get_by_label("Reply", exact=True)
    expect(reply).to_have_value("Hello Grace, your parcel is on its way.")
    page.get_by_label("Then set the status to").select_option(value=TicketStatus.SOLVED)
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("body")).to_contain_text("your parcel is on its way")

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.SOLVED and ticket.first_responded_at is not None
    assert any(b"your parcel is on its way" in raw for _from, _to, raw in smtp_server.messages)
    question = MailMessage.objects.filter(direction=Direction.OUT, status=SendStatus.SCHEDULED).get()
    # what the customer will get, five minutes after solving: one link a score
    five = re.search(r"\[5 [^\]]*\]\((http[^)]+)\)", question.text).group(1)
    assert five.startswith(live_server.url + "/help/ask/rate/")

    page.goto(five)
    expect(page.get_by_role("heading", name="How did we do?")).to_be_visible()
    assert not CsatAnswer.objects.exists()  # opening the link records nothing
    expect(page.get_by_label("5", exact=False).first).to_be_checked()
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert CsatAnswer.objects.get(ticket=ticket).score == 5
