"""Deals, quotes, orders and tasks in global search (lib.search).

A one-person business has hundreds of deals and quotes and thousands of tasks: their titles are
searched with the database's ``icontains`` on those small tables, capped. Orders can number
millions: they are found by their number only, exactly (``order_number`` index), as typed on a
receipt ("1043" or "#1043")."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from solocrm.lib.normalize import case_variants
from solocrm.lib.search import SearchQuery, provider, result

from .deals.models import Deal
from .orders.models import Order
from .quotes.models import Quote
from .tasks.models import Task


def _words(query: SearchQuery) -> list[str]:
    return [term.typed for term in query.terms]


def text_match(query: SearchQuery, *fields: str) -> Q:
    """Every word of the query in one of ``fields`` (any case, in any script)."""
    found = Q()
    for word in _words(query):
        # SQLite's LIKE ignores case for ASCII letters only (see contacts.filters).
        variants = case_variants(word) if connection.vendor == "sqlite" and not word.isascii() else [word]
        any_field = Q()
        for variant in variants:
            for name in fields:
                any_field |= Q(**{f"{name}__icontains": variant})
        found &= any_field
    return found


def _money(amount, currency: str) -> str:
    return f"{formats.number_format(amount, 2, use_l10n=True, force_grouping=True)} {currency}"


@provider("deals", order=30)
def deals(query: SearchQuery, user, limit: int):
    if any(term.phone for term in query.terms):
        return
    found = Deal.objects.filter(text_match(query, "title")).select_related("stage", "contact")
    for deal in found.order_by("-created_at")[: limit * 3]:
        details = [
            deal.stage.name,
            _money(deal.amount, deal.currency),
            str(deal.contact) if deal.contact else "",
        ]
        yield result(
            query,
            kind="deal",
            kind_label=_("Deal"),
            title=deal.title,
            subtitle=" · ".join(d for d in details if d),
            url=reverse("sales:deal_detail", args=[deal.uuid]),
            icon="handshake",
            uuid=deal.uuid,
        )


@provider("quotes", order=40)
def quotes(query: SearchQuery, user, limit: int):
    if any(term.phone for term in query.terms):
        return
    found = Quote.objects.filter(text_match(query, "number", "deal__title")).select_related("deal", "contact")
    for quote in found.order_by("-created_at")[: limit * 3]:
        details = [quote.deal.title, quote.get_status_display(), str(quote.contact) if quote.contact else ""]
        yield result(
            query,
            kind="quote",
            kind_label=_("Quote"),
            title=quote.number,
            subtitle=" · ".join(d for d in details if d),
            url=reverse("sales:quote_detail", args=[quote.uuid]),
            icon="file-text",
            uuid=quote.uuid,
        )


@provider("orders", order=50)
def orders(query: SearchQuery, user, limit: int):
    if len(query.terms) != 1:
        return
    typed = query.terms[0].typed.strip()
    numbers = {typed, typed.upper(), typed.lstrip("#"), "#" + typed.lstrip("#")}
    found = Order.objects.filter(number__in=numbers).select_related("contact")
    for order in found.order_by("-ordered_at")[:limit]:
        when = formats.date_format(order.ordered_at, "SHORT_DATE_FORMAT")
        details = [str(order.contact) if order.contact else "", _money(order.total, order.currency), when]
        # An order is shown on its customer's page (orders have no page of their own).
        url = reverse("contacts:detail", args=[order.contact.uuid]) + "#orders" if order.contact else ""
        if not url:
            continue
        yield result(
            query,
            kind="order",
            kind_label=_("Order"),
            title=str(order),
            subtitle=" · ".join(d for d in details if d),
            url=url,
            icon="shopping-cart",
            uuid=order.uuid,
        )


@provider("tasks", order=60)
def tasks(query: SearchQuery, user, limit: int):
    if any(term.phone for term in query.terms):
        return
    found = Task.objects.filter(text_match(query, "title")).select_related("contact")
    for task in found.order_by("done_at", "-created_at")[: limit * 3]:
        due = formats.date_format(task.due_at, "SHORT_DATE_FORMAT") if task.due_at else ""
        state = _("done") if task.done_at else due
        details = [str(state) if state else "", str(task.contact) if task.contact else ""]
        yield result(
            query,
            kind="task",
            kind_label=_("Task"),
            title=task.title,
            subtitle=" · ".join(d for d in details if d),
            url=reverse("sales:task_edit", args=[task.uuid]),
            icon="square-check-big",
            uuid=task.uuid,
        )
