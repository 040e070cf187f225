"""`kill -9` of a real `solocrm mail sync` process mid-way, then a restart: every message once."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import close_old_connections

from solocrm.contacts.models import Interaction
from solocrm.jobs.tests.workers import ROOT, database_url
from solocrm.mail import sync
from solocrm.mail.models import MailFolderState, MailMessage, MailMessageCopy

from .factory import message

pytestmark = pytest.mark.django_db(transaction=True)

COUNT = 200


def _last_uid() -> int:
    close_old_connections()
    return MailFolderState.objects.filter(folder="INBOX").values_list("last_uid", flat=True).first() or 0


def test_kill_9_mid_sync_and_restart_never_duplicates(account, dovecot, ada):
    dovecot.append_many(
        [message(subject=f"Message {n}", message_id=f"<k{n}@customer.test>") for n in range(COUNT)]
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SOLOCRM_DATA_DIR": str(settings.DATA_DIR),  # the same encryption key
        "SOLOCRM_JOBS_INLINE": "1",
        "SOLOCRM_MAIL_BATCH": "2",
        "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path]),
    }
    log = (settings.DATA_DIR / "sync.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "solocrm.cli", "mail", "sync", "--account", account.name],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while _last_uid() < 4 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, (
        "the sync ended before it could be killed:\n" + (settings.DATA_DIR / "sync.log").read_text()
    )
    process.send_signal(signal.SIGKILL)
    process.wait()
    close_old_connections()
    killed_at = _last_uid()
    assert 4 <= killed_at < COUNT
    assert MailMessage.objects.count() == killed_at  # whole batches only, nothing half-written
    sync.sync_account(account)
    assert MailMessage.objects.count() == COUNT
    assert MailMessageCopy.objects.count() == COUNT
    assert Interaction.objects.filter(contact=ada).count() == COUNT
    sync.sync_account(account)
    assert MailMessage.objects.count() == COUNT
