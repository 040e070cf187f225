"""The app shell around every page: navigation, the "New" menu by role, the user menu, themes
without inline script, toasts, and the icons that replaced Unicode symbols."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.fallback import FallbackStorage
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import resolve, reverse

from solocrm.contacts.choices import InteractionKind
from solocrm.web.templatetags.web_tags import KIND_ICONS, TODAY_ICONS, kind_icon, nav_section, today_icon

pytestmark = pytest.mark.django_db


def _home(client) -> str:
    return client.get(reverse("contacts:list")).content.decode()


def test_the_shell_has_the_sidebar_top_bar_bottom_bar_and_slots(owner_client):
    html = _home(owner_client)
    assert 'id="sidebar"' in html and 'class="topbar"' in html and 'class="bottom-bar"' in html
    assert 'role="search"' in html and 'name="q"' in html  # the global search slot
    # The slots other parts fill: banners first in <main>, then messages.
    main = html.split('<main id="main"', 1)[1]
    assert main.index("page-actions") > 0
    # The theme is set before the first paint by a static script, not inline, and not deferred.
    assert re.search(r'<script src="/static/web/theme\.js"></script>', html)
    assert 'src="/static/web/palette.js" defer' in html
    assert not re.search(r"<script>(?!</script>)", html), "no inline script"
    assert 'style="' not in html


def test_the_current_place_is_marked_in_the_sidebar_and_the_bottom_bar(owner_client):
    html = _home(owner_client)
    assert html.count('<a href="/contacts/" aria-current="page">') == 2


def test_owners_get_the_new_menu_with_pages_that_exist(owner_client):
    html = _home(owner_client)
    menu = html.split('class="dropdown new-menu"', 1)[1].split("</details>", 1)[0]
    links = re.findall(r'href="([^"]+)"', menu)
    assert links == [
        reverse("contacts:create"),
        reverse("contacts:company_create"),
        reverse("sales:deal_create"),
        reverse("sales:deal_list"),
        reverse("sales:task_list") + "#new-task-title",
        reverse("support:ticket_create"),
        reverse("contacts:import_upload"),
    ]
    for link in links:
        resolve(link.split("#")[0])


def test_viewers_get_no_new_menu_and_no_import(viewer_client):
    html = _home(viewer_client)
    assert "new-menu" not in html
    assert reverse("contacts:import_upload") not in html


def test_the_user_menu_links_to_real_pages(owner_client):
    html = _home(owner_client)
    menu = html.split('class="dropdown user-menu"', 1)[1].split("</details>", 1)[0]
    for name in ("account:preferences", "users:tokens", "jobs:list"):
        assert f'href="{reverse(name)}"' in menu
    assert "Signed in as Owner" in menu and 'class="avatar avatar-sm' in menu
    assert 'action="/accounts/logout/"' in menu and "data-theme-toggle" in menu


def test_signed_out_pages_get_a_slim_header(client, owner):
    html = client.get(reverse("login")).content.decode()
    assert 'id="sidebar"' not in html and "public-header" in html and "data-theme-toggle" in html


def test_messages_are_toasts_errors_stay_until_dismissed():
    request = RequestFactory().get("/")
    request.session = {}
    storage = FallbackStorage(request)
    storage.add(constants.SUCCESS, "Saved <b>")
    storage.add(constants.ERROR, "Broken")
    html = Template('{% include "web/_messages.html" %}').render(Context({"messages": storage}))
    assert 'role="status"' in html and html.count("data-toast") == 2
    assert "Saved &lt;b&gt;" in html  # escaped
    success, error = html.split('<li class="message')[1:]
    assert success.startswith(' success" data-toast>') and error.startswith(' error" data-toast data-sticky>')
    assert html.count("data-dismiss hidden") == 2  # shown by app.js only


def test_timeline_and_today_kinds_have_icons_not_glyphs():
    assert set(KIND_ICONS) == set(InteractionKind)
    for kind in InteractionKind:
        assert str(kind_icon(kind)).startswith('<svg class="icon"')
    for kind in TODAY_ICONS:
        assert 'aria-hidden="true"' in str(today_icon(kind))
    assert str(today_icon("something new")).startswith("<svg")


def test_quotes_have_their_own_place_in_the_menu():
    assert nav_section(resolve(reverse("sales:quote_list"))) == "quotes"
    assert nav_section(resolve(reverse("sales:forecast"))) == "deals"
    assert nav_section(None) == ""


def test_no_page_template_uses_the_old_symbols():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    glyphs = re.compile("[☐★◆✎✉☎▾⚠↻▤➦◉⚙✓]")
    offenders = [
        str(path.relative_to(root))
        for path in root.glob("*/templates/**/*.html")
        if glyphs.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
