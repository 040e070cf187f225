from __future__ import annotations

import pytest
from django.template import Context, Template

from solocrm.web.templatetags.ui import ICON_DIR, icon, initials


def render(source: str, **context) -> str:
    return Template("{% load ui %}" + source).render(Context(context))


def test_icon_is_inline_svg_hidden_from_screen_readers():
    html = render('{% icon "search" %}')
    assert html.startswith('<svg class="icon"')
    assert 'aria-hidden="true"' in html
    assert "<circle" in html and "license" not in html


def test_icon_with_label_is_announced_and_escaped():
    html = render('{% icon "x" label=text %}', text='Close <b>"now"</b>')
    assert 'role="img"' in html
    assert "&lt;b&gt;" in html and "<b>" not in html


def test_unknown_or_malformed_icon_names_fail_loudly():
    with pytest.raises(ValueError, match="not vendored"):
        icon("no-such-icon")
    with pytest.raises(ValueError, match="not an icon name"):
        icon("../../settings")


def test_licence_ships_with_the_icons():
    assert "ISC License" in (ICON_DIR / "LICENSE").read_text()


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Ada Lovelace", "AL"), ("ada", "A"), ("张伟", "张"), ("", "?"), ("jo@example.com", "JC")],
)
def test_initials(name, expected):
    assert initials(name) == expected


def test_avatar_escapes_and_is_stable():
    first = render("{% avatar name %}", name="<script>")
    assert "&lt;" in first and "<script>" not in first
    assert first == render("{% avatar name %}", name="<script>")
