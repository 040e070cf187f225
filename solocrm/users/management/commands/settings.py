"""`solocrm settings show|set KEY VALUE`: the settings page from the command line.

``show`` lists every setting with its effective value and where it comes from (the environment,
the page, or the default); the SMTP password is never printed. ``set`` validates like the page:
``solocrm settings set time_zone Europe/Berlin``; ``set smtp_password -`` reads the password
from standard input (so it stays out of the shell history); ``set logo FILE`` uploads a logo and
``set logo ""`` removes it."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from solocrm.lib.business import business_settings
from solocrm.users import business
from solocrm.users.forms import settings_form_for

KEYS = (*business.EDITABLE, "smtp_password", "logo")


class Command(BaseCommand):
    help = _("Show or change the business settings (those of the settings page).")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="show|set")
        actions.add_parser("show", help=_("list the settings and where each value comes from"))
        change = actions.add_parser("set", help=_("change one setting"))
        change.add_argument("key", choices=KEYS, metavar="KEY", help=", ".join(KEYS))
        change.add_argument("value", help=_("the new value; blank: back to the default"))

    def handle(self, *args, **options) -> None:
        if options["action"] == "show":
            self.show()
        else:
            self.set(options["key"], options["value"])

    def show(self) -> None:
        config = business_settings()
        stored = business.stored_values()
        for key in KEYS:
            if key == "smtp_password":
                value = _("(stored)") if config.smtp_password else _("(none)")
            elif key == "logo":
                value = config.logo.name if config.logo else ""
            else:
                value = getattr(config, key)
                value = ",".join(map(str, value)) if isinstance(value, tuple) else value
            if key in config.locked:
                source = _("set by %(variable)s") % {"variable": config.locked[key]}
            elif key == "smtp_password":
                source = _("settings page") if business.password_is_stored() else _("default")
            elif stored.get(key) not in (None, "") or (key == "logo" and config.logo):
                source = _("settings page")
            else:
                source = _("default")
            shown = "" if value is None else str(value).replace("\n", ", ")
            self.stdout.write(f"{key:<17} {shown:<40} ({source})")

    def set(self, key: str, value: str) -> None:
        config = business_settings()
        if key in config.locked:
            raise CommandError(
                _("%(key)s is set by %(variable)s, which wins; change that variable instead.")
                % {"key": key, "variable": config.locked[key]}
            )
        logo = None
        if key == "smtp_password":
            if value == "-":
                value = sys.stdin.readline().rstrip("\n")
            changes = {"smtp_password": value} if value else {"clear_password": True}
        elif key == "logo":
            if value:
                try:
                    logo = Path(value).read_bytes()
                except OSError as error:
                    raise CommandError(str(error)) from None
                changes = {}
            else:
                changes = {"remove_logo": True}
        elif key == "work_days":
            changes = {"work_days": [d.strip() for d in value.split(",") if d.strip()]}
        else:
            changes = {key: value}
        form = settings_form_for(changes, logo=logo)
        if not form.is_valid():
            errors = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in form.errors.items())
            raise CommandError(errors)
        form.save(actor=None, only=set(changes))
        self.stderr.write(_("Saved. It applies from the next request and e-mail on, without a restart."))
