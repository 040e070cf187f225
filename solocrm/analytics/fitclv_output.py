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


def _fixed(value: float | None, spec: str) -> str:
    """A number in ``spec`` format, or a dash where the model could not give one (NaN in JSON)."""
    return "—" if value is None else format(value, spec)


def _top_table(rows: list[dict[str, Any]]) -> Table:
    # without a spend model the report ranks by expected purchases and has no CLV to show
    with_clv = any("clv" in row for row in rows)
    title = _("Top customers by CLV") if with_clv else _("Top customers by expected purchases")
    table = Table(title=title, title_justify="left")
    names = [_("customer"), _("repeat purchases"), "P(alive)", _("expected purchases")]
    for name in names + ["CLV"] * with_clv:
        table.add_column(name, justify="right")
    for row in rows:
        cells = [str(row["customer"]), str(row["frequency"]), _fixed(row["p_alive"], ".2f")]
        cells.append(_fixed(row["expected_purchases"], ".2f"))
        table.add_row(*cells, *[_fixed(row.get("clv"), ",.2f")] * with_clv)
    return table


def _print_holdout(console: Console, holdout: dict[str, Any], unit: str) -> None:
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
            "unit": unit,
            "actual": f"{holdout['actual_repeat_purchases']:,}",
            "predicted": holdout["predicted_repeat_purchases"],
            "mae": holdout["mean_absolute_error"],
        }
    )
    console.print(_holdout_table(holdout))


def _print_spend(console: Console, spend: dict[str, Any]) -> None:
    if spend.get("fitted"):
        console.print(_params_table(_("Gamma-Gamma (spend per purchase)"), spend))
    else:
        console.print(_("Gamma-Gamma not fitted: %(reason)s") % {"reason": spend.get("reason", "")})
    # the independence check is worth reading even when q <= 1 stopped the CLV
    correlation = spend.get("frequency_value_correlation")
    if correlation is not None:
        console.print(
            _("Correlation of purchase frequency and spend per purchase: r = %(r).2f") % {"r": correlation}
        )
    if spend.get("warning"):
        console.print(_("Warning: %(warning)s") % {"warning": spend["warning"]})


def _print_clv(console: Console, clv: dict[str, Any]) -> None:
    if "total" not in clv:  # no spend model: the report says why and ranks by purchases
        console.print(clv.get("reason", ""))
        return
    console.print(
        _("%(months)d-month CLV at %(rate).0f%% a year: %(total)s in total, %(mean)s per customer")
        % {
            "months": clv["months"],
            "rate": clv["discount_rate_yearly"] * 100,
            "total": _fixed(clv["total"], ",.2f"),
            "mean": _fixed(clv["mean"], ",.2f"),
        }
    )


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
    if report.get("holdout"):
        _print_holdout(console, report["holdout"], data["time_unit"])
    console.print(_params_table(_("BG/NBD fitted on all the data"), report["bgnbd"]))
    if report.get("gamma_gamma"):
        _print_spend(console, report["gamma_gamma"])
    if report.get("clv"):
        _print_clv(console, report["clv"])
    if report.get("top_customers"):
        console.print(_top_table(report["top_customers"]))
