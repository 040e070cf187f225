"""Tickets in global search (lib.search): by number ("12", "#12") or words of the subject.
A support desk's tickets number thousands, not millions: the subject is matched with the
database's ``icontains``, capped."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from solocrm.lib.search import SearchQuery, provider, result
from solocrm.sales.search import text_match

from .models import Ticket


@provider("tickets", order=45)
def tickets(query: SearchQuery, user, limit: int):
    if any(term.phone for term in query.terms) and len(query.terms) != 1:
        return
    condition = text_match(query, "subject")
    if len(query.terms) == 1:
        typed = query.terms[0].typed.strip().lstrip("#")
        if typed.isdigit() and len(typed) < 10:
            condition = Q(number=int(typed)) | condition
    found = Ticket.objects.filter(condition).select_related("contact")
    for ticket in found.order_by("-created_at")[: limit * 3]:
        details = [ticket.get_status_display(), str(ticket.contact) if ticket.contact else ""]
        yield result(
            query,
            kind="ticket",
            kind_label=_("Ticket"),
            title=f"#{ticket.number} {ticket.subject}",
            subtitle=" · ".join(d for d in details if d),
            url=reverse("support:ticket", args=[ticket.uuid]),
            icon="life-buoy",
            uuid=ticket.uuid,
        )
