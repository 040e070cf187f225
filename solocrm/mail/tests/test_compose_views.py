"""The compose page and its neighbours: write to a contact (from the contact, company, deal or
Today), reply, forward, templates, preview, attachments, later; roles; the list of e-mail
written here with its query count; the "E-mail" links of other pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from solocrm.contacts.models import Company, Contact, Interaction
from solocrm.mail import outgoing
from solocrm.mail.models import (
    Direction,
    MailAttachment,
    MailMessage,
    MailSignature,
    MailTemplate,
    MailThread,
    SendStatus,
)
from solocrm.mail.outgoing import OutgoingFile
from solocrm.sales.deals.services import create_deal

COMPOSE = reverse("mail_compose:compose")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _post(client, query: str = "", **fields):
    data = {"to": "ada@customer.test", "subject": "Hello", "body": "Hi {{ first_name }}", "when": "now"}
    data.update(fields)
    return client.post(COMPOSE + query, data)


def _received(contact: Contact, **extra) -> MailMessage:
    thread = MailThread.objects.create(subject="Garden", contact=contact, last_message_at=timezone.now())
    return MailMessage.objects.create(
        message_key="m:in-1@customer.test", message_id="in-1@customer.test", thread=thread,
        direction=Direction.IN, from_address=contact.email, from_name="Ada", subject="Garden",
        date=timezone.now() - timedelta(hours=1), text="Can you come on Monday?", contact=contact,
        to_addresses=["owner@example.com"], **extra,
    )  # fmt: skip


def test_the_page_opens_for_a_contact_with_the_address_filled(owner_client, send_account, lead):
    page = owner_client.get(COMPOSE + f"?contact={lead.uuid}").content.decode()
    assert 'value="ada@customer.test"' in page and 'name="subject"' in page
    assert "<script>" not in page.split("</head>")[1].split("compose.js")[0]  # no inline script


def test_sending_goes_out_and_returns_to_the_contact(owner_client, send_account, smtp_server, lead):
    response = _post(owner_client, f"?contact={lead.uuid}")
    assert response.status_code == 302 and response.url == reverse("contacts:detail", args=[lead.uuid])
    [(_from, to, _raw)] = smtp_server.messages
    assert to == ["ada@customer.test"] and smtp_server.parsed()["Subject"] == "Hello"
    message = MailMessage.objects.get()
    assert message.text == "Hi Ada" and message.status == SendStatus.SENT
    page = owner_client.get(response.url).content.decode()
    assert "E-mail sent to ada@customer.test." in page


def test_the_assistant_may_write_the_viewer_and_the_stranger_may_not(
    assistant_client, send_account, smtp_server, lead, viewer, client
):
    assert _post(assistant_client).status_code == 302 and len(smtp_server.messages) == 1
    client.logout()
    assert client.get(COMPOSE).status_code == 302  # to the log-in page
    assert _post(client).status_code == 302 and len(smtp_server.messages) == 1
    client.force_login(viewer)
    assert client.get(COMPOSE + f"?contact={lead.uuid}").status_code == 403
    assert _post(client).status_code == 403 and len(smtp_server.messages) == 1
    assert client.get(reverse("mail_compose:templates")).status_code == 403
    assert client.get(reverse("mail_compose:sent")).status_code == 200  # viewers may read


def test_an_unknown_address_a_template_error_and_a_header_break_are_shown_and_nothing_sent(
    owner_client, send_account, smtp_server, lead
):
    page = _post(owner_client, to="nobody@else.test").content.decode()
    assert "No contact has the address" in page
    response = _post(owner_client, body="{% load static %}x")
    assert response.status_code == 422 and "merge fields cannot be read" in response.content.decode()
    response = _post(owner_client, subject="Hi\r\nBcc: victim@example.com")
    assert response.status_code == 422 and "line break" in response.content.decode()
    assert smtp_server.messages == [] and not MailMessage.objects.exists()


def test_files_are_attached_and_a_file_over_the_limit_is_refused(
    owner_client, send_account, smtp_server, lead, settings
):
    upload = SimpleUploadedFile("plan.pdf", PDF, content_type="application/pdf")
    assert _post(owner_client, attachments=[upload]).status_code == 302
    [part] = list(smtp_server.parsed().iter_attachments())
    assert part.get_filename() == "plan.pdf"
    settings.SOLOCRM_MAX_ATTACHMENT_BYTES = 10
    big = SimpleUploadedFile("plan.pdf", PDF, content_type="application/pdf")
    response = _post(owner_client, attachments=[big])
    assert response.status_code == 422 and "larger than the limit" in response.content.decode()
    assert len(smtp_server.messages) == 1


def test_a_message_can_be_scheduled_and_cancelled(owner_client, send_account, smtp_server, lead):
    later = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = _post(owner_client, when="later", send_at=later)
    assert response.status_code == 302 and smtp_server.messages == []
    message = MailMessage.objects.get()
    assert message.status == SendStatus.SCHEDULED
    assert "scheduled for" in owner_client.get(response.url).content.decode()
    owner_client.post(reverse("mail_compose:cancel", args=[message.uuid]))
    message.refresh_from_db()
    assert message.status == SendStatus.CANCELLED
    past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert "That time has passed" in _post(owner_client, when="later", send_at=past).content.decode()


def test_a_reply_starts_quoted_and_goes_out_threaded(owner_client, send_account, smtp_server, lead):
    received = _received(lead)
    page = owner_client.get(COMPOSE + f"?reply_to={received.uuid}").content.decode()
    assert 'value="Re: Garden"' in page and "&gt; Can you come on Monday?" in page
    assert _post(owner_client, f"?reply_to={received.uuid}", subject="Re: Garden").status_code == 302
    assert smtp_server.parsed()["In-Reply-To"] == "<in-1@customer.test>"
    assert MailMessage.objects.get(direction=Direction.OUT).thread_id == received.thread_id


def test_a_forward_carries_the_original_and_its_attachments(owner_client, send_account, smtp_server, lead):
    received = _received(lead)
    [name, kind, sha, size] = outgoing._checked_file(OutgoingFile("brief.pdf", PDF))
    MailAttachment.objects.create(message=received, filename=name, content_type=kind, sha256=sha, size=size)
    page = owner_client.get(COMPOSE + f"?forward={received.uuid}").content.decode()
    assert 'value="Fwd: Garden"' in page and "Forwarded message" in page and "brief.pdf" in page
    Contact.objects.create(first_name="Bob", email="bob@client.test")
    response = _post(
        owner_client,
        f"?forward={received.uuid}",
        to="bob@client.test",
        subject="Fwd: Garden",
        include_attachments="on",
    )
    assert response.status_code == 302
    assert [p.get_filename() for p in smtp_server.parsed().iter_attachments()] == ["brief.pdf"]


def test_from_a_deal_the_message_and_its_timeline_entry_belong_to_the_deal(
    owner_client, send_account, smtp_server, lead
):
    deal = create_deal({"title": "Roof garden", "contact": lead})
    page = owner_client.get(reverse("sales:deal_detail", args=[deal.uuid])).content.decode()
    assert f"{COMPOSE}?deal={deal.uuid}" in page
    assert 'value="ada@customer.test"' in owner_client.get(COMPOSE + f"?deal={deal.uuid}").content.decode()
    response = _post(owner_client, f"?deal={deal.uuid}", deal=str(deal.uuid))
    assert response.url == reverse("sales:deal_detail", args=[deal.uuid])
    assert MailMessage.objects.get().deal == deal
    assert Interaction.objects.get(contact=lead, kind="email_out").deal == deal


def test_from_a_company_its_people_are_offered(owner_client, send_account, db):
    company = Company.objects.create(name="Engines Ltd")
    Contact.objects.create(first_name="Ada", email="ada@engines.test", company=company)
    assert (
        f"{COMPOSE}?company={company.uuid}"
        in owner_client.get(reverse("contacts:company_detail", args=[company.uuid])).content.decode()
    )
    page = owner_client.get(COMPOSE + f"?company={company.uuid}").content.decode()
    assert "People at Engines Ltd" in page and "ada@engines.test" in page


def test_a_template_fills_the_form_and_the_preview_shows_the_merge_escaped(owner_client, send_account, lead):
    template = MailTemplate.objects.create(
        name="Follow-up",
        subject='About {{ company|default:"your project" }}',
        body="Hi <b>{{ first_name }}</b>",
    )
    page = owner_client.get(COMPOSE + f"?contact={lead.uuid}&template={template.uuid}").content.decode()
    assert "About {{ company|default:&quot;your project&quot; }}" in page and "Follow-up" in page
    response = owner_client.post(
        reverse("mail_compose:preview"),
        {
            "to": lead.email,
            "subject": template.subject,
            "body": template.body + "<script>x</script>",
            "when": "now",
        },
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "About your project" in html and "Hi &lt;b&gt;Ada&lt;/b&gt;" in html
    assert "<script>" not in html and "<b>" not in html
    assert not MailMessage.objects.exists()


def test_templates_are_managed_and_bad_merge_fields_refused(assistant_client, db):
    url = reverse("mail_compose:template_create")
    response = assistant_client.post(url, {"name": "Bad", "subject": "x", "body": "{{ name|upper }}"})
    assert response.status_code == 422 and "merge fields cannot be read" in response.content.decode()
    assert (
        assistant_client.post(url, {"name": "Thanks", "subject": "Thanks", "body": "Hi"}).status_code == 302
    )
    template = MailTemplate.objects.get()
    listing = assistant_client.get(reverse("mail_compose:templates")).content.decode()
    assert "Thanks" in listing
    assistant_client.post(reverse("mail_compose:template_delete", args=[template.uuid]))
    assert not MailTemplate.objects.exists()


def test_each_user_keeps_a_signature(owner_client, owner, db):
    url = reverse("mail_compose:signature")
    assert owner_client.post(url, {"body": "Olivia — {{ business_name }}"}).status_code == 302
    assert MailSignature.objects.get(user=owner).body == "Olivia — {{ business_name }}"
    assert "{% if" not in MailSignature.objects.get().body
    assert owner_client.post(url, {"body": "{% if x %}"}).status_code == 422


def test_the_list_of_mail_written_here_costs_the_same_queries_for_many(owner_client, send_account, lead):
    url = reverse("mail_compose:sent")
    outgoing.send_mail(to=lead, subject="one", body="x")
    owner_client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert owner_client.get(url).status_code == 200
    for i in range(12):
        other = Contact.objects.create(first_name=f"P{i}", email=f"p{i}@customer.test")
        outgoing.send_mail(to=other, subject=f"m{i}", body="x", send_at=timezone.now() + timedelta(days=1))
    with CaptureQueriesContext(connection) as many:
        page = owner_client.get(url).content.decode()
    assert len(many) == len(few)
    assert "m11" in page and "Scheduled" in page


def test_a_failed_message_can_be_sent_again(owner_client, send_account, smtp_server, lead):
    smtp_server.refuse_with = "554 no"
    response = _post(owner_client)
    assert response.status_code == 502 and "was not sent" in response.content.decode()
    message = MailMessage.objects.get()
    assert message.status == SendStatus.FAILED
    smtp_server.refuse_with = ""
    owner_client.post(reverse("mail_compose:send_again", args=[message.uuid]))
    message.refresh_from_db()
    assert message.status == SendStatus.SENT and len(smtp_server.messages) == 1


def test_other_pages_link_to_the_compose_page_when_mail_is_set_up_else_mailto(
    owner_client, viewer, lead, client
):
    contact_page = reverse("contacts:detail", args=[lead.uuid])
    assert 'href="mailto:ada@customer.test"' in owner_client.get(contact_page).content.decode()
    outgoing.MailAccount.objects.create(
        name="Studio", email="owner@example.com", imap_host="h", imap_user="u", smtp_host="127.0.0.1"
    )
    page = owner_client.get(contact_page).content.decode()
    assert f'href="{COMPOSE}?contact={lead.uuid}"' in page
    client.force_login(viewer)
    assert 'href="mailto:ada@customer.test"' in client.get(contact_page).content.decode()


@pytest.mark.parametrize("param", ["contact", "deal", "reply_to", "forward", "template", "company"])
def test_an_unknown_id_is_a_404(owner_client, db, param):
    assert owner_client.get(COMPOSE + f"?{param}=01234567-89ab-7def-8123-456789abcdef").status_code == 404
    assert owner_client.get(COMPOSE + f"?{param}=not-a-uuid").status_code == 404


def test_the_today_items_e_mail_action_opens_the_compose_page_when_mail_is_set_up(db, lead):
    from solocrm.lib.today import contact_actions

    [_log, email] = contact_actions(lead)
    assert email.url == "mailto:ada@customer.test"
    outgoing.MailAccount.objects.create(
        name="Studio", email="owner@example.com", imap_host="h", imap_user="u", smtp_host="127.0.0.1"
    )
    [_log, email] = contact_actions(lead)
    assert email.url == f"{COMPOSE}?contact={lead.uuid}" and email.method == "get"
