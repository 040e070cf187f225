"""`solocrm demo`: fill the database with deterministic, realistic demo data."""

from __future__ import annotations

import sys
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from solocrm.web.demo import DemoDataExists, has_data, load_demo


class Command(BaseCommand):
    help = _(
        "Load demo data: contacts, companies, products, three years of orders, interactions, tasks, "
        "deals, quotes and a lead form."
    )
    # The system checks import every URL module (and with it pandas, scipy, fpdf…): seconds
    # this command does not need. `solocrm check`, `serve` and `worker` still run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--contacts", type=int, default=2000, help=_("Number of contacts (default 2000).")
        )
        parser.add_argument(
            "--seed", type=int, default=42, help=_("Random seed: the same seed gives the same data.")
        )
        parser.add_argument(
            "--end",
            type=date.fromisoformat,
            default=None,
            help=_("Last day the data covers, YYYY-MM-DD (default: today)."),
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help=_(
                "Delete existing contacts, companies, orders, products, interactions, tasks, deals, "
                "quotes and lead forms first."
            ),
        )
        parser.add_argument("--yes", action="store_true", help=_("Do not ask for confirmation."))

    def handle(self, *args, contacts: int, seed: int, end: date | None, replace: bool, yes: bool, **options):
        if contacts < 1:
            raise CommandError(_("--contacts must be at least 1."))
        if replace and has_data() and not yes:
            self._confirm()
        console = Console(file=self.stdout, stderr=False, force_terminal=None)
        started = time.monotonic()
        try:
            counts = self._load(console, contacts=contacts, seed=seed, end=end, replace=replace)
        except DemoDataExists as error:
            raise CommandError(str(error)) from error
        self._report(console, counts, time.monotonic() - started)

    def _confirm(self) -> None:
        if not sys.stdin.isatty():
            raise CommandError(_("The database holds data: add --yes to delete it without asking."))
        answer = input(
            _(
                "This deletes every contact, company, order, product, interaction, task, deal, quote "
                "and lead form. Type 'yes': "
            )
        )
        if answer.strip().lower() != "yes":
            raise CommandError(_("Nothing was changed."))

    def _load(self, console: Console, **kwargs) -> dict[str, int]:
        columns = (
            TextColumn("{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=False) as bar:
            tasks: dict[str, int] = {}

            def progress(step: str, done: int, total: int) -> None:
                if step not in tasks:
                    tasks[step] = bar.add_task(step, total=total)
                bar.update(tasks[step], completed=done)

            return load_demo(progress, **kwargs)

    def _report(self, console: Console, counts: dict[str, int], seconds: float) -> None:
        table = Table()
        table.add_column(_("What"))
        table.add_column(_("Rows"), justify="right")
        for name, count in counts.items():
            table.add_row(name.replace("_", " "), f"{count:,}")
        console.print(table)
        console.print(_("Demo data loaded in %(seconds).1f s.") % {"seconds": seconds})
