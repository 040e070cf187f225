"""The mail accounts pages: owner only, passwords write-only, real connection tests (Dovecot for
IMAP, aiosmtpd for SMTP), the folder picker, delete keeps the mail, "Sync now"."""

import socket

import pytest
from django.urls import reverse

from solocrm.jobs.models import Job
from solocrm.mail import jobs, sync
from solocrm.mail.models import MailAccount, MailMessage, Security

from .factory import message

pytestmark = pytest.mark.django_db(transaction=True)

LIST = reverse("mail:account_list")
ADD = reverse("mail:account_add")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _form(account: MailAccount | None = None, **changes) -> dict:
    data = {
        "name": "Work",
        "email": "owner@example.com",
        "imap_host": "127.0.0.1",
        "imap_port": "993",
        "imap_security": "ssl",
        "imap_user": "owner@example.com",
        "imap_password": "",
        "smtp_host": "",
        "smtp_port": "587",
        "smtp_security": "starttls",
        "smtp_user": "",
        "smtp_password": "",
        "active": "on",
        "poll_minutes": "1",
        "action": "save",
    }
    if account is not None:
        data.update(
            name=account.name,
            email=account.email,
            imap_host=account.imap_host,
            imap_port=str(account.imap_port),
            imap_security=account.imap_security,
            imap_user=account.imap_user,
            smtp_host=account.smtp_host,
            smtp_port=str(account.smtp_port),
            smtp_security=account.smtp_security,
            smtp_user=account.smtp_user,
            poll_minutes=str(account.poll_minutes),
        )
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _edit(account: MailAccount) -> str:
    return reverse("mail:account_edit", args=[account.uuid])


def test_only_the_owner_opens_the_pages(client, owner, assistant, viewer, account):
    urls = [LIST, ADD, _edit(account), reverse("mail:account_delete", args=[account.uuid])]
    for url in urls:
        assert client.get(url).status_code == 302  # to the log-in page
    for user in (assistant, viewer):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 403
        assert client.post(reverse("mail:account_sync", args=[account.uuid])).status_code == 403
    client.force_login(owner)
    page = client.get(LIST)
    assert page.status_code == 200 and "owner@example.com" in page.content.decode()


def test_the_settings_page_links_to_the_mail_accounts(owner_client):
    assert LIST in owner_client.get(reverse("web:settings")).content.decode()


def test_adding_an_account_encrypts_the_password_and_never_shows_it(owner_client):
    response = owner_client.post(ADD, _form(imap_password="s3cret-imap!", smtp_password="s3cret-smtp!"))
    account = MailAccount.objects.get(name="Work")
    assert response.status_code == 302 and response["Location"] == _edit(account)
    assert account.imap_password == "s3cret-imap!" and account.smtp_password == "s3cret-smtp!"
    assert "s3cret" not in account.imap_password_encrypted and account.poll_minutes == 1
    page = owner_client.get(_edit(account)).content.decode()
    assert "s3cret" not in page and account.imap_password_encrypted not in page


def test_a_new_account_needs_a_password_and_a_unique_name(owner_client, account):
    response = owner_client.post(ADD, _form(name="Other"))
    assert response.status_code == 400 and not MailAccount.objects.filter(name="Other").exists()
    response = owner_client.post(ADD, _form(name="Work", imap_password="x"))
    assert response.status_code == 400 and MailAccount.objects.filter(name="Work").count() == 1


def test_a_blank_password_on_edit_keeps_the_stored_one(owner_client, account, dovecot):
    response = owner_client.post(_edit(account), _form(account, name="Renamed", imap_password=""))
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == "Renamed" and account.imap_password == dovecot.password
    owner_client.post(_edit(account), _form(account, imap_password="new-one"))
    account.refresh_from_db()
    assert account.imap_password == "new-one"


def test_testing_imap_lists_the_folders_with_inbox_and_sent_ticked(owner_client, account):
    page = owner_client.post(_edit(account), _form(account, action="test_imap")).content.decode()
    assert "it works." in page and "Connected; folders read: INBOX, Sent" in page
    assert 'value="Archive"' in page
    assert 'value="INBOX" id="id_folders_0" checked' in page or (
        'value="INBOX"' in page and "checked" in page
    )
    account.refresh_from_db()
    assert account.folders == []  # a test saves nothing
    owner_client.post(_edit(account), _form(account, folders=["INBOX", "Archive"]))
    account.refresh_from_db()
    assert account.folders == ["INBOX", "Archive"]


def test_imap_errors_are_plain_sentences(owner_client, account):
    page = owner_client.post(_edit(account), _form(account, action="test_imap", imap_password="wrong"))
    assert "refused the user name or password" in page.content.decode()
    closed = str(_free_port())
    page = owner_client.post(_edit(account), _form(account, action="test_imap", imap_port=closed))
    assert "refused the connection" in page.content.decode()
    page = owner_client.post(_edit(account), _form(account, action="test_imap", imap_security="ssl"))
    text = page.content.decode()
    assert "secure connection failed" in text or "closed the connection" in text
    unknown = owner_client.post(
        _edit(account), _form(account, action="test_imap", imap_host="no-such-host.invalid")
    )
    assert "is unknown" in unknown.content.decode()


class _Inbox:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


@pytest.fixture
def smtp_server():
    controller_module = pytest.importorskip("aiosmtpd.controller")
    from aiosmtpd.smtp import AuthResult

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login in (b"mailer", "mailer") and auth_data.password in (b"smtp-pass", "smtp-pass")
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    port = _free_port()
    controller = controller_module.Controller(
        _Inbox(), hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    yield port
    controller.stop()


def test_testing_smtp_logs_in_and_explains_failures(owner_client, account, smtp_server):
    ok = _form(account, action="test_smtp", smtp_host="127.0.0.1", smtp_port=str(smtp_server))
    ok.update(smtp_security="none", smtp_user="mailer", smtp_password="smtp-pass")
    assert "the log-in works" in owner_client.post(_edit(account), ok).content.decode()
    wrong = {**ok, "smtp_password": "nope"}
    assert "refused the user name or password" in owner_client.post(_edit(account), wrong).content.decode()
    starttls = {**ok, "smtp_security": "starttls"}
    assert "does not offer STARTTLS" in owner_client.post(_edit(account), starttls).content.decode()
    ssl_mismatch = {**ok, "smtp_security": "ssl"}
    text = owner_client.post(_edit(account), ssl_mismatch).content.decode()
    assert "secure connection failed" in text or "closed the connection" in text
    closed = {**ok, "smtp_port": str(_free_port())}
    assert "refused the connection" in owner_client.post(_edit(account), closed).content.decode()
    account.refresh_from_db()
    assert account.smtp_host == ""  # tests save nothing


def test_deleting_an_account_keeps_its_mail(owner_client, account, dovecot, ada):
    dovecot.append(message())
    sync.sync_account(account)
    url = reverse("mail:account_delete", args=[account.uuid])
    assert "stays" in owner_client.get(url).content.decode()
    response = owner_client.post(url)
    assert response.status_code == 302 and not MailAccount.objects.exists()
    stored = MailMessage.objects.get()
    assert stored.account is None and stored.contact == ada


def test_sync_now_queues_the_job_and_the_page_shows_the_result(owner_client, account, dovecot, ada):
    dovecot.append(message())
    response = owner_client.post(reverse("mail:account_sync", args=[account.uuid]))
    assert response.status_code == 302
    assert Job.objects.filter(kind=jobs.KIND).count() == 1 and MailMessage.objects.count() == 1
    page = owner_client.get(_edit(account)).content.decode()
    assert "1 new e-mail(s) stored" in page and "Last sync: never" not in page
    assert owner_client.get(reverse("mail:account_sync", args=[account.uuid])).status_code == 405


def test_the_list_shows_the_last_error_and_a_waiting_sync_in_few_queries(owner_client, account):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from solocrm.jobs.choices import JobStatus

    MailAccount.objects.filter(pk=account.pk).update(last_error="login failed: bad password")
    assert "login failed: bad password" in owner_client.get(LIST).content.decode()
    MailAccount.objects.filter(pk=account.pk).update(last_error="")
    for n in range(3):
        MailAccount.objects.create(name=f"Other {n}", email=f"o{n}@example.com", imap_host="h", imap_user="u")
    Job.objects.create(
        kind=jobs.KIND,
        handler="x",
        params={"account": str(account.uuid)},
        status=JobStatus.QUEUED,
        time_limit=60,
    )
    with CaptureQueriesContext(connection) as queries:
        page = owner_client.get(LIST).content.decode()
    assert "Queued" in page and len(queries) <= 6, [q["sql"] for q in queries]


def test_security_choices_are_offered(owner_client, account):
    page = owner_client.get(_edit(account)).content.decode()
    for value in Security.values:
        assert f'value="{value}"' in page
