"""The `solocrm` console script: every Django management command, under a friendlier name.

`solocrm serve`, `solocrm import contacts FILE`, `solocrm demo`… are management commands in the
apps' management/commands folders; `solocrm` alone lists them."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solocrm.settings")
    from django.core.management import execute_from_command_line

    argv = ["solocrm", *sys.argv[1:]]
    if len(argv) == 1:
        argv.append("help")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
