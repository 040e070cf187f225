"""The Analytics section: pages drawn from the stored results of the last analytics refresh.

No request ever fits a model. Every page reads the newest stored report of its kind
(``FittedModel``, layouts in docs/api.md) and, for lists of customers, one indexed
``CustomerScore`` query with a LIMIT, so a page costs the same with 100 or 1,000,000 customers.
Charts are drawn by ``analytics.js`` from data embedded with ``json_script``; every chart has the
same numbers as a table (pages work without JavaScript) and a CSV export.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import CharField, Func, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from solocrm.contacts.choices import Channel
from solocrm.lib.access import role_required
from solocrm.lib.business import business_settings
from solocrm.lib.http import wants_partial
from solocrm.lib.normalize import finite_number
from solocrm.lib.roles import Action

from . import asof, support_csat
from .choices import ModelKind, RfmSegment
from .explain import Explanation, explain
from .models import CustomerScore, FittedModel
from .segments_text import AT_RISK_SEGMENTS, GRID_ROWS, SEGMENT_ORDER, segment_label, segment_text

logger = logging.getLogger(__name__)

PER_PAGE = 25
TOP_CLV = 50
TOP_AT_RISK = 100
TOP_NEXT_PRODUCT = 50
MODELS_PER_PAGE = 50

# --- stored reports -----------------------------------------------------------------------------


def latest_reports(*kinds: str) -> dict[str, FittedModel]:
    """The newest stored report of each kind, in one query (each subquery walks the kind index)."""
    if not kinds:
        return {}
    condition = Q()
    for kind in kinds:
        newest = FittedModel.objects.filter(kind=kind).order_by("-created_at", "-id").values("pk")[:1]
        condition |= Q(pk=Subquery(newest))
    return {row.kind: row for row in FittedModel.objects.filter(condition)}


def params_of(report: FittedModel | None) -> dict[str, Any]:
    return report.params if report is not None and isinstance(report.params, dict) else {}


def metrics_of(report: FittedModel | None) -> dict[str, Any]:
    return report.metrics if report is not None and isinstance(report.metrics, dict) else {}


def dicts(value: Any) -> list[dict[str, Any]]:
    """The dict items of a report list (anything else is skipped rather than crashing a page)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


finite = finite_number


def channel_label(code: str) -> str:
    try:
        return str(Channel(code).label)
    except ValueError:
        return str(code) if code else _("Unknown")


# --- charts ---------------------------------------------------------------------------------------


def chart(kind: str, labels: list, datasets: list[dict], fmt: str = "number", **options: Any) -> dict:
    """What analytics.js needs to draw a chart; embedded in the page with ``json_script``."""
    return {
        "type": kind,
        "labels": [str(label) for label in labels],
        "datasets": datasets,
        "format": fmt,
        "currency": business_settings().currency,
        **options,
    }


def series(label: str, data: Iterable[Any], **options: Any) -> dict:
    return {"label": str(label), "data": [finite(value) for value in data], **options}


# --- CSV ------------------------------------------------------------------------------------------

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """``value`` for a CSV cell: text that a spreadsheet would run as a formula gets a quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(name: str, columns: list[tuple[str, Any]], rows: Iterable[dict]) -> StreamingHttpResponse:
    """A streamed CSV download: a header of column labels, then one line per row."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # so that spreadsheet programs read UTF-8
        yield writer.writerow([csv_safe(str(label)) for _key, label in columns])
        for row in rows:
            yield writer.writerow([csv_safe(row.get(key)) for key, _label in columns])

    filename = f"solocrm-{name}-{timezone.localdate():%Y-%m-%d}.csv"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- customer lists -------------------------------------------------------------------------------

SCORE_COLUMNS = [
    ("contact_uuid", gettext_lazy("Contact id")),
    ("name", gettext_lazy("Customer")),
    ("email", gettext_lazy("E-mail")),
    ("segment", gettext_lazy("RFM segment")),
    ("orders", gettext_lazy("Orders")),
    ("days_since_last", gettext_lazy("Days since last purchase")),
    ("total_spend", gettext_lazy("Total spend")),
    ("clv", gettext_lazy("CLV (12 months)")),
    ("p_alive", gettext_lazy("P(alive)")),
    ("churn_risk", gettext_lazy("Churn risk")),
    ("value_at_risk", gettext_lazy("Value at risk")),
    ("next_product", gettext_lazy("Next product to offer")),
]


def scores() -> QuerySet:
    return CustomerScore.objects.select_related("contact")


def score_row(score: CustomerScore) -> dict[str, Any]:
    """One customer as a CSV row (the pages render the CustomerScore objects themselves)."""
    return {
        "contact_uuid": str(score.contact.uuid),
        "name": str(score.contact),
        "email": score.contact.email,
        "segment": segment_label(score.rfm_segment),
        "orders": score.orders,
        "days_since_last": None if score.days_since_last is None else round(score.days_since_last),
        "total_spend": score.total_spend,
        "clv": score.clv,
        "p_alive": score.p_alive,
        "churn_risk": score.churn_risk,
        "value_at_risk": score.value_at_risk,
        "next_product": score.next_product_name,
    }


def stream_scores(queryset: QuerySet) -> Iterator[dict]:
    return (score_row(score) for score in queryset.iterator(chunk_size=2000))


SORTS = {
    "clv": ("-clv",),
    "clv_asc": ("clv",),
    "value_at_risk": ("-value_at_risk",),
}


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, min(int(request.GET.get("page", 1)), 10**6))
    except ValueError:
        return 1


def sorted_scores(queryset: QuerySet, sort: str) -> QuerySet:
    """Order a customer list; rows without the sort value are left out (so that the database
    can walk the index instead of sorting every customer)."""
    ordering = SORTS.get(sort, SORTS["clv"])
    return queryset.filter(**{f"{ordering[0].lstrip('-')}__isnull": False}).order_by(*ordering)


def page_of(
    queryset: QuerySet, number: Any, known_count: int | None = None, per_page: int = PER_PAGE
) -> Page:
    """A page of ``queryset``; a count the report already knows saves a COUNT over a segment."""
    paginator = Paginator(queryset, per_page)
    if known_count is not None:
        paginator.count = known_count  # count is a cached_property: this replaces the COUNT query
    return paginator.get_page(number)


# --- the refresh (run by solocrm.analytics.services, written elsewhere) --------------------------

IDLE = {"state": "idle", "step": "", "done": 0, "total": 0, "error": None, "finished_at": None}


def refresh_state() -> dict[str, Any]:
    """The refresh's progress; idle when the service is not installed or cannot answer."""
    try:
        from solocrm.analytics.services import refresh_status  # lazy: the service is heavy
    except ImportError:
        return dict(IDLE)
    try:
        status = refresh_status() or {}
    except Exception:  # a broken status must not take the page down
        logger.exception("analytics refresh status failed")
        return dict(IDLE)
    state = {**IDLE, **status}
    total, done = state.get("total") or 0, state.get("done") or 0
    state["percent"] = min(100, round(100 * done / total)) if total else 0
    return state


@require_POST
@role_required(Action.EDIT)
def refresh(request: HttpRequest) -> HttpResponse:
    """Start the analytics refresh in the background; the page then polls its progress."""
    try:
        from solocrm.analytics.services import start_refresh

        start_refresh(request.user, as_of=asof.parse_as_of(request.POST.get("as_of")))
    except asof.AsOfError as error:
        messages.error(request, str(error))
    except ImportError:
        messages.error(request, _("The analytics engine is not installed."))
    except Exception as error:  # the service says why (e.g. a refresh is already running)
        logger.warning("analytics refresh could not start: %s", error)
        messages.error(request, _("The refresh could not start: %(reason)s") % {"reason": error})
    if wants_partial(request):
        response = refresh_status(request)
        if refresh_state()["state"] in ("done", "failed"):  # over before the first poll: show it
            response["HX-Refresh"] = "true"
        return response
    return redirect("analytics:overview")


@role_required(Action.VIEW)
def refresh_status(request: HttpRequest) -> HttpResponse:
    """The progress box, polled by htmx while a refresh runs; reloads the page when it ends."""
    state = refresh_state()
    response = render(request, "analytics/_refresh_status.html", {"refresh": state})
    # Polling only happens while a refresh runs: seeing it finished, show the new results.
    if wants_partial(request) and request.GET.get("poll") and state["state"] in ("done", "failed"):
        response["HX-Refresh"] = "true"
    return response


# --- overview -------------------------------------------------------------------------------------


@role_required(Action.VIEW)
def overview(request: HttpRequest) -> HttpResponse:
    reports = latest_reports(
        ModelKind.RFM, ModelKind.CLV, ModelKind.SATISFACTION, ModelKind.FORECAST, ModelKind.CHURN
    )
    rfm, clv, satisfaction = reports.get("rfm"), reports.get("clv"), reports.get("satisfaction")
    churn = metrics_of(reports.get("churn"))
    segments = {row.get("code"): row for row in dicts(params_of(rfm).get("segments"))}
    at_risk = [segments.get(code, {}) for code in AT_RISK_SEGMENTS]
    refreshed = max(reports.values(), key=lambda r: r.created_at) if reports else None
    customers = metrics_of(rfm).get("customers") or metrics_of(clv).get("customers")
    context = {
        "reports": reports,
        "refreshed": refreshed,
        "customers": customers if customers is not None else (refreshed.n_samples if refreshed else None),
        "total_clv": params_of(clv).get("total_clv"),
        # the churn model's count (risk >= 60 %) when there is one, else the slipping RFM segments
        "at_risk_by_churn": "at_risk_customers" in churn,
        "at_risk_customers": churn.get("at_risk_customers")
        if "at_risk_customers" in churn
        else (sum(finite(row.get("customers")) or 0 for row in at_risk) if rfm else None),
        "at_risk_value": churn.get("value_at_risk_total")
        if "value_at_risk_total" in churn
        else (sum(finite(row.get("clv")) or 0 for row in at_risk) if rfm else None),
        "at_risk_segments": [segment_label(code) for code in AT_RISK_SEGMENTS],
        "nps": metrics_of(satisfaction).get("nps"),
        "slipping": list(sorted_scores(scores(), "value_at_risk")[:5]) if reports else [],
        "refresh": refresh_state(),
        "sections": SECTIONS,
        "scores_as_of": scores_as_of(refreshed),
        "today": timezone.localdate(),
    }
    return render(request, "analytics/overview.html", context)


def scores_as_of(report: FittedModel | None) -> date | None:
    """The day a report was computed as of, when a refresh was asked for an earlier day than
    the one it ran on (``--as-of``); None for an ordinary refresh."""
    if report is None or not isinstance(report.data_end, date):
        return None
    return report.data_end if report.data_end < timezone.localdate(report.created_at) else None


SECTIONS = [
    (
        "analytics:segments",
        gettext_lazy("Segments"),
        gettext_lazy("Who your customers are, by recency, frequency and spend."),
    ),
    (
        "analytics:clv",
        gettext_lazy("Lifetime value"),
        gettext_lazy("What each customer is expected to spend in the next 12 months."),
    ),
    (
        "analytics:churn",
        gettext_lazy("Churn risk"),
        gettext_lazy("Valuable customers who are slipping away, most value first."),
    ),
    (
        "analytics:personas",
        gettext_lazy("Personas"),
        gettext_lazy("Groups of similar customers, with what they buy."),
    ),
    (
        "analytics:cohorts",
        gettext_lazy("Cohorts"),
        gettext_lazy("How many customers come back, by month of their first purchase."),
    ),
    (
        "analytics:satisfaction",
        gettext_lazy("Satisfaction"),
        gettext_lazy("NPS, CSAT and CES over time and by segment."),
    ),
    (
        "analytics:recommendations",
        gettext_lazy("Recommendations"),
        gettext_lazy("Products bought together and the next product to offer."),
    ),
    (
        "analytics:forecast",
        gettext_lazy("Forecast"),
        gettext_lazy("Revenue of the coming months, with its uncertainty."),
    ),
    (
        "analytics:marketing",
        gettext_lazy("Marketing"),
        gettext_lazy("Customers, revenue and repeat rate by acquisition channel."),
    ),
    (
        "analytics:models",
        gettext_lazy("Models"),
        gettext_lazy("Every model fitted: when, on how much data, how good."),
    ),
]


# --- segments -------------------------------------------------------------------------------------

SEGMENT_COLUMNS = [
    ("code", gettext_lazy("Code")),
    ("name", gettext_lazy("Segment")),
    ("customers", gettext_lazy("Customers")),
    ("share", gettext_lazy("Share of customers")),
    ("revenue", gettext_lazy("Revenue")),
    ("clv", gettext_lazy("CLV (12 months)")),
    ("avg_recency_days", gettext_lazy("Average days since last purchase")),
    ("avg_orders", gettext_lazy("Average orders")),
    ("rule", gettext_lazy("Rule")),
    ("action", gettext_lazy("Suggested action")),
]


def segment_rows(report: FittedModel | None) -> list[dict[str, Any]]:
    """The 11 segments in display order, with the report's numbers (None when not computed)."""
    stored = {row.get("code"): row for row in dicts(params_of(report).get("segments"))}
    total = sum(finite(row.get("customers")) or 0 for row in stored.values())
    rows = []
    for code in SEGMENT_ORDER:
        row = stored.get(code, {})
        customers = finite(row.get("customers"))
        rows.append(
            {
                **segment_text(code),
                "customers": int(customers) if customers is not None else (0 if report else None),
                "share": (customers or 0) / total if total else None,
                "revenue": finite(row.get("revenue")),
                "clv": finite(row.get("clv")),
                "avg_recency_days": finite(row.get("avg_recency_days")),
                "avg_orders": finite(row.get("avg_orders")),
            }
        )
    return rows


def segment_grid(report: FittedModel | None) -> list[dict[str, Any]]:
    """The R × FM map: rows from R 5 down to 1, five cells each with the customers there."""
    counts: dict[tuple[int, int], float] = {}
    for cell in dicts(params_of(report).get("grid")):
        try:
            counts[(int(cell.get("r")), int(cell.get("fm")))] = finite(cell.get("customers")) or 0
        except (TypeError, ValueError):
            continue
    biggest = max(counts.values(), default=0)
    return [
        {
            "r": r,
            "cells": [
                {
                    "fm": fm,
                    "code": code,
                    "name": segment_label(code),
                    "customers": int(counts.get((r, fm), 0)),
                    "heat": heat_class(counts.get((r, fm)), biggest),
                }
                for fm, code in enumerate(GRID_ROWS[r], start=1)
            ],
        }
        for r in sorted(GRID_ROWS, reverse=True)
    ]


def heat_class(value: Any, biggest: float = 1.0) -> str:
    """One of ten colour classes heat-0 … heat-9 for ``value`` relative to ``biggest`` (CSS
    classes rather than inline styles, so a strict Content-Security-Policy holds)."""
    number = finite(value)
    if number is None or not biggest:
        return "heat-none"
    return f"heat-{max(0, min(9, int(10 * number / biggest)))}"


@role_required(Action.VIEW)
def segments(request: HttpRequest) -> HttpResponse:
    report = FittedModel.latest(ModelKind.RFM)
    rows = segment_rows(report)
    context = {
        "report": report,
        "rows": rows,
        "grid": segment_grid(report),
        "chart": chart(
            "bar",
            [row["name"] for row in rows],
            [
                series(_("Customers"), [row["customers"] for row in rows]),
                series(_("Revenue"), [row["revenue"] for row in rows], axis="y1", format="money"),
            ],
        ),
    }
    return render(request, "analytics/segments.html", context)


def _segment_or_404(code: str) -> str:
    if code not in RfmSegment.values:
        raise Http404
    return code


class WithoutIndex(Func):
    """A column that SQLite must not look up through its index: a unary ``+`` disqualifies the
    term ("Disqualifying WHERE clause terms using unary-+", sqlite.org/optoverview.html).

    A segment holds up to a third of all customers; through the segment index SQLite would sort
    all of them to show 25, whereas walking the CLV index stops after the first page. PostgreSQL
    weighs both plans with its statistics and gets the plain column."""

    template = "%(expressions)s"

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="+%(expressions)s", **extra)


# Walking the CLV index down to a page of a segment reads about (rows up to that page) / (the
# segment's share) rows; sorting the segment reads its own rows, each costing about three times
# more (measured on SQLite with 1M customers). Whichever reads less wins.
WALK_LIMIT = 20_000


def segment_customers(
    code: str, sort: str, share: float | None = None, rows_needed: int = 0, size: int = 0
) -> QuerySet:
    """A segment's customers in ``sort`` order, through whichever index reads fewer rows."""
    queryset = scores()
    indexed_sort = SORTS.get(sort, SORTS["clv"])[0].lstrip("-") in ("clv", "value_at_risk")
    if indexed_sort and (share is None or (share > 0 and rows_needed / share <= max(WALK_LIMIT, 3 * size))):
        queryset = queryset.alias(segment=WithoutIndex("rfm_segment", output_field=CharField()))
        return sorted_scores(queryset.filter(segment=code), sort)
    return sorted_scores(queryset.filter(rfm_segment=code), sort)


@role_required(Action.VIEW)
def segment_detail(request: HttpRequest, code: str) -> HttpResponse:
    code = _segment_or_404(code)
    report = FittedModel.latest(ModelKind.RFM)
    row = next(row for row in segment_rows(report) if row["code"] == code)
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "clv"
    if request.GET.get("format") == "csv":
        return csv_response(f"segment-{code}", SCORE_COLUMNS, stream_scores(segment_customers(code, sort)))
    known = row["customers"] if report else None
    number = _page_number(request)
    customers = segment_customers(code, sort, row["share"], number * PER_PAGE, known or 0)
    context = {"report": report, "segment": row, "sort": sort, "page": page_of(customers, number, known)}
    return render(request, "analytics/segment_detail.html", context)


# --- lifetime value -------------------------------------------------------------------------------

HISTOGRAM_COLUMNS = [
    ("lo", gettext_lazy("CLV from")),
    ("hi", gettext_lazy("CLV up to")),
    ("customers", gettext_lazy("Customers")),
]


def histogram_rows(report: FittedModel | None) -> list[dict[str, Any]]:
    return [
        {"lo": finite(b.get("lo")), "hi": finite(b.get("hi")), "customers": finite(b.get("customers"))}
        for b in dicts(params_of(report).get("histogram"))
    ]


def top_clv() -> QuerySet:
    return sorted_scores(scores(), "clv")[:TOP_CLV]


# What the CLV page says when a refresh had to value customers by rule of thumb (clv.heuristic_clv).
HEURISTIC_LABELS = {
    "spend_x_model_purchases": gettext_lazy(
        "a rule of thumb: each customer's average spend per purchase times the purchases the "
        "BG/NBD model expects (the spend model could not be used)"
    ),
    "spend_x_historical_rate": gettext_lazy(
        "a rule of thumb: each customer's average spend per purchase times their past purchase "
        "rate (the purchase model could not be fitted)"
    ),
}


@role_required(Action.VIEW)
def clv(request: HttpRequest) -> HttpResponse:
    report = FittedModel.latest(ModelKind.CLV)
    bins = histogram_rows(report)
    params = params_of(report)
    quantiles = params.get("quantiles") if isinstance(params.get("quantiles"), dict) else {}
    context = {
        "report": report,
        "params": params,
        "quantiles": quantiles,
        "bins": bins,
        "heuristic": HEURISTIC_LABELS.get(params.get("method", "")),
        "top": list(top_clv()) if report else [],
        "chart": chart(
            "bar",
            [f"{_money_label(b['lo'])}–{_money_label(b['hi'])}" for b in bins],
            [series(_("Customers"), [b["customers"] for b in bins])],
            categoryPercentage=1.0,
            barPercentage=0.95,
        ),
    }
    return render(request, "analytics/clv.html", context)


def _money_label(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:,.0f}"


# --- churn ----------------------------------------------------------------------------------------

CANDIDATE_COLUMNS = [
    ("name", gettext_lazy("Model")),
    ("chosen", gettext_lazy("Chosen")),
    ("auc", gettext_lazy("AUC")),
    ("precision", gettext_lazy("Precision")),
    ("recall", gettext_lazy("Recall")),
    ("f1", gettext_lazy("F1")),
]
CHURN_MODEL_NAMES = {
    "p_alive": gettext_lazy("P(alive) from the BG/NBD model"),
    "gradient_boosting": gettext_lazy("Gradient boosting"),
    "logistic": gettext_lazy("Logistic regression"),
}


def candidate_rows(report: FittedModel | None) -> list[dict[str, Any]]:
    chosen = params_of(report).get("chosen")
    candidates = metrics_of(report).get("candidates")
    if not isinstance(candidates, dict):
        return []
    return [
        {
            "code": code,
            "name": str(CHURN_MODEL_NAMES.get(code, code)),
            "chosen": code == chosen,
            **{key: finite(values.get(key)) for key in ("auc", "precision", "recall", "f1")},
        }
        for code, values in candidates.items()
        if isinstance(values, dict)
    ]


def at_risk_customers() -> QuerySet:
    return sorted_scores(scores(), "value_at_risk")[:TOP_AT_RISK]


@role_required(Action.VIEW)
def churn(request: HttpRequest) -> HttpResponse:
    report = FittedModel.latest(ModelKind.CHURN)
    has_scores = report is not None or CustomerScore.objects.exists()
    params = params_of(report)
    context = {
        "report": report,
        "params": params,
        "metrics": metrics_of(report),
        "chosen": str(CHURN_MODEL_NAMES.get(params.get("chosen"), params.get("chosen") or "")),
        "candidates": candidate_rows(report),
        "importance": dicts(params.get("importance"))[:10],
        "page": page_of(at_risk_customers(), request.GET.get("page")) if has_scores else None,
        "top": TOP_AT_RISK,
    }
    return render(request, "analytics/churn.html", context)


# --- personas -------------------------------------------------------------------------------------

PERSONA_COLUMNS = [
    ("id", gettext_lazy("Id")),
    ("name", gettext_lazy("Persona")),
    ("description", gettext_lazy("Description")),
    ("customers", gettext_lazy("Customers")),
    ("share", gettext_lazy("Share of customers")),
    ("avg_spend", gettext_lazy("Average spend")),
    ("avg_orders", gettext_lazy("Average orders")),
    ("avg_recency_days", gettext_lazy("Average days since last purchase")),
    ("avg_clv", gettext_lazy("Average CLV")),
    ("top_products", gettext_lazy("Top products")),
]


def persona_rows(report: FittedModel | None) -> list[dict[str, Any]]:
    rows = []
    for persona in dicts(params_of(report).get("personas")):
        if not isinstance(persona.get("id"), int) or isinstance(persona.get("id"), bool):
            continue
        products = persona.get("top_products") if isinstance(persona.get("top_products"), list) else []
        rows.append(
            {
                "id": persona["id"],
                "name": str(persona.get("name") or _("Persona %(id)s") % {"id": persona["id"]}),
                "description": str(persona.get("description") or ""),
                "customers": finite(persona.get("customers")),
                "share": finite(persona.get("share")),
                **{
                    key: finite(persona.get(key))
                    for key in ("avg_spend", "avg_orders", "avg_recency_days", "avg_clv")
                },
                "products": [str(p) for p in products[:10]],
                "top_products": ", ".join(str(p) for p in products[:10]),
            }
        )
    return rows


@role_required(Action.VIEW)
def personas(request: HttpRequest) -> HttpResponse:
    report = FittedModel.latest(ModelKind.PERSONAS)
    rows = persona_rows(report)
    metrics = metrics_of(report)
    by_k = metrics.get("silhouette_by_k") if isinstance(metrics.get("silhouette_by_k"), dict) else {}
    context = {
        "report": report,
        "params": params_of(report),
        "metrics": metrics,
        "personas": rows,
        "silhouette_by_k": sorted(
            by_k.items(), key=lambda item: int(item[0]) if str(item[0]).isdigit() else 0
        ),
        "chart": chart(
            "bar",
            [row["name"] for row in rows],
            [
                series(_("Customers"), [row["customers"] for row in rows]),
                series(_("Average CLV"), [row["avg_clv"] for row in rows], axis="y1", format="money"),
            ],
        ),
    }
    return render(request, "analytics/personas.html", context)


def persona_customers(persona_id: int, sort: str) -> QuerySet:
    return sorted_scores(scores().filter(persona=persona_id), sort)


@role_required(Action.VIEW)
def persona_detail(request: HttpRequest, persona_id: int) -> HttpResponse:
    report = FittedModel.latest(ModelKind.PERSONAS)
    persona = next((row for row in persona_rows(report) if row["id"] == persona_id), None)
    if persona is None:
        raise Http404
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "clv"
    if request.GET.get("format") == "csv":
        queryset = persona_customers(persona_id, sort)
        return csv_response(f"persona-{persona_id}", SCORE_COLUMNS, stream_scores(queryset))
    known = int(persona["customers"]) if persona["customers"] is not None else None
    context = {
        "report": report,
        "persona": persona,
        "sort": sort,
        "page": page_of(persona_customers(persona_id, sort), request.GET.get("page"), known),
    }
    return render(request, "analytics/persona_detail.html", context)


# --- cohorts --------------------------------------------------------------------------------------


def cohort_table(report: FittedModel | None, metric: str) -> dict[str, Any]:
    """The cohort matrix as rows of cells with a heat class each (retention: share of the cohort
    back in month j; revenue: relative to the biggest cell)."""
    params = params_of(report)
    cohorts = params.get("cohorts") if isinstance(params.get("cohorts"), list) else []
    sizes = params.get("sizes") if isinstance(params.get("sizes"), list) else []
    matrix = params.get(metric) if isinstance(params.get(metric), list) else []
    values = [[finite(v) for v in row] if isinstance(row, list) else [] for row in matrix]
    width = max((len(row) for row in values), default=0)
    biggest = 1.0 if metric == "retention" else max((v for row in values for v in row if v), default=0)
    rows = []
    for i, cohort in enumerate(cohorts):
        row = values[i] if i < len(values) else []
        cells = [row[j] if j < len(row) else None for j in range(width)]
        rows.append(
            {
                "cohort": str(cohort),
                "size": sizes[i] if i < len(sizes) else None,
                "cells": [{"value": v, "heat": heat_class(v, biggest)} for v in cells],
            }
        )
    return {"months": list(range(width)), "rows": rows}


@role_required(Action.VIEW)
def cohorts(request: HttpRequest) -> HttpResponse:
    metric = "revenue" if request.GET.get("metric") == "revenue" else "retention"
    report = FittedModel.latest(ModelKind.COHORTS)
    table = cohort_table(report, metric)
    if request.GET.get("format") == "csv":
        columns = [("cohort", _("First purchase")), ("size", _("Customers"))] + [
            (f"m{m}", _("Month %(month)s") % {"month": m}) for m in table["months"]
        ]
        rows = [
            {
                "cohort": row["cohort"],
                "size": row["size"],
                **{f"m{j}": c["value"] for j, c in enumerate(row["cells"])},
            }
            for row in table["rows"]
        ]
        return csv_response(f"cohorts-{metric}", columns, rows)
    context = {
        "report": report,
        "metric": metric,
        "table": table,
        "metrics": metrics_of(report),
        "currency": business_settings().currency,
    }
    return render(request, "analytics/cohorts.html", context)


# --- satisfaction ---------------------------------------------------------------------------------

TREND_COLUMNS = [
    ("period", gettext_lazy("Month")),
    ("nps", gettext_lazy("NPS")),
    ("nps_responses", gettext_lazy("NPS responses")),
    ("csat", gettext_lazy("CSAT")),
    ("csat_responses", gettext_lazy("CSAT responses")),
    ("ces", gettext_lazy("CES")),
    ("ces_responses", gettext_lazy("CES responses")),
]
BY_SEGMENT_COLUMNS = [
    ("segment", gettext_lazy("Segment")),
    ("nps", gettext_lazy("NPS")),
    ("responses", gettext_lazy("Responses")),
]


def trend_rows(report: FittedModel | None) -> list[dict[str, Any]]:
    keys = [key for key, _label in TREND_COLUMNS[1:]]
    return [
        {"period": str(row.get("period", "")), **{key: finite(row.get(key)) for key in keys}}
        for row in dicts(params_of(report).get("trend"))
    ]


def _answer_segment_label(code: str) -> str:
    if code == "none":
        return _("Not a customer yet")
    return segment_label(code) or code or _("Unknown")


def by_segment_rows(report: FittedModel | None) -> list[dict[str, Any]]:
    """NPS per RFM segment, best segments first, non-customers last."""
    order = {str(code): place for place, code in enumerate(SEGMENT_ORDER)}
    rows = [
        {
            "code": str(row.get("segment", "")),
            "segment": _answer_segment_label(str(row.get("segment", ""))),
            "nps": finite(row.get("nps")),
            "responses": finite(row.get("responses")),
        }
        for row in dicts(params_of(report).get("by_segment"))
    ]
    return sorted(rows, key=lambda row: order.get(row["code"], len(order)))


@role_required(Action.VIEW)
def satisfaction(request: HttpRequest) -> HttpResponse:
    report = FittedModel.latest(ModelKind.SATISFACTION)
    trend = trend_rows(report)
    context = {
        "report": report,
        "metrics": metrics_of(report),
        "trend": trend,
        "by_segment": by_segment_rows(report),
        "support_csat": support_csat.csat_by_segment(),  # live: a grouped query over few answers
        "chart": chart(
            "line",
            [row["period"] for row in trend],
            [
                series(_("NPS"), [row["nps"] for row in trend]),
                series(_("CSAT"), [row["csat"] for row in trend], axis="y1"),
            ],
        ),
    }
    return render(request, "analytics/satisfaction.html", context)


# --- recommendations ------------------------------------------------------------------------------

RULE_COLUMNS = [
    ("antecedent", gettext_lazy("Customers who bought")),
    ("consequent", gettext_lazy("Also buy")),
    ("support", gettext_lazy("Support")),
    ("confidence", gettext_lazy("Confidence")),
    ("lift", gettext_lazy("Lift")),
]


def _names(value: Any) -> str:
    return " + ".join(str(v) for v in value) if isinstance(value, list) else str(value or "")


def rule_rows(report: FittedModel | None) -> list[dict[str, Any]]:
    return [
        {
            "antecedent": _names(rule.get("antecedent")),
            "consequent": _names(rule.get("consequent")),
            **{key: finite(rule.get(key)) for key in ("support", "confidence", "lift")},
        }
        for rule in dicts(params_of(report).get("rules"))
    ]


def next_product_customers() -> QuerySet:
    return sorted_scores(scores(), "clv").exclude(next_product_name="")[:TOP_NEXT_PRODUCT]


@role_required(Action.VIEW)
def recommendations(request: HttpRequest) -> HttpResponse:
    report = FittedModel.latest(ModelKind.BASKET)
    params = params_of(report)
    popular = params.get("popular") if isinstance(params.get("popular"), list) else []
    context = {
        "report": report,
        "metrics": metrics_of(report),
        "rules": rule_rows(report),
        "popular": [str(p) for p in popular[:20]],
        "customers": list(next_product_customers()) if report else [],
        "params": params,
    }
    return render(request, "analytics/recommendations.html", context)


# --- forecast -------------------------------------------------------------------------------------

FORECAST_COLUMNS = [
    ("month", gettext_lazy("Month")),
    ("revenue", gettext_lazy("Revenue")),
    ("mean", gettext_lazy("Forecast")),
    # xgettext:no-python-format
    ("lo80", gettext_lazy("80% low")),
    # xgettext:no-python-format
    ("hi80", gettext_lazy("80% high")),
    # xgettext:no-python-format
    ("lo95", gettext_lazy("95% low")),
    # xgettext:no-python-format
    ("hi95", gettext_lazy("95% high")),
]


def forecast_rows(report: FittedModel | None) -> list[dict[str, Any]]:
    params = params_of(report)
    history = [
        {"month": str(row.get("month", "")), "revenue": finite(row.get("revenue"))}
        for row in dicts(params.get("history"))
    ]
    keys = ("mean", "lo80", "hi80", "lo95", "hi95")
    future = [
        {"month": str(row.get("month", "")), "revenue": None, **{key: finite(row.get(key)) for key in keys}}
        for row in dicts(params.get("forecast"))
    ]
    return [{**dict.fromkeys(keys), **row} for row in history] + future


def forecast_chart(rows: list[dict[str, Any]]) -> dict:
    column = {key: [row.get(key) for row in rows] for key, _label in FORECAST_COLUMNS[1:]}
    # The forecast line starts at the last actual month, so that the two lines join.
    last = max((i for i, row in enumerate(rows) if row["revenue"] is not None), default=None)
    if last is not None and last + 1 < len(rows):
        for key in ("mean", "lo80", "hi80", "lo95", "hi95"):
            column[key][last] = rows[last]["revenue"]
    return chart(
        "line",
        [row["month"] for row in rows],
        [
            # xgettext:no-python-format
            series(_("95% interval"), column["hi95"], role="band", fill="+1", tone=2),
            # xgettext:no-python-format
            series(_("95% low"), column["lo95"], role="edge", tone=2),
            # xgettext:no-python-format
            series(_("80% interval"), column["hi80"], role="band", fill="+1", tone=1),
            # xgettext:no-python-format
            series(_("80% low"), column["lo80"], role="edge", tone=1),
            series(_("Forecast"), column["mean"], role="forecast", tone=0),
            series(_("Revenue"), column["revenue"], role="actual", tone=0),
        ],
        fmt="money",
    )


@role_required(Action.VIEW)
def forecast(request: HttpRequest) -> HttpResponse:
    report = FittedModel.latest(ModelKind.FORECAST)
    rows = forecast_rows(report)
    context = {
        "report": report,
        "params": params_of(report),
        "metrics": metrics_of(report),
        "rows": rows,
        "chart": forecast_chart(rows),
    }
    return render(request, "analytics/forecast.html", context)


# --- marketing ------------------------------------------------------------------------------------

CHANNEL_COLUMNS = [
    ("channel", gettext_lazy("Channel")),
    ("contacts", gettext_lazy("Contacts")),
    ("customers", gettext_lazy("Customers")),
    ("conversion_rate", gettext_lazy("Conversion rate")),
    ("revenue", gettext_lazy("Revenue")),
    ("orders", gettext_lazy("Orders")),
    ("aov", gettext_lazy("Average order value")),
    ("repeat_rate", gettext_lazy("Repeat rate")),
]


def channel_rows(report: FittedModel | None) -> list[dict[str, Any]]:
    keys = [key for key, _label in CHANNEL_COLUMNS[1:]]
    return [
        {
            "channel": channel_label(str(row.get("channel") or "")),
            **{key: finite(row.get(key)) for key in keys},
        }
        for row in dicts(params_of(report).get("channels"))
    ]


@role_required(Action.VIEW)
def marketing(request: HttpRequest) -> HttpResponse:
    report = FittedModel.latest(ModelKind.MARKETING)
    rows = channel_rows(report)
    context = {
        "report": report,
        "metrics": metrics_of(report),
        "rows": rows,
        "chart": chart(
            "bar",
            [row["channel"] for row in rows],
            [
                series(_("Revenue"), [row["revenue"] for row in rows], format="money"),
                series(_("Customers"), [row["customers"] for row in rows], axis="y1"),
            ],
            fmt="money",
        ),
    }
    return render(request, "analytics/marketing.html", context)


# --- models ---------------------------------------------------------------------------------------

MODEL_COLUMNS = [
    ("kind", gettext_lazy("Kind")),
    ("created_at", gettext_lazy("Fitted at")),
    ("n_samples", gettext_lazy("Data size")),
    ("data_end", gettext_lazy("Data up to")),
    ("code_version", gettext_lazy("Code version")),
    ("duration_ms", gettext_lazy("Duration (ms)")),
    ("key_metrics", gettext_lazy("Key metrics")),
]


def key_metrics(metrics: Any, limit: int = 4) -> list[tuple[str, Any]]:
    """The first few plain numbers of a metrics dict (nested ones are on the report's page)."""
    if not isinstance(metrics, dict):
        return []
    found = [
        (str(k), v) for k, v in metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    return found[:limit]


def model_rows() -> QuerySet:
    return FittedModel.objects.defer("params").order_by("-created_at", "-id")


def model_row(model: FittedModel) -> dict[str, Any]:
    return {
        "kind": model.get_kind_display(),
        "created_at": timezone.localtime(model.created_at).isoformat(timespec="seconds"),
        "n_samples": model.n_samples,
        "data_end": model.data_end.isoformat() if isinstance(model.data_end, date) else "",
        "code_version": model.code_version,
        "duration_ms": model.duration_ms,
        "key_metrics": "; ".join(f"{k}={v:.4g}" for k, v in key_metrics(model.metrics)),
    }


def explained(report: FittedModel) -> Explanation:
    """What a stored model says, its trust badge and its fit warnings (``explain.explain``)."""
    return explain(
        report.kind, report.params, report.metrics, report.n_samples, currency=business_settings().currency
    )


def explained_models() -> list[dict[str, Any]]:
    """The newest model of each kind, in the order of ``ModelKind``, each with its explanation."""
    latest = latest_reports(*ModelKind.values)
    return [
        {"report": latest[kind], "explanation": explained(latest[kind])}
        for kind in ModelKind.values
        if kind in latest
    ]


@role_required(Action.VIEW)
def models(request: HttpRequest) -> HttpResponse:
    page = page_of(model_rows(), request.GET.get("page"), per_page=MODELS_PER_PAGE)
    for model in page:
        model.key_metrics = key_metrics(model.metrics)
    context = {
        "page": page,
        "explained": explained_models() if page.object_list else [],
        "refresh": refresh_state(),  # the old-data warning of the last refresh, if any
    }
    return render(request, "analytics/models.html", context)


# --- CSV exports of the report tables --------------------------------------------------------------

Export = Callable[[], tuple[list[tuple[str, Any]], Iterable[dict]]]


def _report_export(kind: str, columns: list, rows_of: Callable[[FittedModel | None], list[dict]]) -> Export:
    return lambda: (columns, rows_of(FittedModel.latest(kind)))


EXPORTS: dict[str, Export] = {
    "segments": _report_export(ModelKind.RFM, SEGMENT_COLUMNS, segment_rows),
    "clv-histogram": _report_export(ModelKind.CLV, HISTOGRAM_COLUMNS, histogram_rows),
    "clv-top": lambda: (SCORE_COLUMNS, [score_row(s) for s in top_clv()]),
    "churn": lambda: (SCORE_COLUMNS, [score_row(s) for s in at_risk_customers()]),
    "churn-models": _report_export(ModelKind.CHURN, CANDIDATE_COLUMNS, candidate_rows),
    "personas": _report_export(ModelKind.PERSONAS, PERSONA_COLUMNS, persona_rows),
    "satisfaction": _report_export(ModelKind.SATISFACTION, TREND_COLUMNS, trend_rows),
    "satisfaction-segments": _report_export(ModelKind.SATISFACTION, BY_SEGMENT_COLUMNS, by_segment_rows),
    "rules": _report_export(ModelKind.BASKET, RULE_COLUMNS, rule_rows),
    "next-products": lambda: (SCORE_COLUMNS, [score_row(s) for s in next_product_customers()]),
    "forecast": _report_export(ModelKind.FORECAST, FORECAST_COLUMNS, forecast_rows),
    "marketing": _report_export(ModelKind.MARKETING, CHANNEL_COLUMNS, channel_rows),
    "models": lambda: (MODEL_COLUMNS, (model_row(m) for m in model_rows().iterator(chunk_size=500))),
}


@role_required(Action.VIEW)
def export(request: HttpRequest, name: str) -> HttpResponse:
    """The table of a report as a CSV download (``/analytics/export/<name>.csv``)."""
    if name not in EXPORTS:
        raise Http404
    columns, rows = EXPORTS[name]()
    return csv_response(name, columns, rows)
