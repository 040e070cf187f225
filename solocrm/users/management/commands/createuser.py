"""`solocrm createuser USERNAME --role owner|assistant|viewer [--email] [--password-stdin]`."""

from __future__ import annotations

import getpass
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from solocrm.lib.access import set_role
from solocrm.lib.normalize import normalize_email
from solocrm.lib.roles import Role
from solocrm.users.models import AuditLog
from solocrm.users.setup import consume_setup_token


class Command(BaseCommand):
    help = _("Create a user with a role (owner, assistant or viewer).")
    # The system checks import every URL module (and with it pandas, scipy, fpdf…): seconds
    # this command does not need. `solocrm check`, `serve` and `worker` still run them.
    requires_system_checks: list[str] = []
    stealth_options = ("stdin",)  # tests and callers may pass a stream instead of sys.stdin

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values, help=_("The user's role."))
        parser.add_argument("--email", default="", help=_("E-mail address."))
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help=_("Read the password from the first line of standard input (for scripts)."),
        )

    def handle(self, *args, username: str, role: str, email: str, password_stdin: bool, **options) -> None:
        User = get_user_model()
        username = username.strip()
        if not username:
            raise CommandError(_("The user name must not be empty."))
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError(_("A user named “%(name)s” already exists.") % {"name": username})
        try:
            email = normalize_email(email)
        except ValueError as error:
            raise CommandError(str(error)) from None
        user = User(username=username, email=email, is_staff=role == Role.OWNER)
        password = (
            self._read_password(options.get("stdin") or sys.stdin) if password_stdin else self._ask_password()
        )
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self._create(user, password, role)
        self.stdout.write(
            self.style.SUCCESS(_("Created %(name)s (%(role)s).") % {"name": username, "role": role})
        )

    @staticmethod
    def _read_password(stream) -> str:
        password = stream.readline().rstrip("\r\n")
        if not password:
            raise CommandError(_("No password on standard input."))
        return password

    def _ask_password(self) -> str:
        if not sys.stdin.isatty():
            raise CommandError(_("No terminal to ask for a password: pipe it in with --password-stdin."))
        password = getpass.getpass(_("Password: "))
        if password != getpass.getpass(_("Password (again): ")):
            raise CommandError(_("The two passwords differ."))
        return password

    @staticmethod
    @transaction.atomic
    def _create(user, password: str, role: str) -> None:
        first_user = not type(user).objects.exists()
        user.set_password(password)
        user.save()
        set_role(user, role)
        AuditLog.record(None, "user.create", summary=f"{user.username} ({role}) from the command line")
        if first_user:
            consume_setup_token()  # the owner exists now: the set-up page has nothing left to do
