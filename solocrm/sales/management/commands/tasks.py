"""solocrm tasks today [--user NAME] [--limit N] [--json]

Prints the Today page's ranked list in the terminal: the same items, reasons and order."""

from __future__ import annotations

import json
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from solocrm.lib import today


def _when(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


class Command(BaseCommand):
    help = _("Tasks and the daily agenda: `tasks today` prints what deserves your time today.")
    # The system checks import every URL module (and with it pandas, scipy, fpdf…): seconds
    # this command does not need. `solocrm check`, `serve` and `worker` still run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        agenda = sub.add_parser("today", help=_("Print today's ranked agenda, as on the Today page."))
        agenda.add_argument("--user", help=_("Whose snoozed items to leave out (default: show everything)."))
        agenda.add_argument("--limit", type=int, default=30, help=_("At most this many items (default 30)."))
        agenda.add_argument("--json", action="store_true", help=_("Print the items as JSON lines."))

    def handle(self, *args, **options) -> None:
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(
                    _("There is no active user “%(username)s”.") % {"username": options["user"]}
                )
        if options["limit"] < 1:
            raise CommandError(_("--limit must be at least 1."))
        items = today.collect(user, total=options["limit"])
        if options["json"]:
            for item in items:
                self.stdout.write(json.dumps(self._as_dict(item), ensure_ascii=False))
            return
        self._print_table(items)

    @staticmethod
    def _as_dict(item: today.TodayItem) -> dict:
        return {
            "kind": item.kind,
            "title": item.title,
            "reason": item.reason,
            "score": round(item.score, 1),
            "when": _when(item.when) or None,
            "amount": str(item.amount) if item.amount is not None else None,
            "currency": item.currency or None,
            "url": item.url,
        }

    def _print_table(self, items: list[today.TodayItem]) -> None:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        console = Console(file=self.stdout._out, soft_wrap=False)
        if not items:
            console.print(_("Nothing needs you today."))
            return
        table = Table(title=_("Today, %(date)s") % {"date": timezone.localdate().isoformat()})
        table.add_column("#", justify="right")
        table.add_column(_("What"))
        table.add_column(_("Why"))
        table.add_column(_("When"))
        for rank, item in enumerate(items, start=1):
            # Titles are user content: "[red]" in a name must print as typed, not as markup.
            table.add_row(str(rank), escape(item.title), escape(item.reason), _when(item.when))
        console.print(table)
