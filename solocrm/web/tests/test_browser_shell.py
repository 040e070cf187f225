"""The shell's own behaviour in a real browser: the theme switch and the collapsed sidebar are
remembered across pages, and on a phone the menu button opens the navigation as a drawer."""

from __future__ import annotations

import pytest
from django.urls import reverse

from solocrm.web.tests.browser import BROWSER_TEST

pytestmark = BROWSER_TEST


def _log_in(page, live_server) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill("correct-horse-9")
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(live_server.url + reverse("web:home"))


def test_theme_and_sidebar_are_remembered_and_the_phone_gets_a_drawer(browser_page, live_server, owner):
    expect = pytest.importorskip("playwright.sync_api").expect
    page = browser_page
    page.emulate_media(color_scheme="light")
    _log_in(page, live_server)
    html = page.locator("html")
    expect(html).not_to_have_attribute("data-theme", "dark")

    page.locator(".topbar .theme-toggle").click()
    expect(html).to_have_attribute("data-theme", "dark")
    page.goto(live_server.url + reverse("contacts:list"))
    expect(html).to_have_attribute("data-theme", "dark")  # set in <head>, before the first paint
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(14, 14, 16)"
    page.locator(".topbar .theme-toggle").click()  # back to the system's (light)
    expect(html).not_to_have_attribute("data-theme", "dark")

    collapse = page.locator("[data-sidebar-toggle]")
    expect(collapse).to_have_attribute("aria-expanded", "true")
    collapse.click()
    expect(html).to_have_attribute("data-sidebar", "collapsed")
    page.goto(live_server.url + reverse("sales:task_list"))
    expect(html).to_have_attribute("data-sidebar", "collapsed")
    expect(page.locator("[data-sidebar-toggle]")).to_have_attribute("aria-expanded", "false")
    # The labels are hidden from sight only: the links keep their names.
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts")).to_be_visible()
    assert page.locator(".app-sidebar").bounding_box()["width"] == 64

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    sidebar = page.locator("#sidebar")
    expect(sidebar).not_to_be_in_viewport()
    bar = page.get_by_role("navigation", name="Shortcuts")
    expect(bar.get_by_role("link", name="Tasks")).to_have_attribute("aria-current", "page")
    page.get_by_role("button", name="Menu").first.click()
    expect(sidebar).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(sidebar).not_to_be_in_viewport()
    bar.get_by_role("button", name="More").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Products").click()
    expect(page).to_have_url(live_server.url + reverse("sales:product_list"))
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390


def test_a_message_shows_as_a_toast_that_can_be_dismissed(browser_page, live_server, owner):
    expect = pytest.importorskip("playwright.sync_api").expect
    page = browser_page
    _log_in(page, live_server)
    page.goto(live_server.url + reverse("contacts:create"))
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("E-mail", exact=True).fill("ada@example.com")
    page.get_by_role("button", name="Save").click()
    toast = page.locator("[data-toast]")
    expect(toast).to_be_visible()
    expect(toast.get_by_role("button", name="Dismiss")).to_be_visible()
    toast.get_by_role("button", name="Dismiss").click()
    expect(toast).to_have_count(0)
