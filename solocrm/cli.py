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
    "audit",
    "backup",
    "createuser",
    "dedupe",
    "demo",
    "export",
    "helpdesk",
    "import",
    "jobs",
    "mail",
    "search",
    "settings",
    "tasks",
    "tickets",
    "token",
}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solocrm.settings")
    from django.core.management import execute_from_command_line

    argv = ["solocrm", *sys.argv[1:]]
    if len(argv) == 1:
        argv.append("help")
    if argv[1:3] == ["analytics", "fit-clv"] and not {"-h", "--help"} & set(argv[3:]):
        run_fit_clv(argv)
        return
    if needs_database(argv[1:]):
        upgrade_database()
    execute_from_command_line(argv)


def run_fit_clv(argv: list[str]) -> None:
    """`solocrm analytics fit-clv` reads only its file: Django is set up without the project's
    apps, and without Django's management machinery (together ~0.5 s of start-up, issue 10's
    budget), with the same language, time zone and translations, so its messages read the same."""
    import django
    from django.conf import settings

    from solocrm import settings as project

    settings.configure(
        USE_I18N=True,
        USE_TZ=True,
        LANGUAGE_CODE=project.LANGUAGE_CODE,
        LANGUAGES=project.LANGUAGES,
        LOCALE_PATHS=project.LOCALE_PATHS,
        TIME_ZONE=project.TIME_ZONE,
        INSTALLED_APPS=[],
    )
    django.setup()
    defer_numpy_submodules()
    from solocrm.analytics import fitclv_command

    sys.exit(fitclv_command.main(argv[3:]))


def defer_numpy_submodules() -> None:
    """SciPy's array-API layer copies NumPy's namespace with ``from numpy import *``, which loads
    every lazily imported NumPy submodule, among them the Fortran wrapper generator and the test
    helpers (~0.1 s). fit-clv uses neither; they load on first use if anything does."""
    import importlib.util

    import numpy

    for name in ("numpy.f2py", "numpy.testing"):
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            continue
        spec.loader = importlib.util.LazyLoader(spec.loader)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        setattr(numpy, name.rpartition(".")[2], module)
        spec.loader.exec_module(module)


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
