"""solocrm audit list [--user NAME] [--action A] [--since DAY] [--limit N] [--json] | solocrm audit verify

Read the audit log, or check its hash chain: `verify` exits 0 when every entry is as written and
1 naming the first entry that was changed, or that follows one that was removed."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from solocrm.users import audit
from solocrm.users.models import AuditLog


class Command(BaseCommand):
    help = _(
        "Read the audit log (`audit list`) or check that no entry was changed or removed (`audit verify`)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help=_("Show the latest entries, newest first."))
        listing.add_argument("--user", help=_("Only this user's entries (user name)."))
        listing.add_argument("--action", dest="what", help=_("Only this action (login, merge, delete…)."))
        listing.add_argument("--since", help=_("Only entries from this day on (YYYY-MM-DD)."))
        listing.add_argument("--limit", type=int, default=50)
        listing.add_argument("--json", action="store_true", help=_("One JSON object per line."))
        sub.add_parser("verify", help=_("Check the hash chain; exit 1 naming the first broken entry."))

    def handle(self, *args, action: str, **options) -> None:
        if action == "verify":
            self.verify()
        else:
            self.list(options)

    def verify(self) -> None:
        checked, broken = audit.verify()
        if broken is None:
            self.stdout.write(_("The audit log is whole: %(count)d entries checked.") % {"count": checked})
            return
        self.stderr.write(
            _("The audit log was altered: entry %(id)d: %(reason)s (%(count)d entries before it are intact).")
            % {"id": broken.entry_id, "reason": broken.reason, "count": checked}
        )
        sys.exit(1)

    def list(self, options: dict) -> None:
        since = None
        if options["since"]:
            since = parse_date(options["since"])
            if since is None:
                raise CommandError(
                    _("“%(t)s” is not a date; write it as YYYY-MM-DD.") % {"t": options["since"]}
                )
        chosen = audit.AuditFilter(user=options["user"] or "", action=options["what"] or "", since=since)
        entries = chosen.apply(AuditLog.objects.all())
        for entry in entries[: max(1, options["limit"])]:
            row = {
                "id": entry.pk,
                "at": entry.at.isoformat(),
                "user": entry.actor_name,
                "action": entry.action,
                "object_type": entry.object_type,
                "object": str(entry.object_uuid or ""),
                "summary": entry.summary,
            }
            if options["json"]:
                self.stdout.write(json.dumps(row, ensure_ascii=False))
            else:
                self.stdout.write(
                    f"{row['at'][:19]}  {row['user'] or '-':12} {row['action']:14} {row['summary']}"
                )
