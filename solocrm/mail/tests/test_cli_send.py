"""solocrm mail send: from a file or a template, now or later, with clear errors."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from solocrm.mail.models import MailMessage, MailSignature, MailTemplate, SendStatus

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _send(*args: str) -> str:
    out = io.StringIO()
    call_command("mail", "send", *args, stdout=out)
    return out.getvalue()


def test_it_sends_a_body_file_as_a_user_with_an_attachment(send_account, smtp_server, lead, owner, tmp_path):
    body = tmp_path / "body.md"
    body.write_text("Hello {{ first_name }}", encoding="utf-8")
    plan = tmp_path / "plan.pdf"
    plan.write_bytes(PDF)
    MailSignature.objects.create(user=owner, body="Olivia")
    out = _send("--to", "ada@customer.test", "--subject", "Plan", "--body-file", str(body),
                "--attach", str(plan), "--user", owner.username, "--json")  # fmt: skip
    result = json.loads(out)
    assert result["status"] == "sent" and result["to"] == ["ada@customer.test"]
    message = MailMessage.objects.get(uuid=result["uuid"])
    assert message.text == "Hello Ada\n\n-- \nOlivia" and message.written_by == owner
    assert [p.get_filename() for p in smtp_server.parsed().iter_attachments()] == ["plan.pdf"]


def test_it_schedules_from_a_template(send_account, smtp_server, lead):
    MailTemplate.objects.create(name="Thanks", subject="Thanks {{ first_name }}", body="Thank you!")
    out = _send("--to", str(lead.uuid), "--template", "Thanks", "--at", "2099-01-02T09:00")
    assert "Scheduled" in out and "Thanks Ada" in out and smtp_server.messages == []
    message = MailMessage.objects.get()
    assert message.status == SendStatus.SCHEDULED and message.send_at.year == 2099


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--to", "nobody@else.test", "--template", "T"], "No contact has the address"),
        (["--to", "ada@customer.test", "--template", "Nope"], "no template"),
        (["--to", "ada@customer.test", "--template", "T", "--at", "soon"], "not a date and time"),
        (["--to", "ada@customer.test", "--template", "T", "--attach", "/nonexistent.pdf"], "Cannot read"),
        (["--to", "ada@customer.test", "--subject", "x"], "Give --body-file or --template"),
        (["--to", "ada@customer.test", "--template", "T", "--cc", "bad"], "not a valid e-mail address"),
    ],
)
def test_bad_arguments_are_clear_errors(send_account, smtp_server, lead, args, error):
    MailTemplate.objects.create(name="T", subject="Hi", body="Hello")
    with pytest.raises(CommandError, match=error):
        _send(*args)
    assert smtp_server.messages == [] and not MailMessage.objects.exists()
