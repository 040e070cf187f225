"""The first run in a real browser: set-up, import, the contact page, a note, a done task.

Drives Debian's chromium through Playwright against pytest-django's live server. Set
SOLOCRM_SCREENSHOT_DIR to keep the phone and desktop screenshots of the contact page."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from solocrm.contacts.models import Contact
from solocrm.users.setup import issue_setup_token
from solocrm.web.tests.browser import BROWSER_TEST

pytestmark = BROWSER_TEST

FIRST_FILE = """First Name,Last Name,E-mail,Phone,Company,Tags
Ada,Lovelace,ada@example.com,+44 20 7946 0958,Analytical Engines,vip
Grace,Hopper,grace@example.com,+1 202 555 0143,US Navy,
Katherine,Johnson,katherine@example.com,,NASA,newsletter
"""
# The same people again, one with a new phone number: an update, not a new contact.
SECOND_FILE = FIRST_FILE.replace("+44 20 7946 0958", "+44 20 7946 0000")


def _screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SOLOCRM_SCREENSHOT_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _import(page, tmp_path: Path, name: str, content: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    page.get_by_label("What the file holds").select_option("contacts")
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_role("heading", name="Check the import").wait_for()
    page.get_by_role("button", name="Run import").click()
    page.get_by_role("heading", name="Import report").wait_for()


def _count(page, label: str) -> str:
    return page.locator("#import-counts .stat").filter(has_text=label).locator("dd").inner_text()


def test_first_run_import_and_a_note(browser_page, live_server, tmp_path):
    page = browser_page
    expect = pytest.importorskip("playwright.sync_api").expect
    token = issue_setup_token()

    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/setup/$"))
    page.get_by_label("Set-up token").fill(token)
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("E-mail address").fill("olivia@example.com")
    page.get_by_label("Password", exact=True).fill("a-long-and-unusual-passphrase")
    page.get_by_label("Password confirmation").fill("a-long-and-unusual-passphrase")
    expect(page.get_by_label("Load demo data (about 2,000 customers)")).not_to_be_checked()
    page.get_by_role("button", name="Create owner account").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Today"))).to_be_visible()
    expect(page.get_by_text("No customers yet.")).to_be_visible()

    _import(page, tmp_path, "customers.csv", FIRST_FILE)
    assert _count(page, "Created") == "3"
    assert _count(page, "Rejected") == "0"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    page.get_by_label("Search", exact=True).fill("hopper")  # htmx live search swaps the table only
    expect(page.locator("#contact-results tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=hopper"))
    page.get_by_label("Search", exact=True).fill("")
    expect(page.locator("#contact-results tbody tr")).to_have_count(3)

    _import(page, tmp_path, "customers-2.csv", SECOND_FILE)
    assert _count(page, "Updated") == "1" and _count(page, "Unchanged") == "2"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Updated by import of customers-2.csv")
    # the importer keeps the known number and adds the new one
    expect(page.get_by_role("link", name="+442079460958")).to_be_visible()
    expect(page.locator("#detail-list")).to_contain_text("+442079460000")

    page.get_by_label("Text").fill("Called about the spring order.\nWants a quote by Friday.")
    page.get_by_role("button", name="Add the note").click()
    expect(timeline.locator("li").first).to_contain_text("Wants a quote by Friday.")
    expect(page.get_by_label("Text")).to_have_value("")  # a fresh form came back

    page.get_by_role("navigation", name="What to log").get_by_role("link", name="Task").click()
    page.get_by_role("textbox", name="Task", exact=True).fill("Send the quote")
    page.get_by_role("button", name="Add the task").click()
    expect(page.locator("#tasks")).to_contain_text("Send the quote")
    page.locator("#tasks").get_by_role("button", name="Mark “Send the quote” done").click()
    expect(page.locator("#tasks li.task.done")).to_contain_text("Send the quote")

    contact = Contact.objects.get(email="ada@example.com")
    assert contact.interactions.filter(body__contains="Wants a quote").exists()
    assert contact.tasks.get().is_done

    shots = _screenshot_dir(tmp_path)
    page.screenshot(path=str(shots / "contact-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    # On a phone nothing may stick out sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(shots / "contact-phone.png"), full_page=True)
