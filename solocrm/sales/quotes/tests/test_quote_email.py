"""Sending a quote: the e-mail (summary, PDF, accept link), the quote marked sent, the timeline
entry on the contact and the deal; through the locmem outbox and a real SMTP server."""

from __future__ import annotations

import email
import re
import socket
from datetime import timedelta
from email import policy

import pytest
from django.utils import timezone

from solocrm.contacts.choices import InteractionKind
from solocrm.sales.choices import QuoteStatus
from solocrm.sales.deals.models import Deal
from solocrm.sales.quotes import services as quotes
from solocrm.sales.quotes.models import Quote
from solocrm.sales.quotes.tests.quote_helpers import line, pdf_text


@pytest.fixture
def draft(deal):
    return quotes.create_quote(deal, lines=[line("Planting plan", "2", "450.00", tax="20")])


def _send(quote, to="ada@example.com", message="Dear Ada, here it is.", actor=None):
    return quotes.send_quote(quote, to, message, actor=actor, base_url="https://crm.example.com/")


def test_the_email_carries_the_summary_the_pdf_and_a_working_accept_link(client, draft, owner, mailoutbox):
    _send(draft, actor=owner)
    [message] = mailoutbox
    assert message.to == ["ada@example.com"] and message.reply_to == [owner.email]
    assert draft.number in message.subject
    assert "Dear Ada, here it is." in message.body and "1,080.00 EUR" in message.body
    [(name, content, mimetype)] = message.attachments
    assert (name, mimetype) == (f"{draft.number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF") and draft.number in pdf_text(content)
    link = re.search(r"https://crm\.example\.com(/q/[^\s]+/)", message.body)[1]
    assert client.get(link).status_code == 200


def test_sending_marks_the_quote_sent_and_logs_an_email_on_the_contact_and_deal(draft, owner, mailoutbox):
    before = Deal.objects.get(pk=draft.deal_id).last_activity_at
    _send(draft, actor=owner)
    draft.refresh_from_db()
    assert (draft.status, draft.sent_to) == (QuoteStatus.SENT, "ada@example.com")
    assert draft.sent_at is not None
    entry = draft.contact.interactions.get(kind=InteractionKind.EMAIL_OUT)
    assert entry.deal_id == draft.deal_id and draft.number in entry.subject and entry.author == owner
    assert Deal.objects.get(pk=draft.deal_id).last_activity_at > before


def test_a_sent_quote_can_be_sent_again_to_another_address(draft, mailoutbox):
    _send(draft)
    _send(draft, to="accounts@example.com")
    draft.refresh_from_db()
    assert draft.sent_to == "accounts@example.com" and len(mailoutbox) == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no_lines", "at least one line"),
        ("expired", "validity date has passed"),
        ("withdrawn", "Only a draft or sent quote"),
    ],
)
def test_a_quote_that_cannot_be_sent_is_refused_and_nothing_is_sent(deal, mailoutbox, change, message):
    quote = quotes.create_quote(deal, lines=[] if change == "no_lines" else [line()])
    if change == "expired":
        yesterday = timezone.localdate() - timedelta(days=1)
        Quote.objects.filter(pk=quote.pk).update(issued_on=yesterday, valid_until=yesterday)
    if change == "withdrawn":
        quotes.withdraw_quote(quote)
    with pytest.raises(quotes.QuoteError, match=message):
        _send(quote)
    quote.refresh_from_db()
    assert quote.sent_at is None and mailoutbox == []


def test_when_the_mail_server_refuses_the_quote_stays_a_draft(draft, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _free_port(), 2
    with pytest.raises(quotes.QuoteError, match="mail server"):
        _send(draft)
    draft.refresh_from_db()
    assert draft.status == QuoteStatus.DRAFT and draft.sent_at is None
    assert not draft.contact.interactions.filter(kind=InteractionKind.EMAIL_OUT).exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def test_the_quote_goes_out_over_real_smtp_with_the_pdf_attached(draft, settings, owner):
    controller_module = pytest.importorskip("aiosmtpd.controller")
    inbox = _Inbox()
    port = _free_port()
    controller = controller_module.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.DEFAULT_FROM_EMAIL = "studio@example.com"
        _send(draft, actor=owner)
    finally:
        controller.stop()
    [(sender, recipients, raw)] = inbox.messages
    assert (sender, recipients) == ("studio@example.com", ["ada@example.com"])
    parsed = email.message_from_bytes(raw, policy=policy.default)
    body = parsed.get_body(preferencelist=("plain",)).get_content()
    assert "/q/" in body and draft.number in parsed["Subject"]
    [pdf] = [part for part in parsed.iter_attachments() if part.get_content_type() == "application/pdf"]
    assert pdf.get_filename() == f"{draft.number}.pdf"
    assert draft.number in pdf_text(pdf.get_content())
