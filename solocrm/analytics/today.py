"""The analytics module's Today items, read from the stored scores (no model is fitted here):
customers due for a re-order by their own rhythm, and valuable customers slipping away."""

from __future__ import annotations

from django.db.models import F, FloatField, Value
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils.translation import gettext as _

from solocrm.lib.business import business_settings
from solocrm.lib.today import TodayContext, TodayItem, contact_actions, provider, value_points

from .models import CustomerScore

BASE_REORDER = 30
BASE_AT_RISK = 40
MIN_REPEAT_PURCHASES = 2  # a rhythm needs at least three purchase days
REORDER_WINDOW = 1.5  # due from one usual gap after the last order until half a gap later
MIN_CHURN_RISK = 0.5
MIN_P_ALIVE = 0.3  # a customer who has most likely left is "at risk", not "due to re-order"


def _days_since_refresh(ctx: TodayContext) -> float:
    computed = CustomerScore.objects.order_by().values_list("computed_at", flat=True).first()
    return 0.0 if computed is None else max(0.0, (ctx.now - computed).total_seconds() / 86400)


@provider("reorders")
def reorders_due(ctx: TodayContext):
    """Repeat buyers whose usual gap between purchases has passed since their last one.

    The usual gap is recency / repeat purchases (the mean time between purchase days, Fader,
    Hardie & Lee 2005's t_x / x); "now" is the stored days-since-last plus the days since the
    refresh, so the list moves every day between refreshes."""
    gap = Cast(F("recency_days"), FloatField()) / Cast(F("frequency"), FloatField())
    since = F("days_since_last") + Value(_days_since_refresh(ctx))
    scores = (
        CustomerScore.objects.filter(
            frequency__gte=MIN_REPEAT_PURCHASES, p_alive__gte=MIN_P_ALIVE, recency_days__gt=0
        )
        .annotate(gap=gap, since=since)
        .filter(since__gte=F("gap"), since__lte=F("gap") * REORDER_WINDOW)
        .select_related("contact")
        .order_by(F("clv").desc(nulls_last=True))[: ctx.take("reorder")]
    )
    for score in scores:
        # Not inside an f-string: makemessages cannot see a message there.
        suggest = _("suggest %(product)s") % {"product": score.next_product_name}
        product = f" · {suggest}" if score.next_product_name else ""
        yield TodayItem(
            key=f"reorder:{score.contact.uuid}",
            kind="reorder",
            title=str(score.contact),
            reason=_("Usually buys every %(gap)d days; last order %(since)d days ago")
            % {"gap": round(score.gap), "since": round(score.since)}
            + product,
            score=BASE_REORDER + value_points(score.expected_order_value or score.average_order_value),
            url=reverse("contacts:detail", args=[score.contact.uuid]),
            actions=contact_actions(score.contact),
        )


@provider("at_risk")
def valuable_customers_at_risk(ctx: TodayContext):
    """The customers with the most value at risk (CLV × churn risk) among likely churners."""
    scores = (
        CustomerScore.objects.filter(churn_risk__gte=MIN_CHURN_RISK, value_at_risk__gt=0)
        .select_related("contact")
        .order_by("-value_at_risk")[: ctx.take("at_risk")]
    )
    for score in scores:
        yield TodayItem(
            key=f"at_risk:{score.contact.uuid}",
            kind="at_risk",
            title=str(score.contact),
            reason=_("Churn risk %(risk)d%% · %(value)s %(currency)s at risk")
            % {
                "risk": round(100 * score.churn_risk),
                "value": f"{score.value_at_risk:,.0f}",
                "currency": business_settings().currency,
            },
            score=BASE_AT_RISK + value_points(score.value_at_risk),
            url=reverse("contacts:detail", args=[score.contact.uuid]),
            actions=contact_actions(score.contact),
        )
