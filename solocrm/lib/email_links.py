"""Where an "E-mail" link points: the CRM's compose page when e-mail can be sent from it, else
a ``mailto:`` link to the user's own mail program.

The mail app (above the apps whose pages carry these links) registers the compose page when it
starts, so contacts, sales and the Today list link to it without importing it::

    from solocrm.lib import email_links
    email_links.href(contact)                 # compose page (?contact=…) or "mailto:…"
    email_links.compose_url(deal=deal.uuid)   # "" when e-mail cannot be sent from the CRM
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Composer = Callable[[dict[str, Any]], str]
_composer: list[Composer] = []


def use(composer: Composer) -> None:
    """Register ``composer(params) -> URL`` ('' when the CRM cannot send e-mail now)."""
    _composer[:] = [composer]


def compose_url(**params: Any) -> str:
    """The compose page for ``params`` (contact=, deal=, company=, reply_to=, forward=), or ''."""
    if not _composer:
        return ""
    return _composer[0]({k: v for k, v in params.items() if v})


def href(contact: Any) -> str:
    """The link of a contact's "E-mail" button: compose page, else mailto:, else ''."""
    if contact is None or not getattr(contact, "email", ""):
        return ""
    return compose_url(contact=contact.uuid) or f"mailto:{contact.email}"
