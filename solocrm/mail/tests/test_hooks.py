"""Listeners registered with mail.hooks hear about new mail inside the sync's transaction."""

import pytest

from solocrm.mail import hooks, sync
from solocrm.mail.models import MailMessage

from .factory import message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def heard():
    seen: list[list[str]] = []

    def listener(messages):
        seen.append([m.subject for m in messages])

    hooks.on_stored(listener)
    yield seen
    hooks._listeners.pop(f"{listener.__module__}.{listener.__qualname__}")


def test_a_listener_hears_each_new_message_once(account, dovecot, ada, heard):
    dovecot.append(message(subject="First", message_id="<h1@customer.test>"))
    dovecot.append(message(sender="Mum <mum@family.test>", subject="Private"))
    sync.sync_account(account)
    sync.sync_account(account)
    assert heard == [["First"]]


def test_a_failing_listener_is_logged_and_the_mail_is_kept(account, dovecot, ada, caplog):
    def broken(messages):
        MailMessage.objects.update(subject="changed by a broken listener")
        raise RuntimeError("boom")

    hooks.on_stored(broken)
    try:
        dovecot.append(message(subject="Kept"))
        report = sync.sync_account(account)
    finally:
        hooks._listeners.pop(f"{broken.__module__}.{broken.__qualname__}")
    assert report.stored == 1
    assert MailMessage.objects.get().subject == "Kept"  # its writes were rolled back
    assert "failed on 1 message(s)" in caplog.text
