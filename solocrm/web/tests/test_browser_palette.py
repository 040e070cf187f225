"""The command palette in a real browser: Ctrl+K, type, arrows, Enter; "/" and Esc; "g c";
the "?" sheet."""

from __future__ import annotations

import re

import pytest

from solocrm.contacts import services
from solocrm.web.tests.browser import BROWSER_TEST, log_in

pytestmark = BROWSER_TEST


def test_the_palette_finds_a_person_and_opens_their_page(browser_page, live_server, owner, settings):
    expect = pytest.importorskip("playwright.sync_api").expect
    settings.SOLOCRM_PHONE_REGION = "GB"
    ada = services.create_contact(
        {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+447700900097"}
    )
    services.create_contact({"first_name": "伟", "last_name": "张", "email": "zw@example.cn"})
    page = browser_page
    log_in(page, live_server)
    page.goto(live_server.url + "/contacts/")
    if page.locator("#palette").count() == 0:
        pytest.skip("base.html does not include web/_palette.html yet (the shell's base.html does)")
    palette = page.locator("#palette")
    page.keyboard.press("Control+k")
    expect(palette).to_be_visible()
    combobox = page.get_by_role("combobox", name="Search or type a command")
    expect(combobox).to_be_focused()
    combobox.fill("07700 900097")
    option = page.get_by_role("option", name=re.compile("Ada Lovelace"))
    expect(option).to_be_visible()
    expect(option).to_have_attribute("aria-selected", "true")  # the first result is chosen
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/contacts/{ada.uuid}/$"))
    page.wait_for_load_state("load")  # palette.js (deferred) listens for keys once it has run

    page.keyboard.press("/")
    expect(palette).to_be_visible()
    page.get_by_role("combobox", name="Search or type a command").fill("张伟")
    expect(page.get_by_role("option", name=re.compile("张伟"))).to_be_visible()
    page.keyboard.press("Escape")
    expect(palette).to_be_hidden()

    page.locator("#header-search-q").click()  # the header's box opens it too
    expect(palette).to_be_visible()
    page.keyboard.press("Escape")
    expect(palette).to_be_hidden()
    page.evaluate("document.activeElement.blur()")  # focus went back to the box: keys type there

    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    expect(page.locator("#shortcuts")).to_contain_text("g c")
    page.keyboard.press("Escape")
    page.keyboard.press("g")
    page.keyboard.press("k")
    expect(page).to_have_url(re.compile("/sales/tasks/$"))
