"""solocrm tickets export [--status S] [--priority P] [--assignee NAME] [--tag T] [--sla STATE]
[--q TEXT] [--ordering O] [--output FILE]

Writes the ticket queue as CSV, filtered by the same definition as the Support page and
``GET /api/v1/tickets`` (support/tickets/filters.py)."""

from __future__ import annotations

import csv
from contextlib import nullcontext

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError

from solocrm.lib.spreadsheet import csv_cell
from solocrm.support.tickets import services
from solocrm.support.tickets.filters import TicketFilter
from solocrm.support.tickets.models import Ticket

FILTERS = ("status", "priority", "assignee", "tag", "sla", "q", "ordering")
COLUMNS = (
    "number", "subject", "status", "priority", "source", "contact", "email", "assignee", "tags",
    "sla_state", "minutes_left", "next_due", "first_responded_at", "solved_at", "created_at", "uuid",
)  # fmt: skip


def _row(ticket: Ticket, now) -> list[str]:
    left = services.minutes_left(ticket, now)
    values = {
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "source": ticket.source,
        "contact": str(ticket.contact) if ticket.contact else "",
        "email": ticket.contact.email if ticket.contact else "",
        "assignee": ticket.assignee.get_username() if ticket.assignee else "",
        "tags": [tag.name for tag in ticket.tags.all()],
        "sla_state": services.sla_state(ticket, now),
        "minutes_left": "" if left is None else round(left),
        "next_due": ticket.next_due.isoformat() if ticket.next_due else "",
        "first_responded_at": ticket.first_responded_at.isoformat() if ticket.first_responded_at else "",
        "solved_at": ticket.solved_at.isoformat() if ticket.solved_at else "",
        "created_at": ticket.created_at.isoformat(),
        "uuid": str(ticket.uuid),
    }
    return [csv_cell(values[column]) for column in COLUMNS]


class Command(BaseCommand):
    help = _("Support tickets: `tickets export` writes the queue as CSV, with the Support page's filters.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help=_("Write the tickets as CSV (default: to the terminal)."))
        for name in FILTERS:
            export.add_argument(f"--{name}", default=None, help=TicketFilter.model_fields[name].description)
        export.add_argument("--output", "-o", help=_("Write to this file instead."))

    def handle(self, *args, **options) -> None:
        try:
            ticket_filter = TicketFilter.model_validate(
                {k: options[k] for k in FILTERS if options[k] is not None}
            )
        except ValidationError as error:
            names = ", ".join(sorted({str(e["loc"][0]) for e in error.errors() if e.get("loc")}))
            raise CommandError(_("Filters not understood: %(fields)s.") % {"fields": names}) from None
        tickets = ticket_filter.apply(
            Ticket.objects.select_related("contact", "assignee", "sla_policy").prefetch_related("tags")
        )
        output = options["output"]
        target = open(output, "w", newline="", encoding="utf-8") if output else nullcontext(self.stdout)  # noqa: SIM115
        with target as out:
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            now = timezone.now()
            count = 0
            for ticket in tickets.iterator(chunk_size=500):
                writer.writerow(_row(ticket, now))
                count += 1
        if options["output"]:
            self.stderr.write(
                _("%(count)s ticket(s) written to %(file)s.") % {"count": count, "file": options["output"]}
            )
