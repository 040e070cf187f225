"""solocrm backup [--output FILE|FOLDER] | solocrm backup --verify FILE

Write one archive with the database, the files and the keys (see solocrm/ops/backup.py), or
check that an archive restores: into a throw-away SQLite data directory, in a child process,
with every row counted and every file's checksum compared."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from solocrm.ops.backup import create_backup
from solocrm.ops.restore import RestoreError, check_archive


class Command(BaseCommand):
    help = _("Back up the database, files and keys into one archive, or verify an archive.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            help=_("The archive to write, or a folder to write it in (default: the backup folder)."),
        )
        parser.add_argument(
            "--verify", metavar="FILE", help=_("Restore FILE into a temporary place and compare.")
        )

    def handle(self, *args, **options) -> None:
        if options["verify"]:
            self.verify(Path(options["verify"]))
            return
        output = Path(options["output"] or settings.SOLOCRM_BACKUP_DIR)
        report = create_backup(output)
        rows = sum(report.tables.values())
        self.stderr.write(
            _("%(rows)d rows in %(tables)d tables and %(files)d files, %(size).1f MB.")
            % {"rows": rows, "tables": len(report.tables), "files": report.files, "size": report.size / 1e6}
        )
        self.stdout.write(str(report.path))

    def verify(self, path: Path) -> None:
        try:
            manifest = check_archive(path)
        except RestoreError as error:
            raise CommandError(str(error)) from None
        with tempfile.TemporaryDirectory(prefix="solocrm-verify-") as place:
            env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SOLOCRM_SECRET_KEY")}
            env["SOLOCRM_DATA_DIR"] = place
            done = subprocess.run(
                [sys.executable, "-m", "solocrm.cli", "restore", str(path.resolve())],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
        if done.returncode != 0:
            raise CommandError(_("The backup does not restore: %(error)s") % {"error": done.stderr.strip()})
        rows = sum(table["rows"] for table in manifest["tables"].values())
        self.stdout.write(
            _(
                "OK: %(rows)d rows in %(tables)d tables and %(files)d files restored and checked "
                "(solocrm %(version)s)."
            )
            % {
                "rows": rows,
                "tables": len(manifest["tables"]),
                "files": sum(1 for name in manifest["files"] if name.startswith("files/")),
                "version": manifest.get("solocrm_version", "?"),
            }
        )
