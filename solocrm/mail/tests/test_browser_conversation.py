"""The conversation in a real browser, against real servers: the owner writes to a customer from
the contact page (the message leaves through a real SMTP server), the customer's reply lands in a
real IMAP mailbox (Dovecot), "Sync now" reads it, and it shows on the contact's timeline."""

from __future__ import annotations

import pytest

from solocrm.contacts.models import Contact
from solocrm.mail.models import Direction, MailAccount, MailMessage, Security
from solocrm.web.tests.browser import BROWSER_TEST, log_in

from .factory import message

pytestmark = BROWSER_TEST


@pytest.fixture
def studio(db, dovecot, smtp_server, settings, tmp_path):
    """One mailbox that reads from Dovecot and sends through aiosmtpd."""
    settings.SOLOCRM_ATTACHMENT_DIR = tmp_path / "attachments"
    account = MailAccount(
        name="Studio",
        email="owner@example.com",
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_security=Security.NONE,
        imap_user=dovecot.user,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security=Security.NONE,
    )
    account.imap_password = dovecot.password
    account.save()
    return account


def test_the_owner_writes_from_the_contact_page_and_the_reply_reaches_the_timeline(
    browser_page, live_server, owner, studio, dovecot, smtp_server
):
    expect = pytest.importorskip("playwright.sync_api").expect
    page = browser_page
    ada = Contact.objects.create(first_name="Ada", last_name="Lovelace", email="ada@customer.test")
    log_in(page, live_server)

    page.goto(f"{live_server.url}/contacts/{ada.uuid}/")
    page.get_by_role("link", name="E-mail", exact=True).first.click()
    expect(page.get_by_role("heading", name="Write an e-mail")).to_be_visible()
    page.get_by_label("Subject").fill("Your garden plan")
    page.get_by_label("Message").fill('Hello {{ first_name|default:"there" }},\n\nthe **plan** is attached.')
    page.get_by_role("button", name="Send").click()
    expect(page.locator("body")).to_contain_text("Your garden plan")

    assert len(smtp_server.messages) == 1
    sent = smtp_server.parsed()
    assert sent["To"] == "Ada Lovelace <ada@customer.test>" or "ada@customer.test" in sent["To"]
    assert "Hello Ada," in sent.get_body(("plain",)).get_content()
    assert "<strong>plan</strong>" in sent.get_body(("html",)).get_content()
    ours = MailMessage.objects.get(direction=Direction.OUT)

    dovecot.append(
        message(
            subject="Re: Your garden plan",
            text="Thanks, the plan looks lovely!",
            in_reply_to=sent["Message-ID"],
            references=sent["Message-ID"],
        )
    )
    page.goto(f"{live_server.url}/mail/accounts/")
    page.get_by_role("button", name="Sync now").first.click()

    page.goto(f"{live_server.url}/contacts/{ada.uuid}/")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Re: Your garden plan")
    reply = MailMessage.objects.get(direction=Direction.IN)
    assert reply.thread_id == ours.thread_id and reply.contact == ada
