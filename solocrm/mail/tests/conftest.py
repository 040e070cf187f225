import pytest

from solocrm.contacts.models import Contact
from solocrm.mail.models import MailAccount, Security

from . import dovecot as dovecot_server
from .smtp import lead, nameless, send_account, smtp_server  # noqa: F401  (send/compose tests)


@pytest.fixture
def dovecot():
    if not dovecot_server.available():
        pytest.skip(dovecot_server.SKIP_REASON)
    server = dovecot_server.start()
    yield server
    dovecot_server.stop(server)


@pytest.fixture
def account(db, dovecot, settings, tmp_path):
    settings.SOLOCRM_ATTACHMENT_DIR = tmp_path / "attachments"
    account = MailAccount(
        name="Work",
        email="owner@example.com",
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_security=Security.NONE,
        imap_user=dovecot.user,
    )
    account.imap_password = dovecot.password
    account.save()
    return account


@pytest.fixture
def ada(db):
    return Contact.objects.create(first_name="Ada", last_name="Lovelace", email="ada@customer.test")


@pytest.fixture
def bob(db):
    return Contact.objects.create(first_name="Bob", last_name="Baker", email="bob@client.test")
