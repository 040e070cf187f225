"""send_mail: e-mail written in the CRM goes out over a real SMTP server (aiosmtpd) with proper
headers and both parts, is stored once, and lands on the timeline (stopping speed-to-lead)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from solocrm.contacts.choices import InteractionKind
from solocrm.contacts.models import Contact, Interaction
from solocrm.mail import outgoing, parsing
from solocrm.mail.models import Direction, MailMessage, MailSignature, MailThread, SendStatus
from solocrm.mail.outgoing import OutgoingFile, SendError, send_mail
from solocrm.sales.leadforms.services import with_response_times

from .smtp import free_port

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_a_message_goes_out_with_its_headers_and_both_parts(send_account, smtp_server, lead, owner):
    message = send_mail(to=lead, subject="Your garden plan", body="Hello **{{ first_name }}**", user=owner)
    [(sender, recipients, _raw)] = smtp_server.messages
    assert (sender, recipients) == ("owner@example.com", ["ada@customer.test"])
    parsed = smtp_server.parsed()
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().startswith("Hello **Ada**")
    assert "<strong>Ada</strong>" in parsed.get_body(("html",)).get_content()
    assert parsed["Subject"] == "Your garden plan"
    assert parsing.normalise_message_id(parsed["Message-ID"]) == message.message_id
    assert message.message_key == "m:" + message.message_id
    assert parsed["Message-ID"].endswith("@example.com>") and parsed["Date"]
    message.refresh_from_db()
    assert (message.status, message.direction, message.contact, message.written_by) == (
        SendStatus.SENT,
        Direction.OUT,
        lead,
        owner,
    )
    assert message.sent_at is not None and message.size > 0 and message.send_error == ""
    assert message.thread.contact == lead and message.thread.subject == "Your garden plan"


def test_a_sent_message_is_on_the_timeline_and_stops_the_speed_to_lead_clock(send_account, lead, owner):
    assert with_response_times(Contact.objects.filter(pk=lead.pk)).get().first_response_at is None
    message = send_mail(to=lead, subject="Thanks for asking", body="We can help.", user=owner)
    entry = Interaction.objects.get(contact=lead)
    assert (entry.kind, entry.subject, entry.author, entry.external_id) == (
        InteractionKind.EMAIL_OUT,
        "Thanks for asking",
        owner,
        f"mail:{message.uuid}",
    )
    assert entry.data["mail_message"] == str(message.uuid) and message.interaction_id == entry.pk
    assert (
        with_response_times(Contact.objects.filter(pk=lead.pk)).get().first_response_at == entry.occurred_at
    )


def test_a_reply_carries_in_reply_to_and_references_and_joins_the_thread(send_account, smtp_server, lead):
    thread = MailThread.objects.create(subject="Plan", contact=lead, last_message_at="2026-11-01T10:00Z")
    received = MailMessage.objects.create(
        message_key="m:abc@customer.test", message_id="abc@customer.test", references="<root@x.test>",
        thread=thread, direction=Direction.IN, from_address="ada@customer.test", subject="Plan",
        date="2026-11-01T10:00Z", contact=lead,
    )  # fmt: skip
    reply = send_mail(to=lead, subject="Re: Plan", body="Yes.", reply_to=received)
    parsed = smtp_server.parsed()
    assert parsed["In-Reply-To"] == "<abc@customer.test>"
    assert parsed["References"] == "<root@x.test> <abc@customer.test>"
    assert reply.thread == thread and reply.in_reply_to == "abc@customer.test"
    thread.refresh_from_db()
    assert thread.last_message_at == reply.date


def test_merge_fields_take_their_defaults_and_the_extras(send_account, smtp_server, nameless):
    message = send_mail(
        to=nameless,
        subject="Ticket {{ ticket.number }}",
        body='Hello {{ first_name|default:"there" }}, about {{ ticket.number|default:"?" }}.',
        merge={"ticket": {"number": "T-7"}},
    )
    assert message.subject == "Ticket T-7"
    assert message.text == "Hello there, about T-7."
    assert type(message.text) is str and type(message.subject) is str  # not marked safe for HTML


@pytest.mark.parametrize(
    "body",
    [
        "{% load static %}hi",
        "{% if 1 %}x{% endif %}",
        "{{ first_name|upper }}",
        "{% debug %}",
        "{{ first_name|default:x|lower }}",
    ],
)
def test_template_tags_and_other_filters_are_refused_and_nothing_is_stored(
    send_account, smtp_server, lead, body
):
    with pytest.raises(ValidationError, match=r"merge fields|default filter"):
        send_mail(to=lead, subject="Hi", body=body)
    assert not MailMessage.objects.exists() and smtp_server.messages == []


def test_script_in_the_body_the_subject_or_a_name_is_escaped(send_account, smtp_server, db):
    evil = Contact.objects.create(first_name="<script>alert(1)</script>", email="evil@customer.test")
    message = send_mail(
        to=evil,
        subject="<b>Hi</b> {{ first_name }}",
        body="<script>alert(2)</script> [x](javascript:alert(3)) <img src=x onerror=alert(4)> "
        "{{ first_name }}",
    )
    html = smtp_server.parsed().get_body(("html",)).get_content()
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html and "&lt;script&gt;alert(1)" in html
    assert "<script" not in message.html
    assert message.subject == "<b>Hi</b> <script>alert(1)</script>"  # plain text; pages escape it


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "Hi\r\nBcc: victim@example.com"),
        ("subject", "Hi\nX-Evil: 1"),
        ("cc", "a@x.test\r\nBcc: b@x.test"),
    ],
)
def test_a_line_break_in_a_header_is_refused(send_account, smtp_server, lead, field, value):
    kwargs = {"subject": "Hi", "cc": ()}
    kwargs[field] = value if field == "subject" else [value]
    with pytest.raises(ValidationError, match="line break"):
        send_mail(to=lead, body="x", **kwargs)
    assert smtp_server.messages == [] and not MailMessage.objects.exists()


def test_a_name_with_a_line_break_cannot_inject_a_header_through_the_subject(send_account, smtp_server, db):
    sneaky = Contact.objects.create(first_name="Ada\r\nBcc: victim@example.com", email="s@customer.test")
    with pytest.raises(ValidationError, match="line break"):
        send_mail(to=sneaky, subject="Hello {{ first_name }}", body="x")
    assert smtp_server.messages == []


def test_bad_addresses_and_a_contact_without_one_are_refused(send_account, lead, db):
    with pytest.raises(ValidationError, match="not a valid e-mail address"):
        send_mail(to=lead, subject="Hi", body="x", cc=["not an address"])
    with pytest.raises(ValidationError, match="no e-mail address"):
        send_mail(to=Contact.objects.create(first_name="Nomail"), subject="Hi", body="x")


def test_attachments_are_sent_and_stored_and_the_limit_and_types_apply(
    send_account, smtp_server, lead, settings
):
    message = send_mail(
        to=lead, subject="Plan", body="Attached.", attachments=[OutgoingFile("plan.pdf", PDF)]
    )
    [part] = list(smtp_server.parsed().iter_attachments())
    assert (part.get_filename(), part.get_content_type(), part.get_content()) == (
        "plan.pdf",
        "application/pdf",
        PDF,
    )
    [stored] = message.attachments.all()
    assert (stored.filename, stored.size) == ("plan.pdf", len(PDF))
    settings.SOLOCRM_MAX_ATTACHMENT_BYTES = 10
    with pytest.raises(ValidationError, match="larger than the limit"):
        send_mail(to=lead, subject="Plan", body="x", attachments=[OutgoingFile("plan.pdf", PDF)])
    settings.SOLOCRM_MAX_ATTACHMENT_BYTES = 10_000
    with pytest.raises(ValidationError, match="cannot be attached"):
        send_mail(to=lead, subject="Plan", body="x", attachments=[OutgoingFile("run.exe", b"MZ\x90\x00")])
    with pytest.raises(ValidationError, match="not really a PDF"):
        send_mail(to=lead, subject="Plan", body="x", attachments=[OutgoingFile("fake.pdf", b"<html>")])
    assert len(smtp_server.messages) == 1 and MailMessage.objects.count() == 1


def test_the_writers_signature_is_appended(send_account, smtp_server, lead, owner):
    MailSignature.objects.create(user=owner, body="Olivia\n*Blue Fern*")
    message = send_mail(to=lead, subject="Hi", body="Hello", user=owner)
    assert message.text == "Hello\n\n-- \nOlivia\n*Blue Fern*"
    assert "<em>Blue Fern</em>" in smtp_server.parsed().get_body(("html",)).get_content()


def test_without_an_account_the_business_settings_send_it(db, lead, mailoutbox, settings, tmp_path):
    settings.SOLOCRM_ATTACHMENT_DIR = tmp_path
    message = send_mail(to=lead, subject="Hi", body="Hello")
    [sent] = mailoutbox
    assert sent.to == ["ada@customer.test"] and message.status == SendStatus.SENT and message.account is None


def test_with_no_mail_server_the_status_says_outbox_and_the_timeline_has_nothing(
    db, lead, settings, tmp_path
):
    settings.EMAIL_BACKEND = "solocrm.lib.business.DISPATCHING_BACKEND" and "solocrm.users.mail.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "outbox"
    settings.SOLOCRM_ATTACHMENT_DIR = tmp_path
    message = send_mail(to=lead, subject="Hi", body="Hello")
    assert message.status == SendStatus.OUTBOX
    assert any((tmp_path / "outbox").iterdir())
    assert not Interaction.objects.filter(contact=lead).exists()


def test_a_server_that_cannot_be_reached_fails_the_message_with_the_error(send_account, lead):
    send_account.smtp_port = free_port()
    send_account.save()
    with pytest.raises(SendError) as caught:
        send_mail(to=lead, subject="Hi", body="Hello")
    message = caught.value.message
    message.refresh_from_db()
    assert message.status == SendStatus.FAILED and message.send_error
    assert not Interaction.objects.filter(contact=lead).exists()


def test_the_default_account_is_the_named_one_or_the_first_active_with_smtp(send_account, settings):
    other = outgoing.MailAccount.objects.create(
        name="Another", email="b@example.com", imap_host="h", imap_user="u", smtp_host="smtp.example.com"
    )
    assert outgoing.default_account() == other  # "Another" < "Studio"
    settings.SOLOCRM_MAIL_SEND_ACCOUNT = "Studio"
    assert outgoing.default_account() == send_account


def test_an_account_without_smtp_sends_through_the_settings_and_says_outbox_when_there_is_none(
    db, lead, settings, tmp_path
):
    settings.EMAIL_BACKEND = "solocrm.users.mail.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "outbox"
    settings.SOLOCRM_ATTACHMENT_DIR = tmp_path
    reading_only = outgoing.MailAccount.objects.create(
        name="Read", email="me@example.com", imap_host="h", imap_user="u"
    )
    message = send_mail(to=lead, subject="Hi", body="Hello", account=reading_only)
    assert message.status == SendStatus.OUTBOX and message.from_address == "me@example.com"


def test_an_attachment_gone_from_the_disk_fails_the_message_not_the_caller(send_account, smtp_server, lead):
    message = send_mail(
        to=lead, subject="Later", body="x", attachments=[OutgoingFile("plan.pdf", PDF)],
        send_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    outgoing.attachment_path(message.attachments.get()).unlink()
    MailMessage.objects.filter(pk=message.pk).update(send_at=timezone.now())
    assert outgoing.deliver(MailMessage.objects.get(pk=message.pk)) == SendStatus.FAILED
    assert smtp_server.messages == []
