"""The "E-mail" links of other pages point to the compose page when e-mail can be sent from
the CRM (registered with solocrm.lib.email_links, which contacts, sales and Today use), and the
customer page gets its link through the customer-page registry."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse

from solocrm.lib import contact_page, email_links
from solocrm.lib.access import can
from solocrm.lib.business import business_settings
from solocrm.lib.roles import Action

from . import outgoing

_memo: list[Any] = [None, False]  # [the settings object of this request, can compose?]


def can_compose_now() -> bool:
    """``outgoing.can_compose()``, asked once per request: a page with many "E-mail" links
    (Today) costs one query. The key is this request's copy of the business settings (a new
    object each request; outside requests each call asks again)."""
    held = business_settings()
    if _memo[0] is not held:
        _memo[:] = [held, outgoing.can_compose()]
    return bool(_memo[1])


def compose_url(params: dict[str, Any]) -> str:
    if not can_compose_now():
        return ""
    query = urlencode({k: str(v) for k, v in params.items()})
    return reverse("mail_compose:compose") + (f"?{query}" if query else "")


email_links.use(compose_url)


@contact_page.section("mail_compose")
def compose_section(request: HttpRequest, contact, forms: dict[str, Any]) -> dict[str, Any]:
    """``compose_href`` for the page's "E-mail" button (viewers get mailto:, they cannot send)."""
    if not can(request.user, Action.EDIT):
        return {"compose_href": f"mailto:{contact.email}" if contact.email else ""}
    return {"compose_href": email_links.href(contact)}
