"""Mail accounts: create, change, delete, test (the settings pages, the API and the command line
use these). Passwords are encrypted on the way in (solocrm.users.crypto) and never shown."""

from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import OuterRef, Prefetch, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from solocrm.users.models import AuditLog

from . import imap
from .models import MailAccount, MailMessage, MailThread, Security

SECRET_FIELDS = {"imap_password", "smtp_password"}
WRONG_LOGIN = gettext_lazy(
    "The server refused the user name or password (%(error)s). Some providers need an app password."
)
TEST_TIMEOUT = 10  # seconds: a test button must answer while the owner waits
FOLDERS_CACHE_SECONDS = 24 * 3600


@transaction.atomic
def create_account(data: dict[str, Any], *, actor=None) -> MailAccount:
    data = dict(data)
    secrets = {name: data.pop(name) for name in SECRET_FIELDS & set(data)}
    account = MailAccount(**data)
    for name, value in secrets.items():
        if value:
            setattr(account, name, value)
    account.full_clean()
    account.save()
    AuditLog.record(actor, "mail.account.create", account, summary=str(account))
    return account


def apply_changes(account: MailAccount, data: dict[str, Any]) -> MailAccount:
    """Set the fields given on ``account`` without saving; a password given as "" (or None) is
    left as it is (it is never shown back, so a form cannot send it again)."""
    for name, value in data.items():
        if name in SECRET_FIELDS:
            if value:
                setattr(account, name, value)
        else:
            setattr(account, name, value)
    return account


@transaction.atomic
def update_account(account: MailAccount, data: dict[str, Any], *, actor=None) -> MailAccount:
    """Change the fields given (a blank password keeps the stored one)."""
    apply_changes(account, data)
    account.full_clean()
    account.save()
    changed = sorted(name for name in data if name not in SECRET_FIELDS or data[name])
    AuditLog.record(actor, "mail.account.update", account, summary=f"{account}: {', '.join(changed)}")
    return account


@transaction.atomic
def delete_account(account: MailAccount, *, actor=None) -> None:
    """Delete the account and where its messages were seen; the stored messages, their threads,
    attachments and timeline entries stay (they are the customers' history)."""
    AuditLog.record(actor, "mail.account.delete", account, summary=str(account))
    cache.delete(_folders_key(account))
    account.delete()


def accounts():
    return MailAccount.objects.order_by("name")


# --- testing the connections ---------------------------------------------------------------------


@dataclass
class ConnectionTest:
    ok: bool
    message: str
    folders: list[str] = field(default_factory=list)  # what would be read (IMAP)
    server_folders: list[str] = field(default_factory=list)  # every folder the server lists


def _network_error(error: BaseException, host: str, port: int) -> str:
    """A plain sentence for what went wrong reaching a server."""
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        if isinstance(error, ssl.SSLCertVerificationError):
            return _("The server's certificate is not valid for %(host)s: %(error)s") % {
                "host": host,
                "error": getattr(error, "verify_message", "") or error,
            }
        return _(
            "The secure connection failed (%(error)s). Check the security setting: port 993 (IMAP) "
            "and 465 (SMTP) use SSL/TLS, ports 143 and 587 use STARTTLS."
        ) % {"error": getattr(error, "reason", None) or error}
    if isinstance(error, socket.gaierror):
        return _("The server name %(host)s is unknown. Check the spelling.") % {"host": host}
    if isinstance(error, TimeoutError | socket.timeout):
        return _("%(host)s:%(port)d did not answer in time: wrong port, or a firewall in the way.") % {
            "host": host,
            "port": port,
        }
    if isinstance(error, ConnectionRefusedError):
        return _("%(host)s refused the connection on port %(port)d: wrong port, or no mail server there.") % {
            "host": host,
            "port": port,
        }
    if isinstance(error, EOFError | imaplib.IMAP4.abort | smtplib.SMTPServerDisconnected):
        return _(
            "The server closed the connection. Check the security setting (SSL/TLS or STARTTLS) and the port."
        )
    return _("Cannot reach %(host)s:%(port)d: %(error)s") % {"host": host, "port": port, "error": error}


def test_imap(account: MailAccount, *, timeout: float = TEST_TIMEOUT) -> ConnectionTest:
    """Log in, list the folders and say which would be read (the server's list is remembered
    for the folder picker)."""
    if not account.imap_password:
        return ConnectionTest(False, _("No IMAP password is stored yet."))
    try:
        conn = imap.connect(account, timeout=timeout)
    except imap.MailError as error:
        return ConnectionTest(
            False,
            str(WRONG_LOGIN) % {"error": str(error)},
        )
    except (*imap.TRANSIENT, ssl.SSLError, imaplib.IMAP4.error) as error:
        return ConnectionTest(False, _network_error(error, account.imap_host, account.imap_port))
    try:
        listed = imap.list_folders(conn)
        defaults = imap.default_folders(conn)
        folders = account.folders or defaults
    except (*imap.TRANSIENT, imaplib.IMAP4.error) as error:
        return ConnectionTest(False, _network_error(error, account.imap_host, account.imap_port))
    finally:
        imap.close(conn)
    names = sorted((name for name, flags in listed if "\\noselect" not in flags), key=_folder_order)
    if account.pk:
        cache.set(_folders_key(account), {"names": names, "defaults": defaults}, FOLDERS_CACHE_SECONDS)
    message = _("Connected; folders read: %(f)s") % {"f": ", ".join(folders)}
    return ConnectionTest(True, message, folders, names)


def test_smtp(account: MailAccount, *, timeout: float = TEST_TIMEOUT) -> ConnectionTest:
    """Connect to the SMTP server, say hello, log in; nothing is sent."""
    host, port = account.smtp_host, account.smtp_port
    if not host:
        return ConnectionTest(False, _("No SMTP server is set."))
    context = ssl.create_default_context()
    try:
        if account.smtp_security == Security.SSL:
            server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            server = smtplib.SMTP(host, port, timeout=timeout)
        try:
            server.ehlo()
            if account.smtp_security == Security.STARTTLS:
                if not server.has_extn("starttls"):
                    return ConnectionTest(
                        False,
                        _("The server does not offer STARTTLS on port %(port)d. Check the security setting.")
                        % {"port": port},
                    )
                server.starttls(context=context)
                server.ehlo()
            if account.smtp_user:
                server.login(account.smtp_user, account.smtp_password)
        finally:
            try:
                server.quit()
            except (smtplib.SMTPException, OSError):
                server.close()
    except smtplib.SMTPAuthenticationError as error:
        return ConnectionTest(
            False,
            str(WRONG_LOGIN) % {"error": _smtp_text(error)},
        )
    except smtplib.SMTPNotSupportedError:
        return ConnectionTest(
            False, _("The server does not accept a log-in here: leave the SMTP user blank.")
        )
    except smtplib.SMTPResponseException as error:
        return ConnectionTest(False, _("The server answered: %(error)s") % {"error": _smtp_text(error)})
    except (smtplib.SMTPException, OSError, ssl.SSLError) as error:
        return ConnectionTest(False, _network_error(error, host, port))
    return ConnectionTest(
        True, _("Connected to %(host)s:%(port)d; the log-in works.") % {"host": host, "port": port}
    )


def _smtp_text(error: smtplib.SMTPResponseException) -> str:
    text = (
        error.smtp_error.decode("utf-8", "replace")
        if isinstance(error.smtp_error, bytes)
        else str(error.smtp_error)
    )
    return f"{error.smtp_code} {text}"


def _folder_order(name: str) -> tuple[int, str]:
    return (0 if name.upper() == "INBOX" else 1, name.casefold())


def _folders_key(account: MailAccount) -> str:
    return f"solocrm:mail:folders:{account.uuid}"


def _listed(account: MailAccount) -> dict[str, list[str]]:
    return (cache.get(_folders_key(account)) if account.pk else None) or {"names": [], "defaults": []}


def known_folders(account: MailAccount) -> list[str]:
    """The folders to offer in the picker: the server's list from the last test, the folders
    chosen, and the inbox."""
    names = {"INBOX", *_listed(account)["names"], *(account.folders or [])}
    return sorted(names, key=_folder_order)


def default_folders(account: MailAccount) -> list[str]:
    """What is read when no folder is chosen: the inbox and the server's Sent folder (known
    after a test; the inbox alone before)."""
    return _listed(account)["defaults"] or ["INBOX"]


def folders_listed(account: MailAccount) -> bool:
    return bool(_listed(account)["names"])


# --- reading ------------------------------------------------------------------------------------


def messages():
    """Stored messages, newest first, with what their lists show."""
    return MailMessage.objects.select_related("contact", "thread", "account").order_by("-date", "-id")


def threads():
    """Conversations, latest first, each with ``latest_id`` (its newest message) — the list
    fetches those messages in one more query (see ``with_latest``)."""
    latest = MailMessage.objects.filter(thread=OuterRef("pk")).order_by("-date", "-id").values("pk")[:1]
    return (
        MailThread.objects.select_related("contact")
        .annotate(latest_id=Subquery(latest))
        .order_by("-last_message_at", "-id")
    )


def with_latest(page: list[MailThread]) -> list[MailThread]:
    """Attach ``latest`` (the newest message, with its account) to each thread of a page."""
    ids = [t.latest_id for t in page if t.latest_id]
    found = {m.pk: m for m in MailMessage.objects.filter(pk__in=ids).select_related("account", "contact")}
    for thread in page:
        thread.latest = found.get(thread.latest_id)
    return page


def thread_messages(thread: MailThread):
    return (
        thread.messages.select_related("account", "contact")
        .prefetch_related(Prefetch("attachments"))
        .order_by("date", "id")
    )
