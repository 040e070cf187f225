"""Small template helpers shared by every page."""

from __future__ import annotations

from django import template

from solocrm.contacts.choices import InteractionKind
from solocrm.users.choices import Role

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
