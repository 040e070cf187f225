"""POST /api/v1/messages: write to a contact now or later, through a real SMTP server; roles;
clear 422s; GET shows the status; the templates list."""

from __future__ import annotations

import base64
from datetime import timedelta

from django.utils import timezone

from solocrm.mail.models import MailMessage, MailTemplate, SendStatus

URL = "/api/v1/messages"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _post(client, **payload):
    body = {"to": "ada@customer.test", "subject": "Hello", "body": "Hi {{ first_name }}"}
    body.update(payload)
    return client.post(URL, body, content_type="application/json")


def test_sending_answers_the_stored_message(owner_client, send_account, smtp_server, lead):
    response = _post(
        owner_client,
        to=str(lead.uuid),
        cc=["boss@customer.test"],
        attachments=[{"filename": "plan.pdf", "content": base64.b64encode(PDF).decode()}],
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "sent" and data["direction"] == "out" and data["contact"] == str(lead.uuid)
    assert data["text"] == "Hi Ada" and data["cc"] == ["boss@customer.test"]
    assert [a["filename"] for a in data["attachments"]] == ["plan.pdf"]
    [(_f, recipients, _raw)] = smtp_server.messages
    assert recipients == ["ada@customer.test", "boss@customer.test"]
    assert owner_client.get(URL, {"status": "sent"}).json()["count"] == 1


def test_a_template_and_a_later_time_can_be_given(assistant_client, send_account, smtp_server, lead):
    MailTemplate.objects.create(name="Thanks", subject="Thanks {{ first_name }}", body="Thank you!")
    when = (timezone.now() + timedelta(days=2)).isoformat()
    response = _post(assistant_client, subject=None, body=None, template="Thanks", send_at=when)
    assert response.status_code == 201
    data = response.json()
    assert (data["status"], data["subject"]) == ("scheduled", "Thanks Ada") and data["send_at"]
    assert smtp_server.messages == []
    listed = assistant_client.get("/api/v1/mail-templates").json()
    assert [t["name"] for t in listed["items"]] == ["Thanks"]


def test_a_reply_is_threaded(owner_client, send_account, smtp_server, lead):
    first = _post(owner_client).json()
    second = _post(owner_client, subject="Re: Hello", reply_to=first["uuid"]).json()
    assert second["thread"] == first["thread"] and second["in_reply_to"] == first["message_id"]
    assert smtp_server.parsed()["References"] == f"<{first['message_id']}>"


def test_bad_input_is_a_clear_422_and_nothing_is_sent(owner_client, send_account, smtp_server, lead):
    cases = [
        ({"to": "nobody@else.test"}, "No contact has the address"),
        ({"subject": "Hi\r\nBcc: x@evil.test"}, "line break"),
        ({"body": "{% load static %}"}, "merge fields"),
        ({"cc": ["not an address"]}, "not a valid e-mail address"),
        ({"template": "nope"}, "no template"),
        ({"reply_to": "01234567-89ab-7def-8123-456789abcdef"}, "no e-mail with this id"),
        (
            {"attachments": [{"filename": "x.exe", "content": base64.b64encode(b"MZ").decode()}]},
            "cannot be attached",
        ),
        ({"attachments": [{"filename": "x.pdf", "content": "%%%"}]}, "not base64"),
        ({"unknown": 1}, "Extra inputs"),
    ]
    for payload, expected in cases:
        response = _post(owner_client, **payload)
        assert response.status_code == 422, (payload, response.content)
        assert expected in response.content.decode(), (payload, response.content)
    assert smtp_server.messages == [] and not MailMessage.objects.exists()


def test_a_refusing_server_is_a_502_and_the_message_is_kept_failed(
    owner_client, send_account, smtp_server, lead
):
    smtp_server.refuse_with = "554 5.7.1 no"
    response = _post(owner_client)
    assert response.status_code == 502 and "was not sent" in response.json()["detail"]
    assert MailMessage.objects.get().status == SendStatus.FAILED


def test_a_viewer_may_read_but_not_send_and_a_stranger_gets_nothing(client, viewer, send_account, lead):
    assert _post(client).status_code == 401
    client.force_login(viewer)
    assert _post(client).status_code == 403
    assert client.get(URL).status_code == 200
    assert not MailMessage.objects.exists()
