"""The sales forecast and the win/loss numbers: weighted pipeline by expected close month, win
rate and sales cycle by source, conversion by stage, lost reasons.

Every figure is one aggregating query (never a loop over deals in Python) and stays in its own
currency: amounts in different currencies are never added up or converted. Definitions (the
formulas are in docs/pipelines.md):

- weighted amount of an open deal = amount × its stage's probability / 100;
- win rate = won / (won + lost), over the deals closed in the period;
- sales cycle = days from a deal's creation to its close, averaged over the won deals;
- stage conversion = of the deals that entered a stage (stage history), the share of the decided
  ones (won or lost) that were won."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from solocrm.sales.choices import LostReason, StageKind
from solocrm.sales.deals.models import Deal, DealStageChange, Pipeline
from solocrm.sales.deals.services import duration_days, weighted_amount

CENT = Decimal("0.01")
PAST_DUE = "past_due"
NO_DATE = "no_date"
BUCKET_LABELS = {PAST_DUE: _("Past due"), NO_DATE: _("No close date")}


def _money(value: Any) -> Decimal:
    """A sum from the database as cents (SQLite sums decimals as floats)."""
    return Decimal(str(value or 0)).quantize(CENT)


@dataclass(frozen=True)
class Period:
    """The days ``start`` to ``end``, both included, in the owner's time zone."""

    start: date
    end: date

    @classmethod
    def last_months(cls, months: int, today: date | None = None) -> Period:
        today = today or timezone.localdate()
        return cls(start=_months_before(today, months) + timedelta(days=1), end=today)

    def q(self, field: str) -> Q:
        """``field`` (a datetime) within the period; boundaries are local midnights."""
        zone = timezone.get_current_timezone()
        start = datetime.combine(self.start, time.min, tzinfo=zone)
        end = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone)
        return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def _months_before(day: date, months: int) -> date:
    month = day.month - 1 - months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _deals(pipeline: Pipeline | None) -> QuerySet:
    deals = Deal.objects.all()
    return deals.filter(pipeline=pipeline) if pipeline is not None else deals


# --- weighted pipeline ----------------------------------------------------------------------------


def weighted_pipeline(pipeline: Pipeline | None = None, today: date | None = None) -> list[dict[str, Any]]:
    """The open deals by expected close month and currency, sorted: first "past due" (a close
    date before ``today``), then the months from this one on, then deals without a date.

    Each row: ``{bucket, month, currency, count, amount, weighted}``; ``bucket`` is "past_due",
    "no_date" or the month as "YYYY-MM" (``month`` is its first day, else None)."""
    today = today or timezone.localdate()
    open_deals = _deals(pipeline).open()
    months = (
        open_deals.filter(expected_close__gte=today)
        .annotate(month=TruncMonth("expected_close"))
        .values("month", "currency")
        .annotate(**_sums())
        .order_by("month", "currency")
    )
    past = (
        open_deals.filter(expected_close__lt=today)
        .values("currency")
        .annotate(**_sums())
        .order_by("currency")
    )
    undated = open_deals.filter(expected_close__isnull=True).values("currency").annotate(**_sums())
    rows = [_bucket_row(PAST_DUE, None, row) for row in past]
    rows += [_bucket_row(_month_key(row["month"]), _as_date(row["month"]), row) for row in months]
    rows += [_bucket_row(NO_DATE, None, row) for row in undated.order_by("currency")]
    return rows


def _sums() -> dict[str, Any]:
    # Not named "amount": an annotation of that name would hide the field from ``weighted_amount``.
    return {"count": Count("id"), "total": Sum("amount"), "weighted": Sum(weighted_amount())}


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _month_key(value: date | datetime) -> str:
    return f"{value.year:04d}-{value.month:02d}"


def _bucket_row(bucket: str, month: date | None, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "bucket": bucket,
        "month": month,
        "currency": row["currency"],
        "count": row["count"],
        "amount": _money(row["total"]),
        "weighted": _money(row["weighted"]),
    }


def pipeline_totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of ``weighted_pipeline`` summed per currency (over rows already fetched)."""
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        total = totals.setdefault(
            row["currency"],
            {"currency": row["currency"], "count": 0, "amount": CENT * 0, "weighted": CENT * 0},
        )
        total["count"] += row["count"]
        total["amount"] += row["amount"]
        total["weighted"] += row["weighted"]
    return sorted(totals.values(), key=lambda total: total["currency"])


# --- win rate and cycle ---------------------------------------------------------------------------


def _cycle() -> ExpressionWrapper:
    return ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())


WON = Q(stage__kind=StageKind.WON)
LOST = Q(stage__kind=StageKind.LOST)


def _rate(won: int, lost: int) -> float | None:
    return won / (won + lost) if won + lost else None


def _closed(period: Period, pipeline: Pipeline | None) -> QuerySet:
    return _deals(pipeline).filter(period.q("closed_at"), closed_at__isnull=False)


def win_loss(period: Period, pipeline: Pipeline | None = None) -> dict[str, Any]:
    """Win rate and average sales cycle of the deals closed in ``period``, overall and by source.

    ``{"overall": row, "by_source": [row, …]}``, each row ``{source, won, lost, win_rate,
    cycle_days}`` (``win_rate`` and ``cycle_days`` None when there is nothing to divide by);
    sources by number of closed deals, most first. Won amounts per currency are in ``won_amounts``."""
    closed = _closed(period, pipeline)
    sums = {
        "won": Count("id", filter=WON),
        "lost": Count("id", filter=LOST),
        "cycle": Avg(_cycle(), filter=WON),
    }
    overall = closed.aggregate(**sums)
    by_source = closed.values("source").annotate(**sums).order_by("source")
    won_amounts = (
        closed.filter(WON)
        .values("currency")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by("currency")
    )
    return {
        "overall": _win_row("", overall),
        "by_source": sorted((_win_row(row["source"], row) for row in by_source), key=_by_closed),
        "won_amounts": [{**row, "amount": _money(row["amount"])} for row in won_amounts],
    }


def _by_closed(row: dict[str, Any]) -> tuple:
    return (-(row["won"] + row["lost"]), row["source"])


def _win_row(source: str, row: dict[str, Any]) -> dict[str, Any]:
    won, lost = row["won"] or 0, row["lost"] or 0
    return {
        "source": source,
        "won": won,
        "lost": lost,
        "win_rate": _rate(won, lost),
        "cycle_days": duration_days(row["cycle"]),
    }


# --- conversion by stage --------------------------------------------------------------------------


def stage_conversion(pipeline: Pipeline, period: Period | None = None) -> list[dict[str, Any]]:
    """For each open stage of ``pipeline`` in board order: how many deals entered it (from the
    stage history), how many of those are still open, won or lost, and the win rate of the
    decided ones (won / (won + lost)). ``period`` limits it to deals created in that period."""
    changes = DealStageChange.objects.filter(to_stage__pipeline=pipeline, to_stage__kind=StageKind.OPEN)
    if period is not None:
        changes = changes.filter(period.q("deal__created_at"))
    counts = {
        row["to_stage"]: row
        for row in changes.values("to_stage")
        .annotate(
            reached=Count("deal", distinct=True),
            still_open=Count("deal", distinct=True, filter=Q(deal__closed_at__isnull=True)),
            won=Count("deal", distinct=True, filter=Q(deal__stage__kind=StageKind.WON)),
            lost=Count("deal", distinct=True, filter=Q(deal__stage__kind=StageKind.LOST)),
        )
        .order_by()
    }
    rows = []
    for stage in pipeline.stages.filter(kind=StageKind.OPEN).order_by("position", "id"):
        row = counts.get(stage.pk, {"reached": 0, "still_open": 0, "won": 0, "lost": 0})
        rows.append(
            {
                "stage": stage,
                "reached": row["reached"],
                "still_open": row["still_open"],
                "won": row["won"],
                "lost": row["lost"],
                "win_rate": _rate(row["won"], row["lost"]),
            }
        )
    return rows


# --- lost reasons ---------------------------------------------------------------------------------


def lost_reasons(period: Period, pipeline: Pipeline | None = None) -> list[dict[str, Any]]:
    """Why deals closed in ``period`` were lost: ``{reason, label, currency, count, amount}`` per
    reason and currency, the most frequent reason first."""
    rows = (
        _closed(period, pipeline)
        .filter(LOST)
        .values("lost_reason", "currency")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by("lost_reason", "currency")
    )
    result = [
        {
            "reason": row["lost_reason"],
            "label": _reason_label(row["lost_reason"]),
            "currency": row["currency"],
            "count": row["count"],
            "amount": _money(row["amount"]),
        }
        for row in rows
    ]
    frequency: dict[str, int] = {}
    for row in result:
        frequency[row["reason"]] = frequency.get(row["reason"], 0) + row["count"]
    return sorted(result, key=lambda row: (-frequency[row["reason"]], row["reason"], row["currency"]))


def _reason_label(code: str) -> str:
    if code in LostReason.values:
        return str(LostReason(code).label)
    return str(_("Not given"))


def forecast(period: Period, pipeline: Pipeline | None = None, today: date | None = None) -> dict[str, Any]:
    """Everything the forecast page and ``GET /api/v1/sales/forecast`` show."""
    rows = weighted_pipeline(pipeline, today)
    # Stages differ between pipelines, so conversion is of one: the chosen, else the default.
    conversion_pipeline = (
        pipeline or Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    )
    return {
        "period": period,
        "weighted": rows,
        "totals": pipeline_totals(rows),
        "win_loss": win_loss(period, pipeline),
        "conversion": stage_conversion(conversion_pipeline, period) if conversion_pipeline else [],
        "conversion_pipeline": conversion_pipeline,
        "lost_reasons": lost_reasons(period, pipeline),
    }
