"""CSAT of the support desk by customer segment: the help desk's answers (support's CsatAnswer,
one per solved ticket) grouped by the RFM segment the last refresh gave each customer
(CustomerScore.rfm_segment; "none" for contacts not scored as customers).

Django-aware, one grouped query (a LEFT JOIN of the answers to the scores), read live on the
satisfaction page and in the API: the answers are few and the segments are already stored.
Support sits below analytics in the layers, so this lives here rather than in support."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Avg, CharField, Count, F, Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext as _

from solocrm.lib.business import business_settings
from solocrm.support.models import CsatAnswer

from .segments_text import SEGMENT_ORDER, segment_label

NO_SEGMENT = "none"  # as services.NO_PURCHASE: answers of contacts who have not bought
SATISFIED = 4  # CSAT counts answers of 4 and 5 as satisfied
DEFAULT_DAYS = 365


@dataclass(frozen=True)
class SegmentCsat:
    segment: str  # the RfmSegment code, or "none"
    label: str
    responses: int
    average: float  # mean score, 1–5
    satisfied: float  # share (0–1) of answers of 4 or 5: the CSAT figure of docs/analytics.md


def since_for(days: int = DEFAULT_DAYS, *, now: datetime | None = None) -> datetime:
    """The start of the period: midnight ``days`` days ago in the business's time zone."""
    zone = business_settings().zone
    today = timezone.localtime(now or timezone.now(), zone).date()
    return datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), tzinfo=zone)


def _label(code: str) -> str:
    if code == NO_SEGMENT:
        return _("Not a customer yet")
    return segment_label(code) or code


def csat_by_segment(since: datetime | date | None = None) -> list[SegmentCsat]:
    """CSAT answers given since ``since`` (default: the last 365 days) per RFM segment, best
    segments first and non-customers last."""
    if since is None:
        since = since_for()
    scored = NullIf(F("contact__score__rfm_segment"), Value(""))
    segment = Coalesce(scored, Value(NO_SEGMENT), output_field=CharField())
    rows = (
        CsatAnswer.objects.filter(answered_at__gte=since)
        .annotate(segment=segment)
        .values("segment")
        .annotate(
            responses=Count("pk"),
            average=Avg("score"),
            satisfied=Count("pk", filter=Q(score__gte=SATISFIED)),
        )
        .order_by()
    )
    order = {str(code): place for place, code in enumerate(SEGMENT_ORDER)}
    result = [
        SegmentCsat(
            segment=row["segment"],
            label=_label(row["segment"]),
            responses=row["responses"],
            average=float(row["average"]),
            satisfied=row["satisfied"] / row["responses"],
        )
        for row in rows
    ]
    return sorted(result, key=lambda item: order.get(item.segment, len(order)))
