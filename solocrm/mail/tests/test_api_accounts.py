"""/api/v1/mail-accounts: owner only, passwords write-only, delete keeps the mail."""

import pytest

from solocrm.mail.models import MailAccount

pytestmark = pytest.mark.django_db

URL = "/api/v1/mail-accounts"
NEW = {
    "name": "Support",
    "email": "help@example.com",
    "imap_host": "imap.example.com",
    "imap_user": "help@example.com",
    "imap_password": "imap-pass-1",
    "smtp_host": "smtp.example.com",
    "smtp_password": "smtp-pass-1",
    "is_support": True,
}


def test_only_the_owner_manages_accounts(client, assistant, viewer):
    assert client.get(URL).status_code == 401
    for user in (assistant, viewer):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, NEW, content_type="application/json").status_code == 403


def test_the_owner_creates_reads_changes_and_deletes_without_seeing_passwords(owner_client):
    created = owner_client.post(URL, NEW, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["imap_password_stored"] and body["smtp_password_stored"] and body["poll_minutes"] == 1
    assert "pass-1" not in created.content.decode()
    account = MailAccount.objects.get(name="Support")
    assert account.imap_password == "imap-pass-1" and account.is_support
    listed = owner_client.get(URL).json()
    assert listed["count"] == 1 and "imap_password" not in listed["items"][0]
    one = f"{URL}/{account.uuid}"
    assert owner_client.get(one).json()["email"] == "help@example.com"
    patched = owner_client.patch(
        one, {"imap_password": "", "folders": ["INBOX"], "poll_minutes": 5}, content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["folders"] == ["INBOX"]
    account.refresh_from_db()
    assert account.imap_password == "imap-pass-1" and account.poll_minutes == 5
    assert owner_client.post(URL, NEW, content_type="application/json").status_code == 409
    bad = owner_client.patch(one, {"poll_minutes": 0, "nope": 1}, content_type="application/json")
    assert bad.status_code == 422
    assert owner_client.delete(one).status_code == 204
    assert not MailAccount.objects.exists()
    assert owner_client.get(one).status_code == 404


def test_the_command_deletes_an_account_and_says_the_mail_stays(db):
    import io

    from django.core.management import call_command

    MailAccount.objects.create(name="Old", email="old@example.com", imap_host="h", imap_user="u")
    out = io.StringIO()
    call_command("mail", "accounts", "delete", "Old", stdout=out)
    assert "stay" in out.getvalue() and not MailAccount.objects.exists()
