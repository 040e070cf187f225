"""Mail accounts: create, change, test (the command line and the API use these; the settings
page will too). Passwords are encrypted on the way in (solocrm.users.crypto) and never shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from solocrm.users.models import AuditLog

from . import imap
from .models import MailAccount, MailMessage

SECRET_FIELDS = {"imap_password", "smtp_password"}


@transaction.atomic
def create_account(data: dict[str, Any], *, actor=None) -> MailAccount:
    data = dict(data)
    secrets = {name: data.pop(name) for name in SECRET_FIELDS & set(data)}
    account = MailAccount(**data)
    for name, value in secrets.items():
        setattr(account, name, value)
    account.full_clean()
    account.save()
    AuditLog.record(actor, "mail.account.create", account, summary=str(account))
    return account


@transaction.atomic
def update_account(account: MailAccount, data: dict[str, Any], *, actor=None) -> MailAccount:
    """Change the fields given; a password given as "" is left as it is (it is never shown
    back, so a form cannot send it again)."""
    for name, value in data.items():
        if name in SECRET_FIELDS:
            if value:
                setattr(account, name, value)
        else:
            setattr(account, name, value)
    account.full_clean()
    account.save()
    AuditLog.record(actor, "mail.account.update", account, summary=str(account))
    return account


@dataclass
class ConnectionTest:
    ok: bool
    message: str
    folders: list[str]


def test_imap(account: MailAccount) -> ConnectionTest:
    """Log in, list the folders and say which would be read."""
    try:
        conn = imap.connect(account, timeout=20)
    except imap.MailError as error:
        return ConnectionTest(False, str(error), [])
    except imap.TRANSIENT as error:
        return ConnectionTest(False, _("Cannot reach the server: %(error)s") % {"error": error}, [])
    try:
        folders = account.folders or imap.default_folders(conn)
        return ConnectionTest(True, _("Connected; folders read: %(f)s") % {"f": ", ".join(folders)}, folders)
    finally:
        imap.close(conn)


def messages():
    """Stored messages, newest first, with what their lists show."""
    return MailMessage.objects.select_related("contact", "thread", "account").order_by("-date", "-id")
