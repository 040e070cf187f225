"""The interface's building blocks as template tags: icons from the vendored Lucide set and
avatars from initials. Every page uses these instead of Unicode symbols or images of its own."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Lucide (ISC licence), pinned: only the icons the interface uses are vendored. To add one, copy
# its file from the `lucide-static` npm package of the same version into this folder.
ICON_DIR = Path(__file__).resolve().parent.parent / "static" / "web" / "vendor" / "lucide-1.87.0"
_ROOT_ATTRIBUTES = re.compile(r"<svg[^>]*>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


@lru_cache(maxsize=256)
def _icon_body(name: str) -> str:
    """The SVG's inner shapes; a name that is not vendored fails loudly, in tests and in dev."""
    if not re.fullmatch(r"[a-z0-9-]+", name):
        raise ValueError(f"not an icon name: {name!r}")
    path = ICON_DIR / f"{name}.svg"
    if not path.is_file():
        raise ValueError(f"icon {name!r} is not vendored in {ICON_DIR}")
    source = _COMMENT.sub("", path.read_text(encoding="utf-8"))
    body = _ROOT_ATTRIBUTES.sub("", source, count=1).replace("</svg>", "")
    return " ".join(body.split())


@register.simple_tag
def icon(name: str, size: int = 18, label: str = "", css: str = "") -> SafeString:
    """An inline SVG icon that takes the text colour. Decorative unless a label is given."""
    access = format_html('role="img" aria-label="{}"', label) if label else mark_safe('aria-hidden="true"')
    return format_html(
        '<svg class="icon{}" width="{}" height="{}" viewBox="0 0 24 24" fill="none" '
        'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" '
        'focusable="false" {}>{}</svg>',
        f" {css}" if css else "",
        int(size),
        int(size),
        access,
        mark_safe(_icon_body(name)),  # noqa: S308 - our own vendored files, never user input
    )


def initials(name: str) -> str:
    """One or two letters for an avatar: "Ada Lovelace" -> "AL", "张伟" -> "张伟"[:1]."""
    words = [word for word in re.split(r"[\s@._-]+", (name or "").strip()) if word]
    if not words:
        return "?"
    first = words[0][0]
    if not first.isascii() and not first.isalpha():
        return first
    if len(words) == 1 or not first.isascii():
        return first.upper()
    return (first + words[-1][0]).upper()


# Eight hues that keep white text above 4.5:1 contrast in both themes.
AVATAR_HUES = 8


@register.simple_tag
def avatar(name: str, size: str = "md") -> SafeString:
    """A round avatar with the person's initials, coloured by a stable hash of the name."""
    hue = int(hashlib.blake2s((name or "").encode(), digest_size=2).hexdigest(), 16) % AVATAR_HUES
    return format_html(
        '<span class="avatar avatar-{} avatar-hue-{}" aria-hidden="true">{}</span>',
        size if size in {"sm", "md", "lg"} else "md",
        hue,
        initials(name),
    )
