"""A real SMTP server (aiosmtpd) on a free port, and an account that sends through it, for the
tests of mail written from the CRM. Import the fixtures into a test module."""

from __future__ import annotations

import asyncio
import socket
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from solocrm.contacts.models import Contact
from solocrm.mail.models import MailAccount, Security


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """What the server received: (envelope sender, recipients, raw bytes)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.port = 0
        self.refuse_with: str = ""  # e.g. "451 try later": the DATA answer
        self.hold = 0.0  # seconds to wait before answering DATA (a sender killed meanwhile)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        if self.refuse_with:
            return self.refuse_with
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        if self.hold:
            await asyncio.sleep(self.hold)
        return "250 OK"

    def parsed(self, index: int = -1) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.messages[index][2])


@pytest.fixture
def smtp_server():
    controller_module = pytest.importorskip("aiosmtpd.controller")
    inbox = Inbox()
    inbox.port = free_port()
    controller = controller_module.Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()


@pytest.fixture
def send_account(db, smtp_server, settings, tmp_path):
    settings.SOLOCRM_ATTACHMENT_DIR = tmp_path / "attachments"
    account = MailAccount(
        name="Studio",
        email="owner@example.com",
        imap_host="127.0.0.1",
        imap_port=1,
        imap_security=Security.NONE,
        imap_user="owner",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security=Security.NONE,
    )
    account.save()
    return account


@pytest.fixture
def lead(db):
    return Contact.objects.create(first_name="Ada", last_name="Lovelace", email="ada@customer.test")


@pytest.fixture
def nameless(db):
    return Contact.objects.create(email="someone@customer.test")
