"""What the sales app adds to the customer page (solocrm.lib.contact_page): the person's orders
with their totals per currency, their deals, open and done tasks, the task form and the
activity form of the page's composer; and the header's key figures "Orders" and "Revenue"."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Sum
from django.http import HttpRequest
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _

from solocrm.lib.contact_page import Figure, key_figures, section
from solocrm.sales.choices import REVENUE_STATUSES
from solocrm.sales.tasks.forms import LogActivityForm, TaskForm


@section("orders")
def orders(request: HttpRequest, contact, forms: dict[str, Any]) -> dict[str, Any]:
    placed = contact.orders.order_by("-ordered_at", "-id")
    return {
        "orders": placed[:20],
        "order_totals": placed.filter(status__in=REVENUE_STATUSES)
        .order_by("currency")
        .values("currency")
        .annotate(count=Count("id"), revenue=Sum("total")),
    }


@section("deals")
def deals(request: HttpRequest, contact, forms: dict[str, Any]) -> dict[str, Any]:
    return {"deals": contact.deals.select_related("stage").order_by("closed_at", "-created_at")[:10]}


@section("tasks")
def tasks(request: HttpRequest, contact, forms: dict[str, Any]) -> dict[str, Any]:
    return {
        "open_tasks": contact.tasks.open().select_related("deal").order_by("due_at", "-priority", "id"),
        "done_tasks": contact.tasks.filter(done_at__isnull=False)
        .select_related("deal")
        .order_by("-done_at")[:10],
        "task_form": forms.get("task_form") or TaskForm(auto_id="task_%s"),
        # The call and meeting tabs of the composer: outcome, deal and the next task in one go.
        "log_form": forms.get("log_form") or LogActivityForm(contact=contact, auto_id="log_%s"),
    }


@key_figures("orders")
def order_figures(request: HttpRequest, contact) -> list[Figure]:
    """Paid orders and their revenue, per currency (one query)."""
    totals = list(
        contact.orders.filter(status__in=REVENUE_STATUSES)
        .order_by("currency")
        .values("currency")
        .annotate(count=Count("id"), revenue=Sum("total"))
    )
    count = sum(row["count"] for row in totals)
    revenue = " · ".join(f"{floatformat(row['revenue'], '0g')} {row['currency']}" for row in totals)
    return [
        Figure("orders", _("Orders"), floatformat(count, "0g"), hint=_("Paid or fulfilled orders"), order=10),
        Figure("revenue", _("Revenue"), revenue or "—", hint=_("Total of the paid orders"), order=20),
    ]


@section("quotes")
def quotes(request: HttpRequest, contact, forms: dict[str, Any]) -> dict[str, Any]:
    """The person's latest quotes, for sales/_contact_quotes.html (an expired one reads "Expired")."""
    return {"contact_quotes": contact.quotes.select_related("deal").order_by("-issued_on", "-id")[:10]}
