"""Template helpers of the analytics pages and of the scores box on the contact page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.core.exceptions import ObjectDoesNotExist
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from solocrm.analytics.choices import ModelKind
from solocrm.analytics.models import FittedModel
from solocrm.analytics.segments_text import segment_label as _segment_label
from solocrm.analytics.segments_text import segment_text
from solocrm.lib.business import business_settings
from solocrm.lib.normalize import finite_number

register = template.Library()

DASH = "—"


_number = finite_number


@register.filter
def money(value: Any, digits: int = 0) -> str:
    """12345.6 -> '12,346 USD' (grouped in the current language, in SOLOCRM_CURRENCY)."""
    number = _number(value)
    if number is None:
        return DASH
    amount = Decimal(str(value)) if isinstance(value, Decimal | int) else number
    return f"{floatformat(amount, f'{int(digits)}g')} {business_settings().currency}"


@register.filter
def percent(value: Any, digits: int = 0) -> str:
    """0.423 -> '42%'."""
    number = _number(value)
    if number is None:
        return DASH
    return _("%(value)s%%") % {"value": floatformat(number * 100, f"{int(digits)}g")}


@register.filter
def percent_points(value: Any, digits: int = 0) -> str:
    """A value already in percent: 25.67 -> '25.7%' (MAPE, CSAT)."""
    number = _number(value)
    if number is None:
        return DASH
    return _("%(value)s%%") % {"value": floatformat(number, f"{int(digits)}g")}


@register.filter
def number(value: Any, digits: int = 1) -> str:
    """A grouped number with ``digits`` decimals, or a dash for a missing one."""
    parsed = _number(value)
    return DASH if parsed is None else floatformat(parsed, f"{int(digits)}g")


@register.filter
def segment_label(code: str) -> str:
    return _segment_label(code) or code


@register.filter
def kind_label(kind: str) -> str:
    try:
        return str(ModelKind(kind).label)
    except ValueError:
        return kind


def spend_rank_text(m_score: int | None) -> str:
    """What the monetary quintile means: 5 -> 'spends more than 80% of customers'."""
    if not m_score:
        return ""
    share = (min(int(m_score), 5) - 1) * 20
    if share <= 0:
        return _("spends less than most customers")
    return _("spends more than %(share)s%% of customers") % {"share": share}


def explanation(score) -> str:
    """The score in plain words: 'Bought 7 times, last 12 days ago; spends more than 80% of customers'."""
    parts = []
    if score.orders:
        parts.append(
            ngettext("Bought once", "Bought %(count)s times", score.orders) % {"count": score.orders}
        )
    else:
        parts.append(_("Has not bought yet"))
    days = _number(score.days_since_last)
    if score.orders and days is not None:
        days = round(days)
        if days <= 0:
            parts[-1] = _("%(bought)s, last today") % {"bought": parts[-1]}
        else:
            parts[-1] = ngettext(
                "%(bought)s, last %(days)s day ago", "%(bought)s, last %(days)s days ago", days
            ) % {"bought": parts[-1], "days": days}
    spend = spend_rank_text(score.m_score)
    if spend:
        parts.append(spend)
    return "; ".join(parts)


def persona_name(persona_id: int | None) -> str:
    """The name of persona ``persona_id`` in the latest personas report (one query)."""
    if persona_id is None:
        return ""
    report = FittedModel.objects.filter(kind=ModelKind.PERSONAS).order_by("-created_at", "-id").only("params")
    report = report.first()
    personas = (report.params or {}).get("personas") if report and isinstance(report.params, dict) else None
    for persona in personas or []:
        if isinstance(persona, dict) and persona.get("id") == persona_id:
            return str(persona.get("name") or "")
    return ""


@register.simple_tag
def contact_score(contact) -> dict[str, Any] | None:
    """Everything the scores box of a contact shows, or None before the first refresh.

    At most two queries: the score row (unless the view selected it) and the personas report."""
    try:
        score = contact.score
    except ObjectDoesNotExist:
        return None
    return {
        "score": score,
        "segment": segment_text(score.rfm_segment) if score.rfm_segment else None,
        "persona": persona_name(score.persona),
        "explanation": explanation(score),
        "currency": business_settings().currency,
    }


# The sub-navigation of the section: (URL name, label, URL names that count as "here").
TABS = [
    ("overview", _lazy("Overview"), ()),
    ("segments", _lazy("Segments"), ("segment_detail",)),
    ("clv", _lazy("Lifetime value"), ()),
    ("churn", _lazy("Churn risk"), ()),
    ("personas", _lazy("Personas"), ("persona_detail",)),
    ("cohorts", _lazy("Cohorts"), ()),
    ("satisfaction", _lazy("Satisfaction"), ()),
    ("recommendations", _lazy("Recommendations"), ()),
    ("forecast", _lazy("Forecast"), ()),
    ("marketing", _lazy("Marketing"), ()),
    ("models", _lazy("Models"), ()),
]


@register.simple_tag(takes_context=True)
def analytics_tabs(context) -> list[dict[str, Any]]:
    match = getattr(context.get("request"), "resolver_match", None)
    here = match.url_name if match else ""
    return [
        {"url": reverse(f"analytics:{name}"), "label": label, "current": here == name or here in also}
        for name, label, also in TABS
    ]


# The names of the metrics the models table shows, in words (a key not listed shows as it is).
METRIC_LABELS = {
    "log_likelihood": _lazy("Log-likelihood"),
    "n_customers": _lazy("Customers"),
    "customers": _lazy("Customers"),
    "n_repeat": _lazy("Repeat customers"),
    "holdout_customers": _lazy("Held-out customers"),
    "at_risk_customers": _lazy("Customers at risk"),
    "value_at_risk_total": _lazy("Value at risk"),
    "silhouette": _lazy("Silhouette"),
    "hit_rate": _lazy("Hit rate"),
    "baseline_hit_rate": _lazy("Baseline hit rate"),
    "leads_scored": _lazy("Leads scored"),
    "leads": _lazy("Leads"),
    "converted": _lazy("Converted"),
    "repeat_rate": _lazy("Repeat rate"),
    "median_days_between_orders": _lazy("Median days between orders"),
    "nps": _lazy("NPS"),
    "csat": _lazy("CSAT"),
    "responses": _lazy("Responses"),
    "mape": _lazy("MAPE"),
    "naive_mape": _lazy("Naive MAPE"),
    "backtest_months": _lazy("Backtest months"),
    "aicc": _lazy("AICc"),
    "aov": _lazy("Average order value"),
    "conversion_rate": _lazy("Conversion rate"),
}


@register.filter
def metric_label(name: str) -> str:
    """'hit_rate' -> 'Hit rate' in the current language."""
    return str(METRIC_LABELS.get(name, name))


@register.filter
def key_metric_value(value: Any) -> str:
    """A metric for the models table: 0.8123 -> '0.812', 12345 -> '12,345'."""
    parsed = _number(value)
    if parsed is None:
        return DASH
    if parsed.is_integer() and abs(parsed) >= 1:
        return floatformat(parsed, "0g")
    return floatformat(parsed, "3g") if abs(parsed) < 1000 else floatformat(parsed, "1g")
