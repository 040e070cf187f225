"""A stranger sends the public lead form in a real browser — on its hosted page and inside an
<iframe> on a page of another origin — and the owner finds the lead.

Drives Debian's chromium through Playwright against pytest-django's live server. Set
SOLOCRM_SCREENSHOT_DIR to keep the phone-sized screenshots."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from solocrm.contacts.choices import InteractionKind
from solocrm.contacts.models import Contact, Interaction
from solocrm.sales.leadforms import services as leadforms
from solocrm.sales.leadforms.models import FormSubmission, LeadForm
from solocrm.sales.tasks.models import Task
from solocrm.web.tests.browser import BROWSER_TEST

pytestmark = BROWSER_TEST

CONSENT = "Yes, send me the monthly newsletter."
PASSWORD = "correct-horse-9"  # conftest's personas
PHONE = {"width": 390, "height": 844}


def _screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SOLOCRM_SCREENSHOT_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def lead_form(owner) -> LeadForm:
    return leadforms.create_lead_form(
        {
            "name": "Website contact",
            "title": "Tell us about your project",
            "introduction": "We answer every message within a working day.",
            "fields": ["first_name", "last_name", "email", "phone", "company", "message"],
            "required_fields": ["email", "first_name"],
            "consent_text": CONSENT,
            "source": "website",
            "thank_you": "Thanks! We will call you back soon.",
        },
        actor=owner,
    )


@pytest.fixture
def other_origin(tmp_path, live_server, lead_form) -> Iterator[str]:
    """The owner's website: a page on another origin (127.0.0.1 and another port, where the
    live server is localhost) with the embed snippet pasted in."""
    site = tmp_path / "site"
    site.mkdir()
    snippet = leadforms.embed_snippet(lead_form, None).replace('src="', f'src="{live_server.url}', 1)
    (site / "index.html").write_text(
        '<!doctype html><html><head><title>Studio</title><link rel="icon" href="data:,"></head>'
        f"<body><h1>Our studio</h1>{snippet}</body></html>",
        encoding="utf-8",
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


def _fill(scope, first: str, email: str) -> None:
    scope.get_by_label("First name (required)").fill(first)
    scope.get_by_label("Last name").fill("Lovelace")
    scope.get_by_label("E-mail (required)").fill(email)
    scope.get_by_label("Phone").fill("+44 20 7946 0958")
    scope.get_by_label("Company").fill("Analytical Engines")
    scope.get_by_label("Message").fill("We need a new logo <b>soon</b>.")
    scope.get_by_label(CONSENT).check()


def test_a_stranger_sends_the_form_and_the_owner_finds_the_lead(
    browser_page, live_server, lead_form, owner, mailoutbox, tmp_path
):
    page = browser_page
    expect = pytest.importorskip("playwright.sync_api").expect
    page.set_viewport_size(PHONE)

    # The stranger: a fresh browser without any session.
    page.goto(f"{live_server.url}/f/{lead_form.uuid}/")
    expect(page.get_by_role("heading", name="Tell us about your project")).to_be_visible()
    expect(page.get_by_role("navigation")).to_have_count(0)
    honeypot = page.get_by_label("Leave this field empty").bounding_box()
    assert honeypot is not None and honeypot["x"] + honeypot["width"] < 0  # off-screen, for bots only
    _fill(page, "Ada", "Ada@Example.com")
    page.screenshot(path=str(_screenshots(tmp_path) / "leadform-hosted-phone.png"), full_page=True)
    page.wait_for_timeout(2100)  # a person takes longer than the token's minimum age
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    expect(page.get_by_text("Thanks! We will call you back soon.")).to_be_visible()
    assert page.context.cookies() == []  # nothing was needed or set

    contact = Contact.objects.get(email="ada@example.com")
    assert (contact.lifecycle_stage, contact.source, contact.email_consent) == ("lead", "website", True)
    assert contact.email_consent_source == "form: Website contact"
    submission = FormSubmission.objects.get(contact=contact)
    assert (submission.consent_given, submission.consent_text) == (True, CONSENT)
    assert Interaction.objects.filter(
        contact=contact, kind=InteractionKind.FORM, subject="Website contact"
    ).exists()
    task = Task.objects.get(contact=contact, kind="follow_up")
    assert timezone.now() < task.due_at <= submission.created_at + timedelta(hours=24)
    assert len(mailoutbox) == 1 and f"/contacts/{contact.uuid}/" in mailoutbox[0].body

    # The owner logs in and finds the lead waiting for a reply.
    page.goto(f"{live_server.url}/accounts/login/?next=/sales/leads/")
    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Leads", exact=True)).to_be_visible()
    row = page.locator("tbody tr").filter(has_text="Ada Lovelace")
    expect(row).to_contain_text("website")
    expect(row).to_contain_text("waiting")
    page.screenshot(path=str(_screenshots(tmp_path) / "leads-phone.png"), full_page=True)
    page.goto(f"{live_server.url}/sales/forms/{lead_form.uuid}/")
    expect(page.get_by_label("Embed snippet")).to_have_value(leadforms.embed_snippet(lead_form, None).replace(
        'src="', f'src="{live_server.url}', 1))  # fmt: skip
    page.screenshot(path=str(_screenshots(tmp_path) / "leadform-detail-phone.png"), full_page=True)
    page.goto(f"{live_server.url}/sales/forms/{lead_form.uuid}/edit/")
    page.screenshot(path=str(_screenshots(tmp_path) / "leadform-edit-phone.png"), full_page=True)
    page.goto(f"{live_server.url}/sales/leads/")
    page.get_by_role("link", name="Convert").click()
    page.get_by_label("A customer").check()
    page.get_by_label("Amount").fill("1500")
    page.screenshot(path=str(_screenshots(tmp_path) / "leads-convert-phone.png"), full_page=True)
    page.get_by_role("button", name="Convert").click()
    expect(page.get_by_text("Ada Lovelace is now a customer.")).to_be_visible()
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "customer" and contact.deals.get().amount == 1500


def test_the_embedded_form_works_inside_an_iframe_on_another_site(
    browser_page, live_server, lead_form, other_origin, tmp_path
):
    page = browser_page
    expect = pytest.importorskip("playwright.sync_api").expect
    page.goto(other_origin)
    expect(page.get_by_role("heading", name="Our studio")).to_be_visible()
    frame = page.frame_locator("iframe")
    expect(frame.get_by_role("heading", name="Tell us about your project")).to_be_visible()
    _fill(frame, "Grace", "grace@example.com")
    page.screenshot(path=str(_screenshots(tmp_path) / "leadform-embedded-filled.png"), full_page=True)
    page.wait_for_timeout(2100)
    frame.get_by_role("button", name="Send").click()
    expect(frame.get_by_text("Thanks! We will call you back soon.")).to_be_visible()
    page.screenshot(path=str(_screenshots(tmp_path) / "leadform-embedded.png"), full_page=True)

    submission = FormSubmission.objects.get(contact__email="grace@example.com")
    assert submission.page_url.startswith("http://127.0.0.1:")  # the owner's page, from the Referer
    assert submission.consent_text == CONSENT
