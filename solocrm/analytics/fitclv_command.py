"""`solocrm analytics fit-clv FILE …`: its arguments and its work, kept apart from the
management command so that the console script can run it without setting up the project's apps
or importing Django's management machinery (the command-line start-up budget of issue 10).
``analytics.py`` (the management command) uses the same two functions."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _


class FitClvError(Exception):
    """A refusal to show the user as one line (no such file, a missing column, …)."""


def iso_date(text: str) -> date:
    value = parse_date(text)
    if value is None:
        raise argparse.ArgumentTypeError(_("“%(t)s” is not a date; write it as YYYY-MM-DD.") % {"t": text})
    return value


def add_arguments(fit: argparse.ArgumentParser) -> None:
    fit.add_argument("file", type=Path)
    fit.add_argument("--customer-col", required=True, help=_("Column name, or number when no header."))
    fit.add_argument("--date-col", required=True)
    fit.add_argument("--amount-col")
    fit.add_argument("--date-format", help=_("strftime format of the dates, e.g. %%Y%%m%%d."))
    fit.add_argument(
        "--sep",
        help=_(
            "Column separator (default: guessed from the first line: comma, semicolon, tab or "
            "vertical bar, otherwise runs of spaces)."
        ),
    )
    fit.add_argument(
        "--encoding",
        help=_("Text encoding of the file (default: UTF-8, with or without a byte-order mark)."),
    )
    fit.add_argument("--calibration-end", type=iso_date, help=_("Fit up to this day, test on the rest."))
    fit.add_argument("--time-unit", choices=["day", "week"], default="week")
    fit.add_argument("--json", action="store_true", help=_("Print the report as one JSON object."))


def fit_clv(options: dict[str, Any], out: TextIO) -> None:
    """Read the file, fit the models, print the report; FitClvError says what is wrong."""
    from solocrm.analytics.fitclv import TransactionsFileError, fit_clv_report, read_transactions

    if not options["file"].is_file():
        raise FitClvError(_("No such file: %(path)s") % {"path": options["file"]})
    try:
        transactions = read_transactions(
            options["file"],
            customer_col=options["customer_col"],
            date_col=options["date_col"],
            amount_col=options["amount_col"],
            date_format=options["date_format"],
            sep=options["sep"],
            encoding=options["encoding"],
        )
        report = fit_clv_report(
            transactions,
            calibration_end=options["calibration_end"],
            time_unit="W" if options["time_unit"] == "week" else "D",
        )
    except (TransactionsFileError, ValueError) as error:
        raise FitClvError(str(error)) from None
    if options["json"]:
        out.write(json.dumps(report, ensure_ascii=False, default=str) + "\n")
    else:
        from solocrm.analytics.fitclv_output import print_report

        print_report(report, out)


def main(args: list[str]) -> int:
    """The console script's way in: ``args`` are what follows ``fit-clv``."""
    parser = argparse.ArgumentParser(
        prog="solocrm analytics fit-clv", description=_("Fit BG/NBD and Gamma-Gamma on a transactions file.")
    )
    add_arguments(parser)
    options = vars(parser.parse_args(args))
    try:
        fit_clv(options, sys.stdout)
    except FitClvError as error:
        print(_("Error: %(error)s") % {"error": error}, file=sys.stderr)
        return 1
    return 0
