"""`solocrm dedupe`: list probable duplicate contacts, preview or merge them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandParser
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext as _

from solocrm.contacts.dedupe import DEFAULT_THRESHOLD, Candidate, find_duplicate_candidates
from solocrm.contacts.merge import merge_contacts, preview_merge
from solocrm.contacts.models import Contact

if TYPE_CHECKING:
    from rich.console import Console


def contact_json(contact: Contact) -> dict[str, Any]:
    return {
        "uuid": str(contact.uuid),
        "name": contact.full_name,
        "email": contact.email,
        "phone": contact.phone,
        "company": contact.company.name if contact.company else "",
        "activity": getattr(contact, "activity", None),
    }


def preview_json(candidate: Candidate) -> dict[str, Any]:
    preview = preview_merge(candidate.survivor, candidate.others)
    return {
        "changes": {f["field"]: _plain(f["after"]) for f in preview["fields"] if f["changed"]},
        "moved": preview["moved"],
        "tags": preview["tags"],
    }


def _plain(value: Any) -> Any:
    """Related objects (company, owner) as their names; everything else as JSON understands it."""
    if hasattr(value, "_meta"):
        return str(value)
    return value


class Command(BaseCommand):
    help = _("List contacts that are probably the same person; --apply merges them.")
    # The system checks import every URL module (and with it pandas, scipy, fpdf…): seconds
    # this command does not need. `solocrm check`, `serve` and `worker` still run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--threshold",
            type=float,
            default=DEFAULT_THRESHOLD,
            help=_("Name similarity (0-100) from which two names count as the same (default %(default)s)."),
        )
        parser.add_argument(
            "--limit", type=int, default=None, help=_("Show or merge at most this many groups.")
        )
        parser.add_argument("--apply", action="store_true", help=_("Merge every group into its survivor."))
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("With --apply: show what each merge would do, change nothing."),
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help=_("Print JSON instead of a table.")
        )

    def handle(
        self, *args, threshold: float, limit: int | None, apply: bool, dry_run: bool, as_json: bool, **options
    ):
        candidates = find_duplicate_candidates(limit=limit, threshold=threshold)
        preview = apply and dry_run
        if as_json:
            self._print_json(candidates, preview)
        else:
            self._print_table(candidates)
        # People sharing a phone whose e-mails or names differ are most often different people
        # (a switchboard, a landline): only a person looking at them may merge them (web page).
        mergeable = [c for c in candidates if c.reason != "shared_phone"]
        if apply and not dry_run and mergeable:
            self._merge(mergeable, quiet=as_json)

    def _console(self) -> Console:
        from rich.console import Console  # rich only when printing, not for --json

        # A wide console when writing to a file or pipe, so e-mail addresses are not cut.
        return Console(file=self.stdout, width=None if self.stdout.isatty() else 160)

    def _print_json(self, candidates: list[Candidate], preview: bool) -> None:
        rows = []
        for candidate in candidates:
            row = {
                "reason": candidate.reason,
                "score": candidate.score,
                "survivor": contact_json(candidate.survivor),
                "others": [contact_json(o) for o in candidate.others],
            }
            if preview:
                row["preview"] = preview_json(candidate)
            rows.append(row)
        self.stdout.write(json.dumps(rows, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))

    def _print_table(self, candidates: list[Candidate]) -> None:
        console = self._console()
        if not candidates:
            console.print(_("No duplicates found."))
            return
        from rich.table import Table

        table = Table(title=_("%(count)d groups of probable duplicates") % {"count": len(candidates)})
        for column in (_("Reason"), _("Score"), _("Keep"), _("Merge into it")):
            table.add_column(column)
        for c in candidates:
            table.add_row(
                c.reason, f"{c.score:g}", _describe(c.survivor), "\n".join(_describe(o) for o in c.others)
            )
        console.print(table)

    def _merge(self, candidates: list[Candidate], quiet: bool) -> None:
        from rich.progress import Progress

        merged = 0
        with Progress(console=self._console(), disable=quiet) as bar:
            task = bar.add_task(_("Merging"), total=len(candidates))
            for candidate in candidates:
                merge_contacts(candidate.survivor, candidate.others)
                merged += len(candidate.others)
                bar.advance(task)
        if not quiet:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Merged %(merged)d contacts into %(groups)d.")
                    % {"merged": merged, "groups": len(candidates)}
                )
            )


def _describe(contact: Contact) -> str:
    parts = [contact.full_name or "—", contact.email, contact.phone]
    if contact.company:
        parts.append(f"({contact.company.name})")
    return " ".join(p for p in parts if p)
