"""Filters of the contact page's templates."""

from __future__ import annotations

from django import template

register = template.Library()

# The Lucide icon of each kind of timeline entry (the icons are vendored by the web app).
TIMELINE_ICONS = {
    "note": "sticky-note",
    "email_in": "inbox",
    "email_out": "send",
    "call": "phone",
    "meeting": "users",
    "chat": "message-square",
    "social": "megaphone",
    "form": "file-text",
    "survey": "star",
    "system": "info",
}


@register.filter
def timeline_icon(kind: str) -> str:
    """The icon name of a timeline entry's kind ("history" for one the page does not know)."""
    return TIMELINE_ICONS.get(kind, "history")
