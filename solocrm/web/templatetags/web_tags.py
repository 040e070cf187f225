"""Small template helpers shared by every page."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from solocrm.contacts.choices import InteractionKind
from solocrm.lib.roles import Role
from solocrm.web.templatetags.ui import icon

register = template.Library()

# A Lucide icon per timeline kind (the entry's text says the kind too, so colour is not needed).
KIND_ICONS = {
    InteractionKind.NOTE: "sticky-note",
    InteractionKind.EMAIL_IN: "mail",
    InteractionKind.EMAIL_OUT: "send",
    InteractionKind.CALL: "phone",
    InteractionKind.MEETING: "users",
    InteractionKind.CHAT: "message-square",
    InteractionKind.SOCIAL: "at-sign",
    InteractionKind.FORM: "clipboard-list",
    InteractionKind.SURVEY: "star",
    InteractionKind.SYSTEM: "settings",
}


# A Lucide icon per kind of Today item (solocrm.lib.today); other modules' kinds get a dot.
TODAY_ICONS = {
    "task": "square-check-big",
    "lead": "star",
    "deal": "handshake",
    "quote": "file-text",
    "reorder": "refresh-cw",
    "at_risk": "triangle-alert",
    "ticket": "life-buoy",
}
FALLBACK_ICON = "info"


@register.filter
def today_icon(kind: str) -> SafeString:
    """The item's icon as inline SVG (decorative: the item's text names it)."""
    return icon(TODAY_ICONS.get(kind, FALLBACK_ICON), size=16)


@register.filter
def today_icon_name(kind: str) -> str:
    """The Lucide name, for templates that call {% icon %} themselves."""
    return TODAY_ICONS.get(kind, FALLBACK_ICON)


@register.filter
def signed_percent(value: float | None) -> str:
    """0.125 -> "+12.5 %", None -> "" (no figure to compare with)."""
    if value is None:
        return ""
    return f"{value * 100:+.1f} %"


# Which main-menu entry a page belongs to, by its URL name's namespace and prefix: the first
# matching prefix wins.
NAV_SECTIONS = {
    "web": [("home", "today"), ("settings", "settings")],
    "contacts": [("compan", "companies"), ("import", "import"), ("", "contacts")],
    "sales": [
        ("task", "tasks"), ("log_activity", "tasks"), ("lead", "leads"), ("product", "products"),
        ("board", "deals"), ("pipeline", "deals"), ("stage", "deals"), ("deal", "deals"),
        ("quote", "quotes"), ("forecast", "deals"),
    ],
    "analytics": [("", "analytics")],
    "support": [("", "support")],
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
def kind_icon(kind: str) -> SafeString:
    """The timeline entry's icon as inline SVG (decorative: the entry's text names the kind)."""
    return icon(KIND_ICONS.get(kind, FALLBACK_ICON), size=16)


@register.filter
def kind_icon_name(kind: str) -> str:
    return KIND_ICONS.get(kind, FALLBACK_ICON)
