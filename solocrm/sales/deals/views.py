"""Pages of the deals pipeline: the kanban board, the deals list (with CSV export), a deal's
page, the new/edit/delete forms, moving a deal (the board's drop and the no-JavaScript form),
the pipeline settings and the forecast.

Views only route: roles are checked through solocrm.lib.access, input goes through a form,
and the work is done by solocrm.sales.pipeline and solocrm.sales.forecast."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from pydantic import ValidationError as PydanticValidationError

from solocrm.contacts.models import Contact
from solocrm.contacts.views import _filter_from
from solocrm.lib import email_links
from solocrm.lib.access import can, get_for, role_required
from solocrm.lib.business import business_settings
from solocrm.lib.http import next_url, vary_on_htmx, wants_partial
from solocrm.lib.roles import Action
from solocrm.lib.spreadsheet import csv_cell
from solocrm.sales.choices import StageKind
from solocrm.sales.deals import forecast
from solocrm.sales.deals import services as pipeline
from solocrm.sales.deals.filters import DealFilter
from solocrm.sales.deals.forms import DealFilterForm, DealForm, MoveDealForm, PipelineForm, StageForm
from solocrm.sales.deals.models import Deal, Pipeline, Stage

DEALS_PER_PAGE = 50
FORECAST_MONTHS = (3, 6, 12, 24)


def _deals():
    return Deal.objects.select_related("pipeline", "stage", "contact", "company", "owner", "order")


def _pipeline_from(request: HttpRequest) -> Pipeline:
    """The pipeline named by ?pipeline=<uuid>, else the default one (created when missing)."""
    key = request.GET.get("pipeline") or request.POST.get("pipeline")
    if key:
        return get_for(request.user, Pipeline, key)
    return pipeline.default_pipeline()


# --- the board ------------------------------------------------------------------------------------


# The board's filters, kept in the URL (and sent along with a drop, so the column totals that
# come back count the same deals): a subset of the deals list's one filter definition.
BOARD_FILTERS = ("q", "owner", "stalled")


def board_filter(data) -> tuple[dict[str, str], Q, str]:
    """The board's filters from ``data`` (GET or POST): the values, their condition, an error."""
    values = {key: data.get(key, "").strip() for key in BOARD_FILTERS if data.get(key, "").strip()}
    try:
        return values, DealFilter.model_validate(values).get_filter_expression(), ""
    except PydanticValidationError as error:
        fields = ", ".join(sorted({str(e["loc"][0]) for e in error.errors() if e.get("loc")}))
        message = _("Some filters were not understood and are ignored: %(fields)s.") % {"fields": fields}
        return {}, Q(), message


@role_required(Action.VIEW)
def board(request: HttpRequest) -> HttpResponse:
    current = _pipeline_from(request)
    filters, where, filter_error = board_filter(request.GET)
    context = {
        "pipeline": current,
        "pipelines": Pipeline.objects.order_by("-is_default", "name"),
        "columns": pipeline.board_columns(current, where=where),
        "card_limit": pipeline.BOARD_CARDS,
        "closed_days": pipeline.BOARD_CLOSED_DAYS,
        "lost_form": MoveDealForm(deal=Deal(pipeline=current), auto_id="lost_%s"),
        "filters": filters,
        "filter_error": filter_error,
        "owners": get_user_model()
        .objects.filter(is_active=True)
        .order_by("username")
        .values_list("username", flat=True),
        "list_query": urlencode({"pipeline": current.uuid, "status": "open", **filters}),
    }
    stages = [column["stage"] for column in context["columns"]]
    for column in context["columns"]:
        column["stage_options"] = stage_options(stages, column["stage"])
    return render(request, "sales/deals_board.html", context)


# --- moving a deal --------------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
def deal_move(request: HttpRequest, public_id) -> HttpResponse:
    """Move a deal: the board's drop (JSON answer), the card's form and the deal page's buttons
    (a redirect with a message; a form error shows a page with the form again)."""
    deal = get_for(request.user, _deals(), public_id, Action.EDIT)
    before = deal.stage
    form = MoveDealForm(request.POST, deal=deal)
    error = ""
    if form.is_valid():
        try:
            pipeline.place_deal(
                deal,
                form.cleaned_data["stage"],
                above=form.neighbour("above"),
                below=form.neighbour("below"),
                actor=request.user,
                lost_reason=form.cleaned_data["lost_reason"],
                lost_note=form.cleaned_data["lost_note"],
            )
        except (pipeline.StageError, ValidationError) as problem:
            error = "; ".join(getattr(problem, "messages", None) or [str(problem)])
    else:
        error = " ".join(str(message) for errors in form.errors.values() for message in errors)
    if _wants_json(request):
        return _move_json(request, deal, before, error)
    if error:
        return render(request, "sales/deals_move.html", {"deal": deal, "form": form}, status=422)
    messages.success(request, _move_message(deal, before))
    return redirect(next_url(request, "sales:deal_detail", deal.uuid))


def _move_message(deal: Deal, before: Stage) -> str:
    if deal.stage.kind == StageKind.WON and before.pk != deal.stage_id:
        return _("“%(title)s” is won: its order was created.") % {"title": deal.title}
    return _("“%(title)s” is now in %(stage)s.") % {"title": deal.title, "stage": deal.stage.name}


def order_url(deal: Deal) -> str:
    """Where a won deal's order can be seen: its contact's page (the orders list), else the deal's."""
    if deal.contact_id:
        return reverse("contacts:detail", args=[deal.contact.uuid]) + "#orders-title"
    return reverse("sales:deal_detail", args=[deal.uuid]) + "#order-title"


def _move_json(request: HttpRequest, deal: Deal, before: Stage, error: str) -> JsonResponse:
    if error:
        return JsonResponse({"ok": False, "error": error}, status=422)
    deal.is_stalled = pipeline.is_stalled(deal)
    pipeline.describe_cards([deal])
    filters, where, _error = board_filter(request.POST)
    stages = {before.pk: before, deal.stage_id: deal.stage}
    heads = {
        str(stage.uuid): render_to_string(
            "sales/_board_column_head.html",
            {
                "column": pipeline.column_summary(stage, where=where),
                "closed_days": pipeline.BOARD_CLOSED_DAYS,
            },
            request=request,
        )
        for stage in stages.values()
    }
    answer: dict[str, Any] = {
        "ok": True,
        "message": _move_message(deal, before),
        "card": render_to_string(
            "sales/_deal_card.html",
            {
                "deals": [deal],
                "stage_options": stage_options(_stages_of(deal), deal.stage),
                "can_edit": True,
                "board_url": _board_url(deal, filters),
            },
            request=request,
        ),
        "columns": heads,
    }
    if deal.order_id and deal.stage.kind == StageKind.WON:
        answer["order_url"] = order_url(deal)
        answer["order_label"] = _("See the order")
    return JsonResponse(answer)


def stage_options(stages: list[Stage], current: Stage) -> str:
    """The <option>s of a card's stage select (escaped; built once per column, not per card)."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (stage.uuid, mark_safe(" selected") if stage.pk == current.pk else "", stage.name)
            for stage in stages
        ),
    )


def _board_url(deal: Deal, filters: dict[str, str] | None = None) -> str:
    return reverse("sales:board") + "?" + urlencode({"pipeline": deal.pipeline.uuid, **(filters or {})})


def _stages_of(deal: Deal) -> list[Stage]:
    return pipeline.ordered_stages(deal.pipeline)


# --- the list -------------------------------------------------------------------------------------


@role_required(Action.VIEW)
def deal_list(request: HttpRequest) -> HttpResponse:
    deal_filter, filter_error = _filter_from(request, DealFilter)
    deals = deal_filter.apply(_deals())
    context = {
        "page": Paginator(deals, DEALS_PER_PAGE).get_page(request.GET.get("page")),
        "filter_form": DealFilterForm(initial=request.GET.dict()),
        "filter_error": filter_error,
        "filtered": any(value for key, value in request.GET.items() if key not in ("page", "ordering")),
        "today": timezone.localdate(),
        "sort": _sort_links(request),
    }
    template = "sales/_deal_results.html" if wants_partial(request) else "sales/deals_list.html"
    return vary_on_htmx(render(request, template, context))


# Column -> its orderings: the first click uses the first, a second click the other.
SORTABLE = {
    "title": ("title", "-title"),
    "stage": ("stage",),
    "amount": ("-amount", "amount"),
    "close": ("close", "-close"),
    "activity": ("activity", "-activity"),
}


def _sort_links(request: HttpRequest) -> dict[str, dict[str, str]]:
    """For each sortable column head: the link that sorts by it, and an arrow on the current one."""
    current = request.GET.get("ordering", "")
    links = {}
    for column, orderings in SORTABLE.items():
        query = request.GET.copy()
        query.pop("page", None)
        query["ordering"] = orderings[-1] if current == orderings[0] else orderings[0]
        arrow = ""
        if current in orderings:
            arrow = " ▼" if current.startswith("-") else " ▲"
        links[column] = {"url": "?" + query.urlencode(), "arrow": arrow}
    return links


CSV_COLUMNS = (
    "uuid", "title", "pipeline", "stage", "status", "amount", "currency", "probability", "expected_close",
    "next_step", "contact", "contact_email", "company", "owner", "source", "lost_reason", "created_at",
    "closed_at",
)  # fmt: skip


def _csv_row(deal: Deal) -> list[str]:
    status = deal.stage.kind if deal.closed_at else StageKind.OPEN
    values = [
        deal.uuid, deal.title, deal.pipeline.name, deal.stage.name, status, deal.amount, deal.currency,
        deal.stage.probability, deal.expected_close, deal.next_step, str(deal.contact or ""),
        deal.contact.email if deal.contact else "", str(deal.company or ""),
        deal.owner.get_username() if deal.owner else "", deal.source, deal.lost_reason, deal.created_at,
        deal.closed_at,
    ]  # fmt: skip
    return [csv_cell(value) for value in values]


class _Echo:
    def write(self, value: str) -> str:
        return value


@role_required(Action.VIEW)
def deal_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as CSV, streamed (a spreadsheet formula in a title is defused)."""
    deal_filter, filter_error = _filter_from(request, DealFilter)
    if filter_error:
        messages.warning(request, filter_error)
        return redirect("sales:deal_list")
    writer = csv.writer(_Echo())
    rows = (writer.writerow(_csv_row(deal)) for deal in deal_filter.apply(_deals()).iterator(chunk_size=2000))
    header = writer.writerow(CSV_COLUMNS)
    response = StreamingHttpResponse(_chain(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="deals.csv"'
    return response


def _chain(first: str, rest):
    yield first
    yield from rest


# --- one deal -------------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, deal: Deal, **extra: Any) -> dict[str, Any]:
    stages = _stages_of(deal)
    return {
        "deal": deal,
        "stages": stages,
        "path": pipeline.stage_path(deal),
        "is_stalled": pipeline.is_stalled(deal),
        "move_form": extra.get("move_form") or MoveDealForm(deal=deal),
        "lost_form": MoveDealForm(deal=deal, auto_id="lost_%s"),
        "won_stage": next((s for s in stages if s.kind == StageKind.WON), None),
        "lost_stage": next((s for s in stages if s.kind == StageKind.LOST), None),
        "open_tasks": deal.tasks.open().select_related("contact").order_by("due_at", "-priority", "id"),
        "done_tasks": deal.tasks.filter(done_at__isnull=False)
        .select_related("contact")
        .order_by("-done_at")[:10],
        "interactions": deal.interactions.select_related("author", "contact").order_by("-occurred_at", "-id")[
            :20
        ],
        "order_link": order_url(deal) if deal.order_id else "",
        "today": timezone.localdate(),
        "pipeline_count": Pipeline.objects.count(),
        "compose_url": _compose_url(request, deal),
    }


def _compose_url(request: HttpRequest, deal: Deal) -> str:
    """The deal's "E-mail" button: the compose page (linked to the deal) when e-mail can be sent
    from the CRM, else mailto:, else nothing (no contact with an address, or a viewer)."""
    if not can(request.user, Action.EDIT) or deal.contact is None or not deal.contact.email:
        return ""
    return email_links.compose_url(deal=deal.uuid) or f"mailto:{deal.contact.email}"


@role_required(Action.VIEW)
def deal_detail(request: HttpRequest, public_id) -> HttpResponse:
    deal = get_for(request.user, _deals(), public_id)
    return render(request, "sales/deals_detail.html", _detail_context(request, deal))


@role_required(Action.EDIT)
def deal_create(request: HttpRequest) -> HttpResponse:
    contact = None
    if key := request.GET.get("contact"):
        contact = get_for(request.user, Contact, key)
    form = DealForm(request.POST or None, contact=contact)
    if request.method == "POST" and form.is_valid():
        try:
            deal = form.save(actor=request.user)
        except (pipeline.StageError, ValidationError) as problem:
            form.add_error(None, "; ".join(getattr(problem, "messages", None) or [str(problem)]))
        else:
            messages.success(request, _("Deal “%(title)s” added.") % {"title": deal.title})
            return redirect("sales:deal_detail", deal.uuid)
    return render(request, "sales/deals_form.html", {"form": form, "deal": None, "contact": contact})


def deal_edit(request: HttpRequest, public_id) -> HttpResponse:
    deal = get_for(request.user, _deals(), public_id, Action.EDIT)
    form = DealForm(request.POST or None, deal=deal)
    if request.method == "POST" and form.is_valid():
        try:
            form.save(actor=request.user)
        except ValidationError as problem:
            form.add_error(None, "; ".join(problem.messages))
        else:
            messages.success(request, _("Deal “%(title)s” saved.") % {"title": deal.title})
            return redirect("sales:deal_detail", deal.uuid)
    return render(request, "sales/deals_form.html", {"form": form, "deal": deal})


def deal_delete(request: HttpRequest, public_id) -> HttpResponse:
    """A confirmation page; the POST deletes (owners only)."""
    deal = get_for(request.user, _deals(), public_id, Action.DELETE)
    if request.method == "POST":
        title = deal.title
        pipeline.delete_deal(deal, actor=request.user)
        messages.success(request, _("Deal “%(title)s” deleted.") % {"title": title})
        return redirect("sales:board")
    return render(request, "sales/deals_confirm_delete.html", {"deal": deal})


# --- pipeline settings (owner only) ---------------------------------------------------------------


def _settings_page(request: HttpRequest, current: Pipeline, **forms: Any) -> HttpResponse:
    bound = forms.get("stage_form")
    counts = dict(current.stages.annotate(n=Count("deals")).values_list("pk", "n"))
    rows = [
        (
            stage,
            bound if bound is not None and bound.instance.pk == stage.pk else _stage_form(stage),
            counts[stage.pk],
        )
        for stage in pipeline.ordered_stages(current)
    ]
    context = {
        "pipeline": current,
        "pipelines": Pipeline.objects.order_by("-is_default", "name"),
        "pipeline_form": forms.get("pipeline_form") or PipelineForm(instance=current),
        "stage_rows": rows,
        "new_stage_form": forms.get("new_stage_form") or StageForm(prefix="new"),
    }
    return render(request, "sales/deals_pipeline_settings.html", context, status=forms.get("status", 200))


def _stage_form(stage: Stage, data=None) -> StageForm:
    return StageForm(data, instance=stage, prefix=f"s{stage.uuid.hex}")


def _back_to_settings(current: Pipeline) -> HttpResponse:
    return redirect(reverse("sales:pipeline_settings") + f"?pipeline={current.uuid}")


@role_required(Action.ADMIN)
def pipeline_settings(request: HttpRequest) -> HttpResponse:
    current = _pipeline_from(request)
    if request.method != "POST":
        return _settings_page(request, current)
    form = PipelineForm(request.POST, instance=Pipeline.objects.get(pk=current.pk))
    if not form.is_valid():
        return _settings_page(request, current, pipeline_form=form, status=422)
    try:
        pipeline.update_pipeline(current, form.cleaned_data, actor=request.user)
    except (pipeline.StageError, ValidationError) as problem:
        messages.error(request, "; ".join(getattr(problem, "messages", None) or [str(problem)]))
    else:
        messages.success(request, _("Pipeline “%(name)s” saved.") % {"name": current.name})
    return _back_to_settings(current)


@require_POST
@role_required(Action.ADMIN)
def pipeline_create(request: HttpRequest) -> HttpResponse:
    name = request.POST.get("name", "").strip()[:100]
    if not name:
        messages.error(request, _("Give the new pipeline a name."))
        return redirect("sales:pipeline_settings")
    created = pipeline.create_pipeline(name, actor=request.user)
    messages.success(
        request, _("Pipeline “%(name)s” created with the usual stages.") % {"name": created.name}
    )
    return _back_to_settings(created)


@require_POST
@role_required(Action.ADMIN)
def stage_add(request: HttpRequest, public_id) -> HttpResponse:
    current = get_for(request.user, Pipeline, public_id, Action.ADMIN)
    form = StageForm(request.POST, prefix="new")
    if not form.is_valid():
        return _settings_page(request, current, new_stage_form=form, status=422)
    return _stage_change(
        request,
        current,
        lambda: pipeline.add_stage(current, actor=request.user, **form.cleaned_data),
        _("Stage added."),
    )


def _stage_change(request: HttpRequest, current: Pipeline, change, done: str) -> HttpResponse:
    try:
        change()
    except (pipeline.StageError, ValidationError) as problem:
        messages.error(request, "; ".join(getattr(problem, "messages", None) or [str(problem)]))
    else:
        messages.success(request, done)
    return _back_to_settings(current)


def _get_stage(request: HttpRequest, public_id) -> Stage:
    return get_for(request.user, Stage.objects.select_related("pipeline"), public_id, Action.ADMIN)


@require_POST
@role_required(Action.ADMIN)
def stage_edit(request: HttpRequest, public_id) -> HttpResponse:
    stage = _get_stage(request, public_id)
    form = _stage_form(Stage.objects.get(pk=stage.pk), request.POST)
    if not form.is_valid():
        return _settings_page(request, stage.pipeline, stage_form=form, status=422)
    return _stage_change(
        request,
        stage.pipeline,
        lambda: pipeline.update_stage(stage, form.cleaned_data, actor=request.user),
        _("Stage “%(name)s” saved.") % {"name": form.cleaned_data["name"]},
    )


@require_POST
@role_required(Action.ADMIN)
def stage_move(request: HttpRequest, public_id) -> HttpResponse:
    """One column to the left (up) or right (down): the settings page's arrow buttons."""
    stage = _get_stage(request, public_id)
    index = [s.pk for s in pipeline.ordered_stages(stage.pipeline)].index(stage.pk)
    step = -1 if request.POST.get("direction") == "up" else 1
    return _stage_change(
        request,
        stage.pipeline,
        lambda: pipeline.update_stage(stage, {"position": max(0, index + step)}, actor=request.user),
        _("Stage “%(name)s” moved.") % {"name": stage.name},
    )


@require_POST
@role_required(Action.ADMIN)
def stage_delete(request: HttpRequest, public_id) -> HttpResponse:
    stage = _get_stage(request, public_id)
    return _stage_change(
        request,
        stage.pipeline,
        lambda: pipeline.delete_stage(stage, actor=request.user),
        _("Stage “%(name)s” deleted.") % {"name": stage.name},
    )


# --- forecast -------------------------------------------------------------------------------------


def _months(request: HttpRequest) -> int:
    try:
        months = int(request.GET.get("months", 12))
    except ValueError:
        return 12
    return months if months in FORECAST_MONTHS else 12


@role_required(Action.VIEW)
def forecast_page(request: HttpRequest) -> HttpResponse:
    current = _pipeline_from(request)
    months = _months(request)
    period = forecast.Period.last_months(months)
    result = forecast.forecast(period, current)
    averages = pipeline.average_days_in_stage(current)
    for row in result["conversion"]:
        row["average_days"] = (averages.get(row["stage"].pk) or {}).get("days")
    currencies = [total["currency"] for total in result["totals"]]
    currency = request.GET.get("currency", "").upper()
    if currency not in currencies:
        currency = (
            business_settings().currency
            if business_settings().currency in currencies
            else next(iter(currencies), business_settings().currency)
        )
    context = {
        "pipeline": current,
        "pipelines": Pipeline.objects.order_by("-is_default", "name"),
        "months": months,
        "month_choices": FORECAST_MONTHS,
        "result": result,
        "currency": currency,
        "currencies": currencies,
        "chart": _forecast_chart(result["weighted"], currency),
    }
    return render(request, "sales/deals_forecast.html", context)


def _bucket_label(row: dict[str, Any]) -> str:
    if row["month"] is not None:
        return row["month"].strftime("%Y-%m")
    return str(forecast.BUCKET_LABELS[row["bucket"]])


def _forecast_chart(rows: list[dict[str, Any]], currency: str) -> dict[str, Any]:
    """The spec analytics.js draws (a bar chart of one currency: amounts are never mixed)."""
    mine = [row for row in rows if row["currency"] == currency]
    return {
        "type": "bar",
        "labels": [_bucket_label(row) for row in mine],
        "datasets": [
            {"label": _("Weighted"), "data": [float(row["weighted"]) for row in mine]},
            {"label": _("Full amount"), "data": [float(row["amount"]) for row in mine]},
        ],
        "format": "money",
        "currency": currency,
    }
