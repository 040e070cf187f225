"""``solocrm mail send``: write an e-mail to a contact from the command line (the arguments and
what they do; the command in management/commands/mail.py only hands over)."""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from datetime import datetime
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from . import outgoing
from .models import MailAccount, MailTemplate


def add_arguments(sub) -> None:
    send: ArgumentParser = sub.add_parser("send", help=_("Write an e-mail to a contact (now or later)."))
    send.add_argument("--to", required=True, help=_("The contact: an e-mail address or its public id."))
    send.add_argument("--subject", help=_("Merge fields allowed; default: the template's."))
    send.add_argument("--body-file", help=_("Markdown with merge fields; '-' reads standard input."))
    send.add_argument("--template", help=_("Start from this template (its name)."))
    send.add_argument("--at", help=_("Send later, at this time (ISO 8601; without a zone: the business's)."))
    send.add_argument("--cc", action="append", default=[], help=_("A copy to this address (repeatable)."))
    send.add_argument("--attach", action="append", default=[], help=_("Attach this file (repeatable)."))
    send.add_argument("--account", help=_("Send from this mail account (its name)."))
    send.add_argument("--user", help=_("Write as this user (their signature; the timeline's author)."))
    send.add_argument("--json", action="store_true", help=_("Print the result as JSON."))


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(
            _("--at: “%(value)s” is not a date and time (2026-12-24T09:00).") % {"value": value}
        )
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": error}) from None


def _named(model, field: str, value: str | None, what: str):
    if not value:
        return None
    found = model.objects.filter(**{field: value}).first()
    if found is None:
        raise CommandError(_("There is no %(what)s “%(name)s”.") % {"what": what, "name": value})
    return found


def _files(paths: list[str]) -> list[outgoing.OutgoingFile]:
    files = []
    for path in paths:
        try:
            files.append(outgoing.OutgoingFile(Path(path).name, Path(path).read_bytes()))
        except OSError as error:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": error}
            ) from None
    return files


def run(options: dict[str, Any], write) -> None:
    """Send as the options say; ``write`` prints a line. CommandError for anything refused."""
    template = _named(MailTemplate, "name", options["template"], _("template"))
    subject = options["subject"] if options["subject"] is not None else (template.subject if template else "")
    body = _read(options["body_file"]) if options["body_file"] else (template.body if template else "")
    if not body.strip():
        raise CommandError(_("Give --body-file or --template."))
    user = _named(get_user_model(), "username", options["user"], _("user"))
    try:
        message = outgoing.send_mail(
            to=outgoing.find_recipient(options["to"]),
            subject=subject,
            body=body,
            user=user,
            account=_named(MailAccount, "name", options["account"], _("mail account")),
            cc=options["cc"],
            attachments=_files(options["attach"]),
            send_at=_when(options["at"]),
        )
    except ValidationError as error:
        raise CommandError(" ".join(error.messages)) from None
    except outgoing.SendError as error:
        raise CommandError(_("The e-mail was not sent: %(error)s") % {"error": error}) from None
    if options["json"]:
        write(json.dumps(_summary(message), ensure_ascii=False))
    else:
        write(_("%(status)s: “%(subject)s” to %(to)s (%(id)s)") % {
            "status": message.get_status_display(), "subject": message.subject,
            "to": ", ".join(message.to_addresses), "id": message.uuid,
        })  # fmt: skip


def _summary(message) -> dict[str, Any]:
    return {
        "uuid": str(message.uuid),
        "status": message.status,
        "message_id": message.message_id,
        "to": message.to_addresses,
        "subject": message.subject,
        "send_at": message.send_at.isoformat() if message.send_at else None,
    }
