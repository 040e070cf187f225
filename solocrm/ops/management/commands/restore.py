"""solocrm restore FILE [--force]

Restore an archive written by `solocrm backup` (see solocrm/ops/restore.py). It refuses a
database that already holds data unless --force is given. Restart solocrm afterwards: the
restored secret key is read when it starts."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from solocrm.ops.restore import RestoreError, restore_backup


class Command(BaseCommand):
    help = _("Restore a backup made by `solocrm backup`.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("The backup archive (.tar.gz)."))
        parser.add_argument("--force", action="store_true", help=_("Replace a database that holds data."))

    def handle(self, *args, file: str, force: bool, **options) -> None:
        try:
            report = restore_backup(Path(file), force=force)
        except RestoreError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            _(
                "Restored %(rows)d rows in %(tables)d tables and %(files)d files "
                "(backup of solocrm %(version)s)."
            )
            % {
                "rows": sum(report.tables.values()),
                "tables": len(report.tables),
                "files": report.files,
                "version": report.migrated_from or "?",
            }
        )
        self.stdout.write(_("Restart solocrm so that it reads the restored keys."))
