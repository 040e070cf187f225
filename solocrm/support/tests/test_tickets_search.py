"""Tickets in global search (support/tickets/search.py): by number or subject; not for strangers."""

from django.contrib.auth.models import AnonymousUser

from solocrm.lib.search import search
from solocrm.support.tickets import services
from solocrm.support.tickets.choices import TicketSource


def found(text: str, user) -> list[tuple[str, str, str]]:
    _query, results = search(text, user, region="GB")
    return [(r.kind, r.title, r.url) for r in results if r.kind == "ticket"]


def test_a_ticket_is_found_by_number_or_subject(customer, owner):
    ticket = services.create_ticket(contact=customer, subject="Printer jam", body="", source=TicketSource.API)
    expected = ("ticket", f"#{ticket.number} Printer jam", f"/support/{ticket.uuid}/")
    assert expected in found("printer", owner)
    assert expected in found(f"#{ticket.number}", owner)
    assert found("printer", AnonymousUser()) == []
