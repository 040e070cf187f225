"""`kill -9` of a real process in the middle of the SMTP conversation (the server has the
message but has not answered), then the job runs again as after a crash: nothing is sent twice;
the message says it may have gone out."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from solocrm.contacts.models import Interaction
from solocrm.jobs import services as job_services
from solocrm.jobs.models import Job
from solocrm.jobs.tests.workers import ROOT, database_url
from solocrm.mail import outgoing
from solocrm.mail.models import MailMessage, SendStatus

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = """
import django, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solocrm.settings")
django.setup()
from solocrm.mail import outgoing
from solocrm.mail.models import MailMessage
outgoing.deliver(MailMessage.objects.get(uuid=sys.argv[1]))
"""


def test_kill_9_while_the_server_has_the_message_never_sends_it_again(send_account, smtp_server, lead):
    message = outgoing.send_mail(
        to=lead, subject="Once", body="Only once", send_at=timezone.now() + timedelta(hours=1)
    )
    job = Job.objects.get(kind=outgoing.KIND)
    MailMessage.objects.filter(pk=message.pk).update(send_at=timezone.now() - timedelta(seconds=1))
    smtp_server.hold = 60
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SOLOCRM_DATA_DIR": str(settings.DATA_DIR),  # the same encryption key
        "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path]),
    }
    log = (settings.DATA_DIR / "send.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(message.uuid)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while not smtp_server.messages and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the sender ended early:\n" + (settings.DATA_DIR / "send.log").read_text()
    assert len(smtp_server.messages) == 1  # the server has it; no answer yet
    process.kill()
    process.wait()
    smtp_server.hold = 0
    close_old_connections()
    message.refresh_from_db()
    assert message.status == SendStatus.SENDING and message.attempts == 1
    # the worker's recovery queues the job again (rerun_after_crash): it must not send
    job.refresh_from_db()
    assert job_services.claim(job, enforce_limit=False) == job_services.CLAIMED
    job.refresh_from_db()
    job_services.execute(job)
    assert job.result["outcome"] == "unknown"
    message.refresh_from_db()
    assert message.status == SendStatus.UNKNOWN and "Sent folder" in message.send_error
    assert len(smtp_server.messages) == 1
    assert not Interaction.objects.filter(contact=lead).exists()
