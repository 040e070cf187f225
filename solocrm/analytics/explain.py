"""What each stored model says, in one plain sentence, how far to trust it, and its fit warnings.

``explain(kind, params, metrics, n_samples)`` reads the JSON a refresh stored (``FittedModel``;
layouts in docs/api.md) and returns an :class:`Explanation`: a sentence for the owner ("a typical
customer buys about 5 times a month while active; almost nobody leaves"), a trust
:class:`Badge` from the model's holdout check (good / fair / poor, with the figures behind it),
and the warnings of the fit (a BG/NBD at a boundary of its parameters, too little data…).

Pure functions of plain dicts: no database, no request. Only Django's translation machinery is
used, so every text is in the owner's language (English and Simplified Chinese catalogues). The
badge thresholds are documented in docs/analytics.md ("Models explained"); they are rules of
thumb from the sources cited there, not statistics of their own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

__all__ = ["BADGE_LEVELS", "MIN_DATA", "Badge", "Explanation", "explain"]

BADGE_LEVELS = ("good", "fair", "poor")
DAYS_PER_MONTH = 365.25 / 12

# BG/NBD holdout: |predicted − actual| / actual repeat purchases over the holdout days.
BGNBD_GOOD_ERROR, BGNBD_FAIR_ERROR = 0.15, 0.35
MIN_HOLDOUT_PURCHASES = 20  # fewer actual purchases than this and the error is noise
# Churn (holdout) and leads (the leads it learned from): area under the ROC curve.
AUC_GOOD, AUC_FAIR = 0.75, 0.65
# Recommendations: hit rate against offering the best sellers.
HIT_GOOD_LIFT, HIT_FAIR_LIFT = 1.2, 0.9
# Forecast: mean absolute percentage error of the backtest, in percent.
MAPE_GOOD, MAPE_FAIR = 15.0, 30.0
# Personas: mean silhouette (Kaufman & Rousseeuw: > 0.5 a reasonable structure, < 0.25 none).
SILHOUETTE_GOOD, SILHOUETTE_FAIR = 0.5, 0.25
# Below these data sizes a fit is flagged as resting on too little data.
MIN_DATA = {
    "bgnbd": 200,  # customers
    "gamma_gamma": 100,  # repeat buyers
    "churn": 200,  # holdout customers
    "personas": 100,  # customers
    "leads": 100,  # settled leads
    "forecast": 24,  # months of revenue
    "basket": 200,  # orders in the sample
}
FEW_REPEAT_BUYERS = 30


@dataclass(frozen=True)
class Badge:
    """How far to trust a model: ``level`` is good, fair or poor; ``label`` says it in words
    and ``detail`` gives the figures of the check behind it (shown on hover)."""

    level: str
    label: str
    detail: str


@dataclass
class Explanation:
    """What a model says (``sentence``), its trust badge (None: no holdout check applies, and
    ``unchecked`` says why) and the warnings of its fit."""

    sentence: str
    badge: Badge | None = None
    unchecked: str = ""
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        badge = self.badge
        return {
            "sentence": self.sentence,
            "badge": {"level": badge.level, "label": badge.label, "detail": badge.detail} if badge else None,
            "unchecked": self.unchecked,
            "warnings": list(self.warnings),
        }


def explain(kind: str, params: Any, metrics: Any, n_samples: int = 0, *, currency: str = "") -> Explanation:
    """The explanation of one stored model of ``kind`` (a ``ModelKind`` value). Missing or
    malformed figures never raise: the sentence then says less."""
    params = params if isinstance(params, dict) else {}
    metrics = metrics if isinstance(metrics, dict) else {}
    builder = BUILDERS.get(kind)
    if builder is None:
        return Explanation(sentence="")
    result = builder(params, metrics, _Money(currency))
    little = _too_little_data(kind, n_samples)
    if little:
        result.warnings.append(little)
    return result


# --- helpers ----------------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    """A finite number, or None (JSON may hold null, text or booleans where numbers belong)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _pct(value: float) -> str:
    return f"{100 * value:.0f} %" if value >= 0.01 or value == 0 else f"{100 * value:.1f} %"


class _Money:
    def __init__(self, currency: str) -> None:
        self.currency = currency

    def __call__(self, value: float) -> str:
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
        return f"{text} {self.currency}".strip()


def _too_little_data(kind: str, n_samples: int) -> str:
    minimum = MIN_DATA.get(kind)
    if minimum is None or not isinstance(n_samples, int) or n_samples >= minimum:
        return ""
    return _(
        "Too little data: fitted on %(n)d records (a stable fit wants %(min)d or more); "
        "read it as a rough guide."
    ) % {"n": n_samples, "min": minimum}


def _grade(value: float, good: float, fair: float, *, higher_is_better: bool = True) -> str:
    if higher_is_better:
        return "good" if value >= good else "fair" if value >= fair else "poor"
    return "good" if value <= good else "fair" if value <= fair else "poor"


def _badge(level: str, detail: str) -> Badge:
    labels = {"good": _("Trust: good"), "fair": _("Trust: fair"), "poor": _("Trust: poor")}
    return Badge(level=level, label=labels[level], detail=detail)


def _rate_phrase(per_day: float) -> str:
    """ "about 5 times a month", "about 3 times a year", "about once every 2 years"."""
    per_month, per_year = per_day * DAYS_PER_MONTH, per_day * 365.25
    if per_month >= 1.5:
        n = round(per_month)
        return ngettext("about %(n)d time a month", "about %(n)d times a month", n) % {"n": n}
    if per_year >= 1.5:
        n = round(per_year)
        return ngettext("about %(n)d time a year", "about %(n)d times a year", n) % {"n": n}
    if per_year >= 0.75:
        return _("about once a year")
    if per_year <= 0.01:
        return _("hardly ever")
    return _("about once every %(n)d years") % {"n": max(2, round(1 / per_year))}


# --- one builder per kind ---------------------------------------------------------------------


def _bgnbd(params: dict, metrics: dict, money: _Money) -> Explanation:
    r, alpha, a, b = (_num(params.get(k)) for k in ("r", "alpha", "a", "b"))
    boundary = metrics.get("boundary")
    if r is None or not alpha:
        return Explanation(sentence=_("The purchase model holds no usable parameters."))
    rate = _rate_phrase(r / alpha)
    dropout = a / (a + b) if a is not None and b and a + b > 0 else 0.0
    if boundary == "no_dropout" or dropout < 0.01:
        leaving = _("almost nobody leaves")
    else:
        leaving = _("after each purchase about %(p)s of them stop buying for good") % {"p": _pct(dropout)}
    sentence = _("While they are active, customers buy %(rate)s; %(leaving)s.") % {
        "rate": rate,
        "leaving": leaving,
    }
    result = Explanation(sentence=sentence, warnings=_bgnbd_warnings(boundary, metrics))
    result.badge, result.unchecked = _bgnbd_badge(metrics.get("holdout"))
    return result


def _bgnbd_warnings(boundary: Any, metrics: dict) -> list[str]:
    warnings = []
    if boundary == "no_dropout":
        warnings.append(
            _(
                "Boundary fit: the data show no sign of customers leaving, so the model assumes "
                "nobody does (every customer is counted as still active)."
            )
        )
    elif boundary == "common_dropout":
        warnings.append(
            _(
                "Boundary fit: the data cannot tell customers apart on how likely they are to "
                "leave, so every customer gets the same chance."
            )
        )
    repeat = _num(metrics.get("n_repeat"))
    if repeat is not None and repeat < FEW_REPEAT_BUYERS:
        warnings.append(
            _("Too little data: only %(n)d customers bought more than once.") % {"n": int(repeat)}
        )
    return warnings


def _bgnbd_badge(holdout: Any) -> tuple[Badge | None, str]:
    if not isinstance(holdout, dict):
        return None, _("Not checked: too little history before the holdout period.")
    actual, predicted = _num(holdout.get("actual")), _num(holdout.get("predicted"))
    days = int(_num(holdout.get("days")) or 0)
    if actual is None or predicted is None or actual < MIN_HOLDOUT_PURCHASES:
        return None, _("Not checked: too few purchases in the holdout period to compare.")
    error = abs(predicted - actual) / actual
    detail = _(
        "Fitted on the data up to %(days)d days ago, it predicted %(predicted).0f repeat "
        "purchases for those days; customers made %(actual)d (off by %(error)s)."
    ) % {"days": days, "predicted": predicted, "actual": int(actual), "error": _pct(error)}
    return _badge(_grade(error, BGNBD_GOOD_ERROR, BGNBD_FAIR_ERROR, higher_is_better=False), detail), ""


def _gamma_gamma(params: dict, metrics: dict, money: _Money) -> Explanation:
    p, q, v = (_num(params.get(k)) for k in ("p", "q", "v"))
    if p is None or q is None or v is None or q <= 1:
        return Explanation(sentence=_("The spend model holds no usable parameters."))
    mean = p * v / (q - 1)
    if q <= 3:
        spread = _("it differs a lot from one customer to another")
    elif q <= 10:
        spread = _("it differs moderately from one customer to another")
    else:
        spread = _("it is much the same for every customer")
    sentence = _("An average order is worth about %(value)s; %(spread)s.") % {
        "value": money(mean),
        "spread": spread,
    }
    return Explanation(sentence=sentence, unchecked=_("Not checked: spend has no holdout test here."))


def _clv(params: dict, metrics: dict, money: _Money) -> Explanation:
    total, months = _num(params.get("total_clv")), int(_num(params.get("months")) or 12)
    quantiles = params.get("quantiles") if isinstance(params.get("quantiles"), dict) else {}
    median, top = _num(quantiles.get("p50")), _num(quantiles.get("p99"))
    if total is None:
        return Explanation(sentence=_("No lifetime values were computed."))
    sentence = _("Over the next %(months)d months your customers are expected to bring %(total)s.") % {
        "months": months,
        "total": money(total),
    }
    if median is not None and top is not None:
        sentence += " " + _(
            "Half of them are worth less than %(median)s; the top 1 %% more than %(top)s."
        ) % {
            "median": money(median),
            "top": money(top),
        }
    result = Explanation(
        sentence=sentence, unchecked=_("Built on the purchase and spend models: see their badges.")
    )
    if params.get("method"):
        result.warnings.append(
            _("Rule of thumb, not a model: %(reason)s") % {"reason": str(params.get("reason") or "")}
        )
    return result


def _churn_model_name(code: str) -> str:
    names = {
        "p_alive": _("P(alive) from the BG/NBD model"),
        "recency": _("days since the last purchase"),
        "logistic": _("Logistic regression"),
        "gradient_boosting": _("Gradient boosting"),
    }
    return names.get(code, code)


def _churn(params: dict, metrics: dict, money: _Money) -> Explanation:
    from .lifecycle import AT_RISK_CHURN  # the lifecycle rules need pandas: only here

    chosen, horizon = str(params.get("chosen") or ""), int(_num(params.get("horizon_days")) or 90)
    at_risk, total = _num(metrics.get("at_risk_customers")), _num(metrics.get("holdout_customers"))
    sentence = _(
        "%(n)d customers have a churn risk of %(risk)s or more: they may well buy nothing in the next "
        "%(days)d days."
    ) % {"n": int(at_risk or 0), "risk": _pct(AT_RISK_CHURN), "days": horizon}
    result = Explanation(sentence=sentence)
    candidates = metrics.get("candidates") if isinstance(metrics.get("candidates"), dict) else {}
    scores = candidates.get(chosen) if isinstance(candidates.get(chosen), dict) else {}
    auc = _num(scores.get("auc"))
    if auc is None:
        result.unchecked = _("Not checked: the holdout gave no score.")
        return result
    detail = _(
        "Tested on %(n)d customers over the last %(days)d days: AUC %(auc).2f (0.5 is a coin toss, "
        "1 is perfect), precision %(precision)s, recall %(recall)s; model: %(model)s."
    ) % {
        "n": int(total or 0),
        "days": horizon,
        "auc": auc,
        "precision": _pct(_num(scores.get("precision")) or 0.0),
        "recall": _pct(_num(scores.get("recall")) or 0.0),
        "model": _churn_model_name(chosen),
    }
    result.badge = _badge(_grade(auc, AUC_GOOD, AUC_FAIR), detail)
    return result


def _rfm(params: dict, metrics: dict, money: _Money) -> Explanation:
    from .segments_text import segment_label  # the segment names are translated choices

    rows = [row for row in params.get("segments") or [] if isinstance(row, dict)]
    sizes = [(int(_num(row.get("customers")) or 0), str(row.get("code") or "")) for row in rows]
    total = sum(n for n, _code in sizes)
    if not total:
        return Explanation(sentence=_("No customer has been segmented yet."), unchecked=_no_check())
    biggest, code = max(sizes)
    sentence = _("Your largest group is “%(segment)s”: %(n)d of %(total)d customers (%(share)s).") % {
        "segment": segment_label(code),
        "n": biggest,
        "total": total,
        "share": _pct(biggest / total),
    }
    return Explanation(sentence=sentence, unchecked=_no_check())


def _channel(code: Any) -> str:
    """The translated name of an acquisition channel code ("unknown" and strangers as they are)."""
    from solocrm.contacts.choices import Channel

    try:
        return str(Channel(str(code)).label)
    except ValueError:
        return _("Unknown") if code in ("", "unknown", None) else str(code)


def _no_check() -> str:
    return _("Nothing to check: a count of what happened, not a prediction.")


def _personas(params: dict, metrics: dict, money: _Money) -> Explanation:
    personas = [row for row in params.get("personas") or [] if isinstance(row, dict)]
    if not personas:
        return Explanation(sentence=_("No personas were found."))
    largest = max(personas, key=lambda row: _num(row.get("customers")) or 0)
    sentence = _("%(k)d groups of similar customers; the largest is “%(name)s” (%(share)s of customers).") % {
        "k": len(personas),
        "name": str(largest.get("name") or ""),
        "share": _pct(_num(largest.get("share")) or 0.0),
    }
    result = Explanation(sentence=sentence)
    silhouette = _num(metrics.get("silhouette"))
    if silhouette is None:
        result.unchecked = _("Not checked: no silhouette was measured.")
        return result
    detail = _(
        "Silhouette %(s).2f: how much closer customers are to their own group than to the next "
        "(above 0.5 clear groups, below 0.25 hardly any)."
    ) % {"s": silhouette}
    result.badge = _badge(_grade(silhouette, SILHOUETTE_GOOD, SILHOUETTE_FAIR), detail)
    return result


def _cohorts(params: dict, metrics: dict, money: _Money) -> Explanation:
    repeat, gap = _num(metrics.get("repeat_rate")), _num(metrics.get("median_days_between_orders"))
    if repeat is None:
        return Explanation(sentence=_("No cohorts yet."), unchecked=_no_check())
    sentence = _("%(share)s of customers have bought more than once.") % {"share": _pct(repeat)}
    if gap is not None:
        sentence += " " + _("Between two orders, a typical repeat buyer waits about %(days)d days.") % {
            "days": round(gap)
        }
    return Explanation(sentence=sentence, unchecked=_no_check())


def _satisfaction(params: dict, metrics: dict, money: _Money) -> Explanation:
    score, responses = _num(metrics.get("nps")), int(_num(metrics.get("responses")) or 0)
    if score is None:
        sentence = _("%(n)d survey answers in the last 12 months; none of them an NPS answer.") % {
            "n": responses
        }
    else:
        sentence = _("Net Promoter Score %(nps)+.0f over the last 12 months (%(n)d answers).") % {
            "nps": score,
            "n": responses,
        }
    return Explanation(sentence=sentence, unchecked=_no_check())


def _basket(params: dict, metrics: dict, money: _Money) -> Explanation:
    rules = params.get("rules") if isinstance(params.get("rules"), list) else []
    sentence = ngettext(
        "%(n)d pair of products is bought together more often than by chance.",
        "%(n)d pairs of products are bought together more often than by chance.",
        len(rules),
    ) % {"n": len(rules)}
    result = Explanation(sentence=sentence)
    hit, base = _num(metrics.get("hit_rate")), _num(metrics.get("baseline_hit_rate"))
    customers = int(_num(metrics.get("holdout_customers")) or 0)
    if hit is None or base is None or not customers:
        result.unchecked = _("Not checked: no customer bought both before and during the holdout period.")
        return result
    lift = hit / base if base > 0 else (math.inf if hit > 0 else 0.0)
    detail = _(
        "Of %(n)d customers, %(hit)s bought one of the 5 products suggested to them from their earlier "
        "orders; suggesting the best sellers would have hit %(base)s."
    ) % {"n": customers, "hit": _pct(hit), "base": _pct(base)}
    result.badge = _badge(_grade(lift, HIT_GOOD_LIFT, HIT_FAIR_LIFT), detail)
    return result


def _leads(params: dict, metrics: dict, money: _Money) -> Explanation:
    prior = _num(params.get("prior"))
    sources = [row for row in params.get("by_source") or [] if isinstance(row, dict)]
    if prior is None:
        return Explanation(sentence=_("No leads were scored."))
    sentence = _("About %(share)s of new contacts become customers.") % {"share": _pct(prior)}
    rated = [row for row in sources if _num(row.get("rate")) is not None]
    if rated:
        best = max(rated, key=lambda row: _num(row.get("rate")) or 0.0)
        sentence += " " + _("The best source is “%(source)s” (%(share)s).") % {
            "source": _channel(best.get("source")),
            "share": _pct(_num(best.get("rate")) or 0.0),
        }
    result = Explanation(sentence=sentence)
    auc = _num(metrics.get("auc"))
    if params.get("mode") == "prior" or auc is None:
        result.unchecked = _(
            "Not checked: too few conversions to learn from; each lead gets its source's rate."
        )
        return result
    detail = _("AUC %(auc).2f on the %(n)d past leads it learned from (not a holdout, so at best fair).") % {
        "auc": auc,
        "n": int(_num(metrics.get("leads")) or 0),
    }
    level = _grade(auc, AUC_GOOD, AUC_FAIR)
    result.badge = _badge("fair" if level == "good" else level, detail)
    return result


def _forecast(params: dict, metrics: dict, money: _Money) -> Explanation:
    rows = [row for row in params.get("forecast") or [] if isinstance(row, dict)]
    total = sum(_num(row.get("mean")) or 0.0 for row in rows)
    if not rows:
        return Explanation(sentence=_("No forecast was made."))
    sentence = ngettext(
        "Revenue of the next %(n)d month is forecast at about %(total)s.",
        "Revenue of the next %(n)d months is forecast at about %(total)s.",
        len(rows),
    ) % {"n": len(rows), "total": money(total)}
    result = Explanation(sentence=sentence)
    mape, naive = _num(metrics.get("mape")), _num(metrics.get("naive_mape"))
    months = int(_num(metrics.get("backtest_months")) or 0)
    if mape is None:
        result.unchecked = _("Not checked: fewer than 12 months of history to backtest on.")
        return result
    detail = _(
        "Backtested on %(months)d past months: off by %(mape).0f %% on average (repeating last "
        "year's months: %(naive)s)."
    ) % {"months": months, "mape": mape, "naive": f"{naive:.0f} %" if naive is not None else "—"}
    level = _grade(mape, MAPE_GOOD, MAPE_FAIR, higher_is_better=False)
    if naive is not None and mape > naive:
        level = "poor" if level == "fair" else "fair" if level == "good" else level
    result.badge = _badge(level, detail)
    return result


def _marketing(params: dict, metrics: dict, money: _Money) -> Explanation:
    channels = [row for row in params.get("channels") or [] if isinstance(row, dict)]
    conversion = _num(metrics.get("conversion_rate"))
    if not channels:
        return Explanation(sentence=_("No acquisition channels yet."), unchecked=_no_check())
    best = max(channels, key=lambda row: _num(row.get("revenue")) or 0.0)
    sentence = _("“%(channel)s” brings the most revenue (%(revenue)s).") % {
        "channel": _channel(best.get("channel")),
        "revenue": money(_num(best.get("revenue")) or 0.0),
    }
    if conversion is not None:
        sentence += " " + _("%(share)s of all contacts have become customers.") % {"share": _pct(conversion)}
    return Explanation(sentence=sentence, unchecked=_no_check())


BUILDERS: dict[str, Callable[[dict, dict, _Money], Explanation]] = {
    "bgnbd": _bgnbd,
    "gamma_gamma": _gamma_gamma,
    "clv": _clv,
    "churn": _churn,
    "rfm": _rfm,
    "personas": _personas,
    "cohorts": _cohorts,
    "satisfaction": _satisfaction,
    "basket": _basket,
    "leads": _leads,
    "forecast": _forecast,
    "marketing": _marketing,
}
