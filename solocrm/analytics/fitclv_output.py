"""Terminal output of `solocrm analytics fit-clv`: the report of ``fitclv.fit_clv_report`` as
rich tables (the JSON form is the report itself)."""

from __future__ import annotations

from typing import Any, TextIO

from django.utils.translation import gettext as _
from rich.console import Console
from rich.table import Table


def _params_table(title: str, section: dict[str, Any]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    for name, value in section["params"].items():
        table.add_row(name, f"{value:.4g}")
    table.add_row(_("log-likelihood"), f"{section['log_likelihood']:.1f}")
    table.add_row(_("customers"), f"{section['customers']:,}")
    return table


def _holdout_table(holdout: dict[str, Any]) -> Table:
    table = Table(title=_("Holdout: mean repeat purchases by calibration frequency"), title_justify="left")
    for name in (_("repeat purchases"), _("customers"), _("actual"), _("predicted")):
        table.add_column(name, justify="right")
    for row in holdout["by_frequency"]:
        table.add_row(
            row["frequency"],
            f"{row['customers']:,}",
            f"{row['actual_mean']:.3f}",
            f"{row['predicted_mean']:.3f}",
        )
    return table


def _top_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=_("Top customers by CLV"), title_justify="left")
    for name in (_("customer"), _("repeat purchases"), "P(alive)", _("expected purchases"), "CLV"):
        table.add_column(name, justify="right")
    for row in rows:
        clv = "" if row.get("clv") is None else f"{row['clv']:,.2f}"
        table.add_row(
            str(row["customer"]),
            str(row["frequency"]),
            f"{row['p_alive']:.2f}",
            f"{row['expected_purchases']:.2f}",
            clv,
        )
    return table


def print_report(report: dict[str, Any], out: TextIO) -> None:
    console = Console(file=out, highlight=False)
    data = report["data"]
    console.print(
        _("%(customers)s customers, %(transactions)s transactions from %(first)s to %(last)s (in %(unit)s)")
        % {
            "customers": f"{data['customers']:,}",
            "transactions": f"{data['transactions']:,}",
            "first": data["first_date"],
            "last": data["last_date"],
            "unit": data["time_unit"],
        }
    )
    holdout = report.get("holdout")
    if holdout:
        end = holdout["calibration_end"]
        console.print(
            _params_table(_("BG/NBD fitted up to %(end)s") % {"end": end}, holdout["bgnbd_calibration"])
        )
        console.print(
            _(
                "Holdout (%(n).1f %(unit)s): %(actual)s repeat purchases, %(predicted).1f predicted; "
                "mean absolute error per customer %(mae).3f"
            )
            % {
                "n": holdout["duration"],
                "unit": data["time_unit"],
                "actual": f"{holdout['actual_repeat_purchases']:,}",
                "predicted": holdout["predicted_repeat_purchases"],
                "mae": holdout["mean_absolute_error"],
            }
        )
        console.print(_holdout_table(holdout))
    console.print(_params_table(_("BG/NBD fitted on all the data"), report["bgnbd"]))
    spend = report.get("gamma_gamma") or {}
    if spend.get("fitted"):
        console.print(_params_table(_("Gamma-Gamma (spend per purchase)"), spend))
    elif spend:
        console.print(_("Gamma-Gamma not fitted: %(reason)s") % {"reason": spend.get("reason", "")})
    clv = report.get("clv")
    if clv:
        console.print(
            _("%(months)d-month CLV at %(rate).0f%% a year: %(total)s in total, %(mean)s per customer")
            % {
                "months": clv["months"],
                "rate": clv["discount_rate_yearly"] * 100,
                "total": f"{clv['total']:,.2f}",
                "mean": f"{clv['mean']:,.2f}",
            }
        )
    if report.get("top_customers"):
        console.print(_top_table(report["top_customers"]))
