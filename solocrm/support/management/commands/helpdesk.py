"""solocrm helpdesk report [--weeks N] [--json]

The support reports in the terminal: tickets opened and solved, first-response and resolution
times against SLA, CSAT by week — the figures of /support/reports/ and GET /api/v1/support/reports."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from solocrm.support.helpdesk import reports
from solocrm.support.helpdesk.views import duration_text, percent_text


def _average(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


class Command(BaseCommand):
    help = _("The help desk: `helpdesk report` prints the support reports.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        report = sub.add_parser("report", help=_("Tickets, response times and CSAT by week."))
        report.add_argument(
            "--weeks",
            type=int,
            default=reports.DEFAULT_WEEKS,
            help=_("Whole weeks, this one included (1–104)."),
        )
        report.add_argument("--json", action="store_true", help=_("Print the figures as JSON."))

    def handle(self, *args, action: str, **options) -> None:
        if not 1 <= options["weeks"] <= reports.MAX_WEEKS:
            raise CommandError(_("--weeks must be from 1 to 104."))
        report = reports.support_report(options["weeks"])
        if options["json"]:
            self.stdout.write(json.dumps(reports.as_dict(report), ensure_ascii=False))
            return
        self._print(report)

    def _print(self, report: reports.SupportReport) -> None:
        from rich.console import Console
        from rich.table import Table

        console = Console(file=self.stdout, width=120)
        times = Table(title=_("Response and resolution times"))
        for column in (_("Time to"), _("Tickets"), _("Median"), _("90th percentile"), _("Within SLA")):
            times.add_column(column, justify="left" if column == _("Time to") else "right")
        for label, figures in (
            (_("First response"), report.first_response),
            (_("Resolution"), report.resolution),
        ):
            times.add_row(
                label,
                str(figures.count),
                duration_text(figures.median_minutes),
                duration_text(figures.p90_minutes),
                percent_text(figures.within_sla),
            )
        weeks = Table(title=_("By week"))
        for column in (_("Week of"), _("Opened"), _("Solved"), _("CSAT average"), _("CSAT answers")):
            weeks.add_column(column, justify="left" if column == _("Week of") else "right")
        for row in report.weeks:
            weeks.add_row(
                row.week.isoformat(),
                str(row.opened),
                str(row.solved),
                _average(row.csat_average),
                str(row.csat_responses),
            )
        console.print(times)
        console.print(weeks)
