"""Small template helpers shared by every page."""

from __future__ import annotations

from django import template

from solocrm.contacts.choices import InteractionKind
from solocrm.lib.roles import Role

register = template.Library()

# A glyph per timeline kind: readable without colour and without an icon font.
KIND_ICONS = {
    InteractionKind.NOTE: "✎",
    InteractionKind.EMAIL_IN: "✉",
    InteractionKind.EMAIL_OUT: "➦",
    InteractionKind.CALL: "☎",
    InteractionKind.MEETING: "◉",
    InteractionKind.CHAT: "…",
    InteractionKind.SOCIAL: "#",
    InteractionKind.FORM: "▤",
    InteractionKind.SYSTEM: "⚙",
}


# A glyph per kind of Today item (solocrm.lib.today); other modules' kinds fall back to "•".
TODAY_ICONS = {
    "task": "☐",
    "lead": "★",
    "deal": "◆",
    "quote": "▤",
    "reorder": "↻",
    "at_risk": "⚠",
}


@register.filter
def today_icon(kind: str) -> str:
    return TODAY_ICONS.get(kind, "•")


@register.filter
def signed_percent(value: float | None) -> str:
    """0.125 -> "+12.5 %", None -> "" (no figure to compare with)."""
    if value is None:
        return ""
    return f"{value * 100:+.1f} %"


# Which main-menu entry a page belongs to, by its URL name's namespace and prefix: the first
# matching prefix wins.
NAV_SECTIONS = {
    "web": [("home", "today")],
    "contacts": [("compan", "companies"), ("import", "import"), ("", "contacts")],
    "sales": [
        ("task", "tasks"), ("log_activity", "tasks"), ("lead", "leads"), ("product", "products"),
        ("board", "deals"), ("pipeline", "deals"), ("stage", "deals"), ("deal", "deals"),
        ("quote", "deals"), ("forecast", "deals"),
    ],
    "analytics": [("", "analytics")],
}  # fmt: skip


@register.filter
def nav_section(match) -> str:
    """The main-menu entry of the page that ``request.resolver_match`` names ("" for none)."""
    if match is None:
        return ""
    for prefix, section in NAV_SECTIONS.get(match.namespace, []):
        if match.url_name.startswith(prefix):
            return section
    return ""


@register.filter
def role_label(value: str | None) -> str:
    """'owner' -> 'Owner' in the current language."""
    try:
        return str(Role(value).label)
    except ValueError:
        return ""


@register.filter
def kind_icon(kind: str) -> str:
    return KIND_ICONS.get(kind, "•")
