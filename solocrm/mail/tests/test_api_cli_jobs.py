"""The messages API (roles), the `solocrm mail` command and the recurring sync job."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from solocrm.jobs.choices import JobStatus
from solocrm.jobs.models import Job
from solocrm.mail import jobs, sync
from solocrm.mail.models import MailAccount, MailMessage
from solocrm.users import crypto
from solocrm.web import scheduler

from .factory import message

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/messages"


def test_the_api_lists_a_contacts_messages_for_every_role_and_nobody_else(
    account, dovecot, ada, bob, client, viewer
):
    dovecot.append(message(subject="From Ada", html='<p>Hi<img src="http://t.test/x.gif"></p>'))
    dovecot.append(message(sender="bob@client.test", subject="From Bob"))
    sync.sync_account(account)
    assert client.get(URL).status_code == 401
    client.force_login(viewer)
    everything = client.get(URL).json()
    assert everything["count"] == 2
    only_ada = client.get(URL, {"contact": str(ada.uuid)}).json()
    assert [m["subject"] for m in only_ada["items"]] == ["From Ada"]
    item = only_ada["items"][0]
    assert item["contact"] == str(ada.uuid) and item["direction"] == "in"
    assert item["has_remote_images"] and "data-remote-src" in item["html"]
    one = client.get(f"{URL}/{item['uuid']}")
    assert one.status_code == 200 and one.json()["subject"] == "From Ada"
    assert client.get(f"{URL}/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.post(URL, {}, content_type="application/json").status_code in {403, 405}


def test_the_api_refuses_a_user_without_a_role(account, client, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", "n@example.com", "pw-123456789")
    client.force_login(nobody)
    assert client.get(URL).status_code == 403


def test_passwords_are_stored_encrypted(account, dovecot):
    stored = MailAccount.objects.get(pk=account.pk)
    assert dovecot.password not in stored.imap_password_encrypted
    assert crypto.decrypt(stored.imap_password_encrypted) == dovecot.password == stored.imap_password


def test_the_clock_queues_a_sync_per_due_account_once(account, dovecot, ada):
    dovecot.append(message())
    report = scheduler.tick()
    assert report.mail_syncs == 1
    job = Job.objects.get(kind=jobs.KIND)
    assert job.status == JobStatus.DONE and job.result["stored"] == 1
    assert MailMessage.objects.count() == 1
    assert scheduler.tick().mail_syncs == 0  # synced a moment ago
    later = timezone.now() + timedelta(minutes=account.poll_minutes + 1)
    assert jobs.queue_due_syncs(later) == 1


def test_a_queued_sync_is_not_queued_twice(account):
    Job.objects.create(
        kind=jobs.KIND,
        handler="x",
        params={"account": str(account.uuid)},
        status=JobStatus.QUEUED,
        time_limit=60,
    )
    assert jobs.queue_due_syncs() == 0


def test_the_command_syncs_and_prints_json(account, dovecot, ada):
    dovecot.append(message())
    out = io.StringIO()
    call_command("mail", "sync", "--account", "Work", "--json", stdout=out)
    assert '"stored": 1' in out.getvalue()
    out = io.StringIO()
    call_command("mail", "sync", stdout=out)
    assert "0 new e-mail(s) stored" in out.getvalue()
    with pytest.raises(CommandError, match="no mail account"):
        call_command("mail", "sync", "--account", "Nope")


def test_the_command_adds_lists_and_tests_accounts(db, dovecot, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(dovecot.password + "\n"))
    call_command(
        "mail", "accounts", "add", "--name", "Support", "--email", "help@example.com",
        "--imap-host", "127.0.0.1", "--imap-port", str(dovecot.port), "--imap-security", "none",
        "--imap-user", dovecot.user, "--support", stdout=io.StringIO(),
    )  # fmt: skip
    account = MailAccount.objects.get(name="Support")
    assert account.is_support and account.imap_password == dovecot.password
    out = io.StringIO()
    call_command("mail", "accounts", "list", stdout=out)
    assert "help@example.com" in out.getvalue() and "support" in out.getvalue()
    out = io.StringIO()
    call_command("mail", "accounts", "test", "Support", stdout=out)
    assert "INBOX, Sent" in out.getvalue()
    account.imap_password = "wrong"
    account.save()
    with pytest.raises(CommandError, match="login failed"):
        call_command("mail", "accounts", "test", "Support")
