"""solocrm analytics refresh [--as-of YYYY-MM-DD] [--json] [--if-older-than HOURS]
solocrm analytics status [--json]
solocrm analytics fit-clv FILE --customer-col C --date-col D [--amount-col A] [--date-format F]
                         [--sep S] [--encoding E] [--calibration-end DATE] [--time-unit day|week] [--json]

``refresh`` fits every model on the database and writes the scores back onto the customers (as
if ``--as-of`` were today, when given: later orders are left out);
``fit-clv`` analyses any transactions file without importing it."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from solocrm.analytics import fitclv_command


class Command(BaseCommand):
    help = _("Customer analytics: refresh the scores, show the refresh status, or fit CLV on a file.")
    # The system checks import every URL module (and with it pandas, scipy, fpdf…): seconds
    # this command does not need. `solocrm check`, `serve` and `worker` still run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        refresh = sub.add_parser("refresh", help=_("Fit the models and write every customer's scores."))
        refresh.add_argument(
            "--as-of",
            metavar="YYYY-MM-DD",
            help=_(
                "Score as if this day were today (for history that ended long ago); later orders are ignored."
            ),
        )
        refresh.add_argument("--json", action="store_true", help=_("Print the result as one JSON object."))
        refresh.add_argument(
            "--if-older-than",
            type=float,
            metavar="HOURS",
            help=_("Do nothing when the last refresh is more recent than this (for cron)."),
        )
        status = sub.add_parser("status", help=_("Show whether a refresh is running and how far it is."))
        status.add_argument("--json", action="store_true")
        fit = sub.add_parser("fit-clv", help=_("Fit BG/NBD and Gamma-Gamma on a transactions file."))
        fitclv_command.add_arguments(fit)

    def handle(self, *args, action: str, **options) -> None:
        {"refresh": self.refresh, "status": self.status, "fit-clv": self.fit_clv}[action](options)

    # -- refresh ------------------------------------------------------------------------------

    def refresh(self, options: dict[str, Any]) -> None:
        # imported here: `fit-clv` runs without the project's apps (solocrm.cli.run_fit_clv)
        from solocrm.analytics import jobs, services

        if options["if_older_than"] is not None and services.refreshed_within(options["if_older_than"]):
            self.stdout.write(_("The scores are recent enough; nothing to do."))
            return
        as_of = self._as_of(options["as_of"])
        fancy = not options["json"] and self.stdout.isatty()
        try:
            if fancy:
                result = self._refresh_with_progress(as_of)
            else:
                result = jobs.run_here(as_of=as_of)
        except (jobs.RefreshBusy, jobs.RefreshFailed) as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False, default=str))
            return
        self.stdout.write(_("Analytics refreshed in %(s).1f s") % {"s": result["seconds"]})
        if as_of:
            self.stdout.write(_("Scores as of %(day)s.") % {"day": as_of.isoformat()})
        for step in result["steps"]:
            note = f"  ({step['note']})" if step.get("note") else ""
            self.stdout.write(f"  {step['name']:<14} {step['seconds']:>7.2f} s{note}")
        if result.get("warning"):
            self.stdout.write(self.style.WARNING(_("Warning: %(text)s") % {"text": result["warning"]}))

    @staticmethod
    def _as_of(day: str | None) -> date | None:
        from solocrm.analytics.asof import AsOfError, parse_as_of

        try:
            return parse_as_of(day)
        except AsOfError as error:
            raise CommandError(str(error)) from None

    def _refresh_with_progress(self, as_of: date | None) -> dict[str, Any]:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from solocrm.analytics import jobs

        console = Console(file=self.stdout._out)
        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[step]}"))
        with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
            task = bar.add_task(_("Refreshing analytics"), total=None, step="")

            def progress(step: str, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total or None, step=step)

            return jobs.run_here(progress, as_of=as_of)

    # -- status -------------------------------------------------------------------------------

    def status(self, options: dict[str, Any]) -> None:
        from solocrm.analytics import jobs

        state = jobs.refresh_status()
        if options["json"]:
            self.stdout.write(json.dumps(state, default=str))
            return
        self.stdout.write(_("State: %(state)s") % {"state": state["state"]})
        if state["state"] == "running":
            self.stdout.write(_("Step: %(step)s (%(done)d of %(total)d)") % state)
        if state.get("finished_at"):
            when = timezone.localtime(state["finished_at"]).strftime("%Y-%m-%d %H:%M")
            self.stdout.write(_("Finished at %(when)s") % {"when": when})
        if state.get("error"):
            self.stdout.write(_("Error: %(error)s") % state)
        if state.get("as_of"):
            self.stdout.write(_("Scores as of %(day)s.") % {"day": state["as_of"]})
        if state.get("warning"):
            self.stdout.write(self.style.WARNING(_("Warning: %(text)s") % {"text": state["warning"]}))

    # -- fit-clv ------------------------------------------------------------------------------

    def fit_clv(self, options: dict[str, Any]) -> None:
        try:
            fitclv_command.fit_clv(options, self.stdout._out)
        except fitclv_command.FitClvError as error:
            raise CommandError(str(error)) from None
