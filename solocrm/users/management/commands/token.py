"""`solocrm token create|list|revoke`: API tokens from the command line.

The raw token is printed once, alone on standard output, so that a script can capture it
(``TOKEN=$(solocrm token create backup)``); everything else goes to standard error."""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from solocrm.lib.roles import Role
from solocrm.users import services
from solocrm.users.models import TOKEN_PREFIX, ApiToken, hash_token


class Command(BaseCommand):
    help = _("Create, list and revoke API tokens.")
    # The system checks import every URL module (and with it pandas, scipy, fpdf…): seconds
    # this command does not need. `solocrm check`, `serve` and `worker` still run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="create|list|revoke")
        create = actions.add_parser("create", help=_("create a token and print it (only this once)"))
        create.add_argument("name", help=_("what the token is for, e.g. “zapier”"))
        create.add_argument("--user", help=_("username (default: the owner, when there is only one)"))
        listing = actions.add_parser("list", help=_("list tokens"))
        listing.add_argument("--user", help=_("only this user's tokens"))
        revoke = actions.add_parser("revoke", help=_("revoke a token"))
        revoke.add_argument("token", help=_("the token's hint (scrm_…), its id, or the token itself"))

    def handle(self, *args, **options) -> None:
        handler = {"create": self.create, "list": self.list, "revoke": self.revoke}[options["action"]]
        handler(options)

    def create(self, options: dict) -> None:
        user = self._user(options["user"]) if options["user"] else self._only_owner()
        token, raw = services.create_token(user, options["name"], actor=None)
        self.stdout.write(raw)
        self.stderr.write(
            _("Token “%(name)s” for %(user)s created. It is shown only now: keep it somewhere safe.")
            % {"name": token.name, "user": user.get_username()}
        )

    def list(self, options: dict) -> None:
        from rich.console import Console  # only here: `token create` in a script starts faster
        from rich.table import Table

        tokens = ApiToken.objects.select_related("user").order_by("-created_at")
        if options["user"]:
            tokens = tokens.filter(user=self._user(options["user"]))
        table = Table(title=_("API tokens"))
        for column in (_("name"), _("hint"), _("user"), _("created"), _("last used"), _("revoked")):
            table.add_column(column)
        for token in tokens:
            table.add_row(
                token.name,
                f"{token.hint}…",
                token.user.get_username(),
                _when(token.created_at),
                _when(token.last_used_at),
                _when(token.revoked_at),
            )
        Console(file=self.stdout._out, width=120).print(table)

    def revoke(self, options: dict) -> None:
        token = self._find(options["token"].strip())
        if token.revoked_at is not None:
            self.stderr.write(_("Token “%(name)s” was already revoked.") % {"name": token.name})
            return
        services.revoke_token(token, actor=None)
        self.stdout.write(
            _("Token “%(name)s” of %(user)s revoked.")
            % {"name": token.name, "user": token.user.get_username()}
        )

    def _user(self, username: str):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("There is no user “%(username)s”.") % {"username": username})
        return user

    def _only_owner(self):
        owners = list(
            get_user_model()
            .objects.filter(Q(is_superuser=True) | Q(groups__name=Role.OWNER), is_active=True)
            .distinct()[:2]
        )
        if len(owners) != 1:
            raise CommandError(_("Say whose token this is with --user USERNAME."))
        return owners[0]

    def _find(self, value: str) -> ApiToken:
        """A token by its id, its hint or its whole value; a hint shared by two is ambiguous."""
        try:
            matches = ApiToken.objects.filter(uuid=uuid.UUID(value))
        except ValueError:
            if value.startswith(TOKEN_PREFIX) and len(value) > len(TOKEN_PREFIX) + 10:
                matches = ApiToken.objects.filter(key_hash=hash_token(value))
            else:
                matches = ApiToken.objects.filter(hint=value.rstrip("…"))
        found = list(matches.select_related("user")[:2])
        if not found:
            raise CommandError(_("No token matches “%(value)s”.") % {"value": value})
        if len(found) > 1:
            raise CommandError(_("Several tokens start with “%(value)s”: use the id.") % {"value": value})
        return found[0]


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "–"
