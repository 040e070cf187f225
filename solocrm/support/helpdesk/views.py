"""The support reports page (signed in; every role may read it)."""

from __future__ import annotations

from dataclasses import asdict

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from solocrm.lib.access import role_required
from solocrm.lib.business import business_settings
from solocrm.lib.roles import Action

from . import reports

WEEK_CHOICES = (4, 12, 26, 52)


def _weeks(request: HttpRequest) -> int:
    try:
        weeks = int(request.GET.get("weeks", reports.DEFAULT_WEEKS))
    except ValueError:
        return reports.DEFAULT_WEEKS
    return weeks if weeks in WEEK_CHOICES else reports.DEFAULT_WEEKS


def percent_text(share: float | None) -> str:
    """A share (0–1) as "12.5 %"; "—" when there is none."""
    return "—" if share is None else f"{number_format(share * 100, 1)} %"


def duration_text(minutes: float | None) -> str:
    """A duration people read at a glance: "45 min", "3 h 20 min", "2 d 4 h"."""
    if minutes is None:
        return "—"
    total = round(minutes)
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": mins}
    return _("%(m)d min") % {"m": mins}


def charts(report: reports.SupportReport) -> dict[str, dict]:
    """What analytics.js draws (the same layout as the analytics pages' charts)."""
    labels = [date_format(row.week, "SHORT_DATE_FORMAT") for row in report.weeks]

    def series(label: str, data: list, **options) -> dict:
        return {"label": str(label), "data": data, **options}

    currency = business_settings().currency
    volume = {
        "type": "bar",
        "labels": labels,
        "format": "number",
        "currency": currency,
        "datasets": [
            series(_("Opened"), [row.opened for row in report.weeks]),
            series(_("Solved"), [row.solved for row in report.weeks]),
        ],
    }
    satisfaction = {
        "type": "line",
        "labels": labels,
        "format": "decimal",
        "currency": currency,
        "datasets": [series(_("CSAT average (1–5)"), [row.csat_average for row in report.weeks])],
    }
    return {"volume": volume, "satisfaction": satisfaction}


def _times_row(label: str, figures: reports.Durations) -> dict:
    within = percent_text(figures.within_sla)
    if figures.with_target:
        within = f"{within} ({figures.within_target}/{figures.with_target})"
    return {
        "label": label,
        "count": figures.count,
        "median": duration_text(figures.median_minutes),
        "p90": duration_text(figures.p90_minutes),
        "within": within,
    }


@role_required(Action.VIEW)
def reports_page(request: HttpRequest) -> HttpResponse:
    weeks = _weeks(request)
    report = reports.support_report(weeks)
    rows = [
        {
            **asdict(row),
            "first_response_within_sla": percent_text(row.first_response_within_sla),
            "resolution_within_sla": percent_text(row.resolution_within_sla),
            "csat_satisfied": percent_text(row.csat_satisfied),
        }
        for row in report.weeks
    ]
    context = {
        "report": report,
        "rows": rows,
        "weeks": weeks,
        "week_choices": WEEK_CHOICES,
        "csat_satisfied": percent_text(report.csat_satisfied),
        "charts": charts(report),
        "times": [
            _times_row(_("First response"), report.first_response),
            _times_row(_("Resolution"), report.resolution),
        ],
    }
    return render(request, "support/helpdesk/reports.html", context)
