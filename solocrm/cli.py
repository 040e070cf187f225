"""The `solocrm` console script: every Django management command, under a friendlier name.

`solocrm serve`, `solocrm import contacts FILE`, `solocrm demo`… are management commands in the
apps' management/commands folders; `solocrm` alone lists them.

A command that reads or writes the database first brings it up to date, as `serve` does (an
SQLite file with data is copied aside first), so a new data directory or one left by an older
version never ends in a "no such table" traceback."""

import os
import sys

# solocrm's own commands that use the database; `serve` and `worker` upgrade it themselves.
DATABASE_COMMANDS = {
    "analytics",
    "createuser",
    "dedupe",
    "demo",
    "export",
    "import",
    "jobs",
    "tasks",
    "token",
}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solocrm.settings")
    from django.core.management import execute_from_command_line

    argv = ["solocrm", *sys.argv[1:]]
    if len(argv) == 1:
        argv.append("help")
    if needs_database(argv[1:]):
        upgrade_database()
    execute_from_command_line(argv)


def needs_database(args: list[str]) -> bool:
    """True for a command that works on the database (`analytics fit-clv` reads only its file)."""
    if args[0] not in DATABASE_COMMANDS or {"-h", "--help"} & set(args[1:]):
        return False
    return args[:2] != ["analytics", "fit-clv"]


def upgrade_database() -> None:
    """Apply pending migrations, saying so on standard error (standard output may be an export);
    exit with one line that says what to do when the database cannot be reached or upgraded."""
    import django

    django.setup()
    from django.db import DatabaseError
    from django.utils.translation import gettext as _

    from solocrm.web.upgrade import UpgradeFailed, migrate_with_backup

    def say(line: str) -> None:
        print(line, file=sys.stderr)

    try:
        result = migrate_with_backup(log=say)
    except UpgradeFailed as error:
        sys.exit(f"solocrm: {error}")
    except DatabaseError as error:
        sys.exit(
            _("solocrm: the database cannot be used (%(error)s). Check DATABASE_URL or SOLOCRM_DATA_DIR.")
            % {"error": str(error).strip()}
        )
    if result.pending:
        say(_("Database upgraded (%(count)d migrations).") % {"count": len(result.pending)})


if __name__ == "__main__":
    main()
