"""solocrm import contacts|companies|orders|interactions FILE [--dry-run] [--json]
[--mapping HEADER=FIELD ...] [--source NAME] [--stage STAGE]

Exit code 0 when the run completed (even with rejected rows), 1 when the file cannot be read."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from solocrm.contacts.choices import ImportKind, LifecycleStage
from solocrm.contacts.importing import ImportFileError, ImportReport, run_import

SHOWN_ERRORS = 20


def mapping_pair(text: str) -> tuple[str, str]:
    header, sep, field = text.rpartition("=")
    if not sep or not header.strip():
        raise CommandError(
            _("--mapping takes HEADER=FIELD (an empty FIELD ignores the column), not “%(t)s”.") % {"t": text}
        )
    return header.strip(), field.strip()


class Command(BaseCommand):
    help = _("Import contacts, companies, orders or interactions from a CSV, XLSX or vCard file.")
    # The system checks import every URL module (and with it pandas, scipy, fpdf…): seconds
    # this command does not need. `solocrm check`, `serve` and `worker` still run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help=_("Check and count everything, write nothing.")
        )
        parser.add_argument("--json", action="store_true", help=_("Print the report as one JSON object."))
        parser.add_argument(
            "--mapping",
            nargs="+",
            default=[],
            metavar="HEADER=FIELD",
            help=_("Override the detected column mapping."),
        )
        parser.add_argument(
            "--source", help=_("Name used for this import in the timeline and the audit log.")
        )
        parser.add_argument(
            "--region",
            help=_(
                "Country (such as DE) of phone numbers written without one, in rows that name no "
                "country; default SOLOCRM_PHONE_REGION."
            ),
        )
        parser.add_argument(
            "--encoding",
            help=_(
                "Text encoding of a CSV or vCard file (such as shift_jis) when the detected one is wrong."
            ),
        )
        parser.add_argument(
            "--stage",
            choices=LifecycleStage.values,
            default=LifecycleStage.PROSPECT.value,
            help=_(
                "Lifecycle stage of new contacts whose row has no stage column (default: prospect; "
                "“lead” puts them on Today as waiting for a reply)."
            ),
        )

    def handle(self, *args, kind: str, file: Path, **options) -> None:
        mapping = dict(mapping_pair(pair) for pair in options["mapping"])
        fancy = not options["json"] and self.stdout.isatty()
        try:
            if fancy:
                report = self._run_with_progress(kind, file, mapping, options)
            else:
                report = self._run(kind, file, mapping, options, None)
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False))
        else:
            self._summary(report)

    def _run(self, kind: str, file: Path, mapping: dict, options: dict, progress) -> ImportReport:
        return run_import(
            kind,
            file,
            dry_run=options["dry_run"],
            mapping=mapping or None,
            progress=progress,
            source_name=options["source"],
            region=options.get("region"),
            encoding=options.get("encoding"),
            stage=options["stage"],
        )

    def _run_with_progress(self, kind: str, file: Path, mapping: dict, options: dict) -> ImportReport:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        console = Console(file=self.stdout._out)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(_("Importing %(file)s") % {"file": file.name}, total=None)

            def progress(done: int, total: int | None) -> None:
                bar.update(task, completed=done, total=max(total, done) if total is not None else None)

            return self._run(kind, file, mapping, options, progress)

    def _summary(self, report: ImportReport) -> None:
        title = _("Dry run, nothing was written") if report.dry_run else _("Import finished")
        rows = [
            (_("format"), f"{report.format} {report.layout}".strip()),
            (_("encoding"), report.encoding or "—"),
            (_("rows read"), report.rows),
            (_("created"), report.created),
            (_("updated"), report.updated),
            (_("unchanged"), report.unchanged),
            (_("merged duplicates"), report.merged),
            (_("imported with warnings"), report.warned),
            (_("rejected"), report.rejected),
        ]
        width = max(len(str(label)) for label, _v in rows)
        self.stdout.write(title)
        for label, value in rows:
            self.stdout.write(f"  {label!s:<{width}}  {value}")
        for error in report.errors[:SHOWN_ERRORS]:
            column = f" [{error.column}]" if error.column else ""
            self.stdout.write(
                _("  line %(line)d%(column)s: %(reason)s")
                % {"line": error.line, "column": column, "reason": error.reason}
            )
        for warning in report.warnings[:SHOWN_ERRORS]:
            column = f" [{warning.column}]" if warning.column else ""
            self.stdout.write(
                _("  line %(line)d%(column)s: warning: %(reason)s (the text is kept on the contact)")
                % {"line": warning.line, "column": column, "reason": warning.reason}
            )
        if report.rejected > SHOWN_ERRORS:
            self.stdout.write(_("  … and %(n)d more rejected rows") % {"n": report.rejected - SHOWN_ERRORS})
        if report.rejected_path:
            self.stdout.write(
                _("Rejected rows, with the reason, are in %(path)s") % {"path": report.rejected_path}
            )
