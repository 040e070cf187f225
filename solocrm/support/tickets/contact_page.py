"""The customer page's "Tickets" section (solocrm.lib.contact_page): the person's latest
tickets with their SLA badge and a "New ticket" button."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from solocrm.lib.contact_page import section

from . import services


@section("tickets")
def tickets(request: HttpRequest, contact, forms: dict[str, Any]) -> dict[str, Any]:
    latest = list(contact.tickets.select_related("sla_policy").order_by("-created_at", "-id")[:10])
    for ticket in latest:
        ticket.sla = services.sla_summary(ticket)
    return {"contact_tickets": latest}
