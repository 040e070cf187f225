"""What the parts above tickets do when a ticket changes state (the help desk sends the CSAT
question when a ticket is solved). Tickets cannot import them, so they register here::

    from solocrm.support.tickets.hooks import on_solved

    @on_solved
    def ask_for_satisfaction(ticket):
        ...

Listeners run inside the transaction that solved the ticket (what they write commits with it);
one that fails is logged and rolled back alone (a savepoint), and the ticket stays solved."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import transaction

if TYPE_CHECKING:
    from .models import Ticket

logger = logging.getLogger(__name__)

Listener = Callable[["Ticket"], None]
_solved: dict[str, Listener] = {}


def on_solved(func: Listener) -> Listener:
    """Call ``func(ticket)`` each time a ticket becomes solved (again after a reopen)."""
    _solved[f"{func.__module__}.{func.__qualname__}"] = func
    return func


def notify_solved(ticket: Ticket) -> None:
    """Called by the ticket services when ``ticket`` becomes solved."""
    for name, listener in _solved.items():
        try:
            with transaction.atomic():
                listener(ticket)
        except Exception:
            logger.exception("ticket listener %s failed on ticket #%s", name, ticket.number)
