"""Quote pages: the list, a quote, the builder (lines from the catalogue or free text, live
totals), the printable page, the PDF, sending, revising, withdrawing and deleting.

The builder works without JavaScript: "add line", "remove", "up" and "down" are submit buttons
that re-render the form with the change (not saved until Save), and the totals are recomputed
on every submit; with htmx the totals follow as you type. All maths and writes happen in
solocrm.sales.quotes."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from solocrm.lib.access import get_for, role_required
from solocrm.lib.business import business_settings, mail_goes_to_outbox, outbox_message
from solocrm.lib.filters import every_word
from solocrm.lib.http import vary_on_htmx, wants_partial
from solocrm.lib.roles import Action
from solocrm.sales.choices import QuoteStatus
from solocrm.sales.deals.models import Deal
from solocrm.sales.orders.models import Product
from solocrm.sales.quotes import services as quotes
from solocrm.sales.quotes.forms import QuoteForm, QuoteLineForm, QuoteLineFormSet, SendQuoteForm
from solocrm.sales.quotes.models import Quote, QuoteLine
from solocrm.sales.quotes.pdf import render_pdf

QUOTES_PER_PAGE = 50
PRODUCT_PICKER_LIMIT = 500
LINE_FIELDS = ("product", "name", "description", "quantity", "unit_price", "discount_percent", "tax_rate")


def deal_url(deal: Deal) -> str | None:
    """The deal's page, when the deal pages are installed."""
    try:
        return reverse("sales:deal_detail", args=[deal.uuid])
    except NoReverseMatch:
        return None


def public_base_url(request: HttpRequest) -> str:
    """Where customers reach this server: SOLOCRM_PUBLIC_URL, else the address of this request."""
    return getattr(settings, "SOLOCRM_PUBLIC_URL", "") or request.build_absolute_uri("/")


def _quotes() -> QuerySet:
    lines = QuoteLine.objects.order_by("position", "id")
    return Quote.objects.select_related("deal", "deal__company", "contact").prefetch_related(
        Prefetch("lines", queryset=lines)
    )


def _get(request: HttpRequest, public_id, action: str = Action.VIEW) -> Quote:
    return get_for(request.user, _quotes(), public_id, action)


# --- list and detail ----------------------------------------------------------------------------


@role_required(Action.VIEW)
def quote_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    quote_rows = quotes.filter_status(
        Quote.objects.select_related("deal", "contact").order_by("-issued_on", "-id"), status
    )
    if number := request.GET.get("q", "").strip()[:40]:
        quote_rows = quote_rows.filter(number__icontains=number)
    context = {
        "page": Paginator(quote_rows, QUOTES_PER_PAGE).get_page(request.GET.get("page")),
        "statuses": quotes.status_choices(),
        "status": status,
        "q": number,
    }
    return render(request, "sales/quote_list.html", context)


@role_required(Action.VIEW)
def quote_detail(request: HttpRequest, public_id) -> HttpResponse:
    quote = _get(request, public_id)
    context = {
        "quote": quote,
        "deal_url": deal_url(quote.deal),
        "revisable": quotes.is_revisable(quote),
    }
    return render(request, "sales/quote_detail.html", context)


def quote_create(request: HttpRequest, deal_id) -> HttpResponse:
    """A new draft on the deal (numbered at once), opened in the builder; GET asks first."""
    deal = get_for(request.user, Deal.objects.select_related("contact", "stage"), deal_id, Action.EDIT)
    if request.method == "POST":
        try:
            quote = quotes.create_quote(deal, actor=request.user)
        except quotes.QuoteError as error:
            messages.error(request, str(error))
            return redirect(deal_url(deal) or "sales:quote_list")
        messages.success(request, _("Quote %(number)s created.") % {"number": quote.number})
        return redirect("sales:quote_edit", quote.uuid)
    return render(request, "sales/quote_new.html", {"deal": deal, "deal_url": deal_url(deal)})


# --- the builder ------------------------------------------------------------------------------


def _posted_rows(formset) -> list[dict[str, Any]]:
    """The lines as typed (valid or not), in the order posted."""
    return [{f: form[f].value() for f in LINE_FIELDS} for form in formset.forms]


def _apply_action(action: str, rows: list[dict[str, Any]], request: HttpRequest, quote: Quote) -> list:
    """Add, remove or move a line in the typed rows (nothing is saved)."""
    verb, _sep, arg = action.partition(":")
    index = int(arg) if arg.isdigit() else -1
    if verb == "add":
        rows.append({"quantity": 1, "unit_price": "0.00", "discount_percent": 0, "tax_rate": 0})
    elif verb == "add_product":
        product = Product.objects.filter(uuid=_uuid(request.POST.get("add_product")), active=True).first()
        if product is None:
            messages.warning(request, _("Choose a product to add."))
        else:
            if product.currency != quote.currency:
                messages.warning(
                    request,
                    _("“%(name)s” is priced in %(product)s; this quote is in %(quote)s. Check the price.")
                    % {"name": product.name, "product": product.currency, "quote": quote.currency},
                )
            rows.append({**quotes.line_from_product(product), "product": product.uuid})
    elif verb == "remove" and 0 <= index < len(rows):
        rows.pop(index)
    elif verb in ("up", "down") and 0 <= index < len(rows):
        other = index - 1 if verb == "up" else index + 1
        if 0 <= other < len(rows):
            rows[index], rows[other] = rows[other], rows[index]
    return rows


def _uuid(value: str | None):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _line_data(formset) -> list[dict[str, Any]]:
    """Cleaned lines for the service, products looked up by their public id."""
    rows = [dict(form.cleaned_data) for form in formset.forms]
    wanted = [row["product"] for row in rows if row.get("product")]
    products = Product.objects.in_bulk(wanted, field_name="uuid") if wanted else {}
    for row in rows:
        row["product"] = products.get(row.get("product"))
    return rows


def _header_initial(quote: Quote) -> dict[str, Any]:
    return {
        f: getattr(quote, f)
        for f in ("issued_on", "valid_until", "discount_percent", "introduction", "terms")
    }


def _builder_context(quote: Quote, form, lines, unsaved: bool = False, line_ids=None) -> dict[str, Any]:
    """What the builder and its lines section show. ``line_ids``: the saved lines' ids in the
    order of ``lines`` (their rows are edited in place with htmx); None while the page holds
    unsaved changes (made without JavaScript: only Save stores them)."""
    rows = _posted_rows(lines) if lines.is_bound else [f.initial or {} for f in lines.forms]
    discount = form["discount_percent"].value() if form is not None else quote.discount_percent
    totals = quotes.preview(rows, discount)
    amounts = totals.lines if isinstance(totals, quotes.Totals) else [None] * len(rows)
    ids = list(line_ids) if line_ids is not None else [None] * len(rows)
    return {
        "quote": quote,
        "form": form,
        "lines": lines,
        "line_rows": list(zip(lines.forms, amounts, ids, strict=False)),
        "totals": totals,
        "totals_ok": isinstance(totals, quotes.Totals),
        "products": Product.objects.filter(active=True).order_by("name")[:PRODUCT_PICKER_LIMIT],
        "unsaved": unsaved,
        "deal_url": deal_url(quote.deal),
    }


def _builder(
    request: HttpRequest, quote: Quote, form, lines, unsaved: bool = False, line_ids=None, status=200
):
    context = _builder_context(quote, form, lines, unsaved, line_ids)
    context["version"] = request.POST.get("version") or quote.version
    return render(request, "sales/quote_edit.html", context, status=status)


def _saved_lines(quote: Quote):
    """The saved lines as a formset to show, with their ids."""
    saved = list(quote.lines.select_related("product").order_by("position", "id"))
    initial = [
        {
            **{f: getattr(line, f) for f in LINE_FIELDS[1:]},
            "product": line.product.uuid if line.product else None,
        }
        for line in saved
    ]
    return QuoteLineFormSet(initial=initial, prefix="lines"), [line.pk for line in saved]


def quote_edit(request: HttpRequest, public_id) -> HttpResponse:
    quote = _get(request, public_id, Action.EDIT)
    if quote.status != QuoteStatus.DRAFT:
        messages.warning(request, _("A sent quote cannot change; revise it to make a new version."))
        return redirect("sales:quote_detail", quote.uuid)
    if request.method != "POST":
        form = QuoteForm(initial=_header_initial(quote))
        lines, ids = _saved_lines(quote)
        return _builder(request, quote, form, lines, line_ids=ids)
    form = QuoteForm(request.POST)
    lines = QuoteLineFormSet(request.POST, prefix="lines")
    action = request.POST.get("action", "save")
    if action != "save":
        rows = _apply_action(action, _posted_rows(lines), request, quote)
        form = QuoteForm(initial={f: form[f].value() for f in form.fields})
        return _builder(request, quote, form, QuoteLineFormSet(initial=rows, prefix="lines"), unsaved=True)
    if form.is_valid() and lines.is_valid():
        try:
            quotes.update_quote(
                quote,
                form.service_data(),
                lines=_line_data(lines),
                actor=request.user,
                version=request.POST.get("version"),
            )
        except quotes.QuoteError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Quote %(number)s saved.") % {"number": quote.number})
            return redirect("sales:quote_detail", quote.uuid)
    return _builder(request, quote, form, lines, unsaved=True)


# --- the builder's lines, edited in place (htmx) --------------------------------------------------
# Each change is saved at once and answers with HTML fragments: the whole lines section after an
# add, remove or move; after a field change only that line's amount and errors, the totals and
# the version (out of band), so the focus stays where the person typed. A change made on a version
# other than the current one (another tab) is refused with 409 and a message; a bad value, 422
# with the message on the line. Without JavaScript the same buttons submit the whole form.


def _draft(request: HttpRequest, public_id) -> Quote:
    quote = _get(request, public_id, Action.EDIT)
    if quote.status != QuoteStatus.DRAFT:
        raise quotes.QuoteStateError(_("A sent quote cannot change; revise it to make a new version."))
    return quote


def _lines_section(request: HttpRequest, quote: Quote, status: int = 200, alert: str = "") -> HttpResponse:
    lines, ids = _saved_lines(quote)
    context = _builder_context(quote, None, lines, line_ids=ids)
    context.update(version=quote.version, oob=True, alert=alert)
    return vary_on_htmx(render(request, "sales/_quote_lines.html", context, status=status))


def _line_answer(request: HttpRequest, public_id, change) -> HttpResponse:
    """Run ``change(quote, version)`` and answer with the fresh lines section (or why not)."""
    try:
        quote = _draft(request, public_id)
        change(quote, request.POST.get("version"))
    except quotes.QuoteConflict as error:
        return _alert(request, str(error), 409)
    except quotes.QuoteStateError as error:
        return _alert(request, str(error), 409)
    except quotes.QuoteError as error:
        return _lines_section(request, quote, 422, alert=str(error))
    if not wants_partial(request):
        return redirect("sales:quote_edit", quote.uuid)
    return _lines_section(request, quote)


def _alert(request: HttpRequest, message: str, status: int) -> HttpResponse:
    if not wants_partial(request):
        messages.error(request, message)
        return redirect("sales:quote_edit", request.resolver_match.kwargs["public_id"])
    return render(request, "sales/_quote_alert.html", {"alert": message}, status=status)


@require_POST
def quote_line_add(request: HttpRequest, public_id) -> HttpResponse:
    """A new line: a product's (``product``) or a blank one to fill in."""

    def add(quote: Quote, version) -> None:
        product = None
        if key := request.POST.get("product"):
            product = Product.objects.filter(uuid=_uuid(key), active=True).first()
            if product is None:
                raise quotes.QuoteError(_("Choose a product to add."))
        data = quotes.line_from_product(product) if product else {"name": _("New line"), "quantity": 1}
        quotes.add_line(quote, data, version=version, actor=request.user)

    return _line_answer(request, public_id, add)


@require_POST
def quote_line_remove(request: HttpRequest, public_id, line_id: int) -> HttpResponse:
    return _line_answer(
        request,
        public_id,
        lambda quote, version: quotes.remove_line(quote, line_id, version=version, actor=request.user),
    )


@require_POST
def quote_line_move(request: HttpRequest, public_id, line_id: int) -> HttpResponse:
    direction = "up" if request.POST.get("direction") == "up" else "down"
    return _line_answer(
        request,
        public_id,
        lambda quote, version: quotes.move_line(
            quote, line_id, direction, version=version, actor=request.user
        ),
    )


LINE_PREFIX = re.compile(r"lines-\d{1,3}")


@require_POST
def quote_line_edit(request: HttpRequest, public_id, line_id: int) -> HttpResponse:
    """One line's fields as typed (named with the row's prefix, ``lines-3-quantity``)."""
    prefix = request.POST.get("prefix", "")
    if not LINE_PREFIX.fullmatch(prefix):
        return HttpResponse(status=400)
    index = int(prefix.split("-")[1])
    form = QuoteLineForm(request.POST, prefix=prefix)
    try:
        quote = _draft(request, public_id)
    except quotes.QuoteStateError as error:
        return _alert(request, str(error), 409)
    context = {"quote": quote, "index": index, "form": form}
    status = 200
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "product"}
        try:
            quotes.update_line(quote, line_id, data, version=request.POST.get("version"), actor=request.user)
        except quotes.QuoteConflict as error:
            return _alert(request, str(error), 409)
        except quotes.QuoteError as error:
            context["line_error"], status = str(error), 422
    else:
        status = 422
    if status == 200 and not wants_partial(request):
        return redirect("sales:quote_edit", quote.uuid)
    totals = quotes.Totals(
        tuple(quote.lines.order_by("position", "id").values_list("total", flat=True)),
        quote.subtotal,
        quote.discount_total,
        quote.tax_total,
        quote.total,
    )
    context.update(version=quote.version, totals=totals, totals_ok=True, oob=True)
    return vary_on_htmx(render(request, "sales/_quote_line_saved.html", context, status=status))


@role_required(Action.EDIT)
def quote_product_search(request: HttpRequest, public_id) -> HttpResponse:
    """The product picker's matches (name or SKU, every word), at most PICKS."""
    quote = _get(request, public_id, Action.EDIT)
    products = Product.objects.filter(active=True).filter(
        every_word(request.GET.get("product_q", "")[:100], "name__icontains", "sku__icontains")
    )
    context = {
        "quote": quote,
        "picks": products.order_by("name")[:PICKS],
        "q": request.GET.get("product_q", ""),
    }
    return vary_on_htmx(render(request, "sales/_quote_product_picks.html", context))


PICKS = 8


@require_POST
def quote_preview(request: HttpRequest, public_id) -> HttpResponse:
    """The totals of the builder's form as typed (htmx, nothing saved)."""
    quote = _get(request, public_id, Action.EDIT)
    lines = QuoteLineFormSet(request.POST, prefix="lines")
    rows = _posted_rows(lines) if lines.management_form.is_valid() else []
    totals = quotes.preview(rows, request.POST.get("discount_percent"))
    context = {"quote": quote, "totals": totals, "totals_ok": isinstance(totals, quotes.Totals), "oob": True}
    return vary_on_htmx(render(request, "sales/quote_totals.html", context))


# --- print, PDF, send, revise, withdraw, delete ---------------------------------------------------


@role_required(Action.VIEW)
def quote_print(request: HttpRequest, public_id) -> HttpResponse:
    context = {"quote": _get(request, public_id), "business": quotes.business_name()}
    config = business_settings()
    context["business_address"] = config.business_address
    # The logo is served to signed-in users only: the printable page has it, the public one not.
    context["business_logo_url"] = reverse("web:settings_logo") if config.logo else ""
    return render(request, "sales/quote_print.html", context)


@role_required(Action.VIEW)
def quote_pdf(request: HttpRequest, public_id) -> HttpResponse:
    quote = _get(request, public_id)
    response = HttpResponse(render_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{quote.number}.pdf"'
    return response


def quote_send(request: HttpRequest, public_id) -> HttpResponse:
    quote = _get(request, public_id, Action.EDIT)
    initial = {"to": quote.sent_to or (quote.contact.email if quote.contact else "")}
    form = SendQuoteForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            quotes.send_quote(
                quote,
                form.cleaned_data["to"],
                form.cleaned_data["message"],
                actor=request.user,
                base_url=public_base_url(request),
            )
        except quotes.QuoteError as error:
            form.add_error(None, str(error))
        else:
            if mail_goes_to_outbox():
                messages.warning(request, outbox_message(_("Quote %(number)s"), number=quote.number))
            else:
                sent = _("Quote %(number)s sent to %(to)s.")
                messages.success(request, sent % {"number": quote.number, "to": quote.sent_to})
            return redirect("sales:quote_detail", quote.uuid)
    context = {"quote": quote, "form": form, "mail_outbox": mail_goes_to_outbox()}
    return render(request, "sales/quote_send.html", context)


@require_POST
def quote_revise(request: HttpRequest, public_id) -> HttpResponse:
    quote = _get(request, public_id, Action.EDIT)
    try:
        revision = quotes.revise_quote(quote, actor=request.user)
    except quotes.QuoteError as error:
        messages.error(request, str(error))
        return redirect("sales:quote_detail", quote.uuid)
    messages.success(
        request,
        _("%(new)s is a new draft copied from %(old)s.") % {"new": revision.number, "old": quote.number},
    )
    return redirect("sales:quote_edit", revision.uuid)


@require_POST
def quote_withdraw(request: HttpRequest, public_id) -> HttpResponse:
    quote = _get(request, public_id, Action.EDIT)
    try:
        quotes.withdraw_quote(quote, actor=request.user)
    except quotes.QuoteError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Quote %(number)s withdrawn; its link no longer works.") % {"number": quote.number}
        )
    return redirect("sales:quote_detail", quote.uuid)


def quote_delete(request: HttpRequest, public_id) -> HttpResponse:
    """Delete a draft (owners only); a confirmation page first."""
    quote = _get(request, public_id, Action.DELETE)
    if quote.status != QuoteStatus.DRAFT:
        messages.warning(request, _("Only a draft can be deleted; withdraw a sent quote instead."))
        return redirect("sales:quote_detail", quote.uuid)
    if request.method == "POST":
        target = deal_url(quote.deal) or reverse("sales:quote_list")
        quotes.delete_quote(quote, actor=request.user)
        messages.success(request, _("Draft %(number)s deleted.") % {"number": quote.number})
        return redirect(target)
    return render(request, "sales/quote_confirm_delete.html", {"quote": quote})
