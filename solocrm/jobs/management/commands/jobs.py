"""solocrm jobs list [--limit N] [--active] [--json] | solocrm jobs cancel ID

The job page in the terminal: recent background jobs with status and progress, and cancel."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from solocrm.jobs import services
from solocrm.jobs.choices import ACTIVE
from solocrm.jobs.models import Job


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


class Command(BaseCommand):
    help = _("Background jobs: `jobs list` shows them, `jobs cancel ID` stops one.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help=_("Show recent jobs, newest first."))
        listing.add_argument("--limit", type=int, default=20, help=_("At most this many jobs (default 20)."))
        listing.add_argument("--active", action="store_true", help=_("Only queued and running jobs."))
        listing.add_argument("--json", action="store_true", help=_("Print the jobs as JSON lines."))
        cancel = sub.add_parser("cancel", help=_("Stop a queued or running job."))
        cancel.add_argument("id", help=_("The job's id, as `jobs list` shows it."))

    def handle(self, *args, action: str, **options) -> None:
        {"list": self.list, "cancel": self.cancel}[action](options)

    def list(self, options: dict[str, Any]) -> None:
        if options["limit"] < 1:
            raise CommandError(_("--limit must be at least 1."))
        jobs = Job.objects.select_related("created_by").order_by("-created_at", "-id")
        if options["active"]:
            jobs = jobs.filter(status__in=ACTIVE)
        jobs = list(jobs[: options["limit"]])
        if options["json"]:
            for job in jobs:
                self.stdout.write(json.dumps(self._as_dict(job), ensure_ascii=False))
            return
        self._print_table(jobs)

    @staticmethod
    def _as_dict(job: Job) -> dict[str, Any]:
        return {
            "id": str(job.uuid),
            "kind": job.kind,
            "title": job.title,
            "status": job.status,
            "step": job.step,
            "done": job.done,
            "total": job.total,
            "percent": job.percent,
            "message": job.message,
            "created_at": job.created_at.isoformat(),
            "started_at": job.started_at.isoformat() if job.started_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        }

    def _print_table(self, jobs: list[Job]) -> None:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        # Piped into a file or grep, a table is not squeezed into 80 columns.
        width = None if self.stdout.isatty() else 160
        console = Console(file=self.stdout._out, soft_wrap=False, width=width)
        if not jobs:
            console.print(_("No background jobs yet."))
            return
        table = Table(title=_("Background jobs"))
        table.add_column(_("Id"), no_wrap=True)  # copied into `jobs cancel ID`: never broken
        for column in (_("Job"), _("Status"), _("Progress"), _("Started"), _("Message")):
            table.add_column(column)
        for job in jobs:
            progress = f"{job.percent} %" + (f" ({escape(job.step)})" if job.step else "")
            table.add_row(
                str(job.uuid),
                escape(job.title or job.kind),
                job.get_status_display(),
                progress,
                _when(job.started_at),
                escape(job.message),
            )
        console.print(table)

    def cancel(self, options: dict[str, Any]) -> None:
        try:
            job = Job.objects.filter(uuid=options["id"]).first()
        except ValidationError:
            job = None
        if job is None:
            raise CommandError(_("There is no job “%(id)s”.") % {"id": options["id"]})
        if not services.cancel(job):
            raise CommandError(
                _("The job had already ended (%(status)s).") % {"status": job.get_status_display()}
            )
        if job.status == "cancelled":
            self.stdout.write(_("Cancelled: %(job)s") % {"job": job.title or job.kind})
        else:
            self.stdout.write(
                _("Stopping: %(job)s (its worker ends it within a few seconds).")
                % {"job": job.title or job.kind}
            )
