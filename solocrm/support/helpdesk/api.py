"""The support reports in the API: ``GET /api/v1/support/reports`` (every role may read)."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from solocrm.lib.api import responses

from . import reports

router = Router(tags=["support"])


class ReportParams(Schema):
    weeks: int = Field(
        reports.DEFAULT_WEEKS, ge=1, le=reports.MAX_WEEKS, description="Whole weeks, this one included"
    )


class DurationsOut(Schema):
    count: int = Field(description="Tickets measured")
    median_minutes: float | None = Field(description="Median, wall-clock minutes")
    p90_minutes: float | None = Field(description="90th percentile, wall-clock minutes")
    with_target: int = Field(description="Tickets whose SLA set a due time (and it is settled)")
    within_target: int = Field(description="Of those, met in time")
    within_sla: float | None = Field(description="within_target / with_target, 0–1")


class WeekOut(Schema):
    week: date = Field(description="The Monday")
    opened: int
    solved: int
    first_response_within_sla: float | None
    resolution_within_sla: float | None
    csat_average: float | None = Field(description="Mean score, 1–5")
    csat_satisfied: float | None = Field(description="Share of answers of 4 or 5, 0–1")
    csat_responses: int


class ReportOut(Schema):
    since: date
    until: date
    opened: int
    solved: int
    first_response: DurationsOut
    resolution: DurationsOut
    csat_average: float | None
    csat_satisfied: float | None
    csat_responses: int
    weeks: list[WeekOut]


@router.get("/support/reports", response=responses({200: ReportOut}))
def support_reports(request: HttpRequest, params: Query[ReportParams]):
    """Tickets opened and solved, first-response and resolution times against SLA, CSAT by week
    (the figures of /support/reports/; CSAT by customer segment is under analytics)."""
    return reports.as_dict(reports.support_report(params.weeks))
