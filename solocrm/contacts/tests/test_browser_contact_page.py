"""The contact page in a real browser: compose a note and edit a detail and a custom field in
place, without a page load, at 1280 px and on a 390 px phone. Set SOLOCRM_SCREENSHOT_DIR to keep
the screenshots."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from solocrm.analytics.models import CustomerScore
from solocrm.contacts.models import Company, Contact
from solocrm.contacts.services import add_interaction, set_tags
from solocrm.sales.models import Order
from solocrm.sales.tasks.services import create_task
from solocrm.web.tests.browser import BROWSER_TEST, log_in, screenshot_dir

pytestmark = BROWSER_TEST


def _customer(owner) -> Contact:
    ada = Contact.objects.create(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        phone="+442079460958",
        title="Head of purchasing",
        company=Company.objects.create(name="Analytical Engines Ltd"),
        lifecycle_stage="repeat",
        channel="referral",
        source="Spring fair",
        street="12 St James's Square",
        city="London",
        postal_code="SW1Y 4JH",
        country="United Kingdom",
        owner=owner,
        custom_fields={"Shoe size": 38, "Preferred language": "en"},
    )
    set_tags(ada, ["vip", "newsletter"])
    now = timezone.now()
    for days, total in ((200, "420.00"), (90, "1260.50"), (12, "318.00")):
        Order.objects.create(
            contact=ada, total=Decimal(total), status="paid", ordered_at=now - timedelta(days=days)
        )
    CustomerScore.objects.create(contact=ada, computed_at=now, clv=Decimal("2480"), churn_risk=0.18)
    add_interaction(
        ada,
        kind="email_in",
        subject="Re: your quote",
        body="Looks good, send the invoice.",
        occurred_at=now - timedelta(days=6),
    )
    add_interaction(
        ada,
        kind="call",
        subject="Follow-up",
        body="Wants 20 more units in March.",
        occurred_at=now - timedelta(days=2),
    )
    create_task(title="Send the March quote", contact=ada, actor=owner, due_at=now + timedelta(days=3))
    return ada


def test_compose_a_note_and_edit_in_place(browser_page, live_server, owner, tmp_path):
    expect = pytest.importorskip("playwright.sync_api").expect
    page, shots = browser_page, screenshot_dir(tmp_path)
    ada = _customer(owner)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/contacts/{ada.uuid}/")
    page.screenshot(path=str(shots / "contact-1280.png"), full_page=True)
    expect(page.locator("#contact-figures")).to_contain_text("1,999 USD")

    # A note through the composer: the timeline shows it without a page load.
    page.evaluate("window.__same_page = true")
    page.locator("#composer textarea[name=body]").fill("Prefers calls after 3 pm <b>really</b>")
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator("#timeline")).to_contain_text("Prefers calls after 3 pm <b>really</b>")
    expect(page.locator("#composer")).to_contain_text("Added to the timeline")
    assert page.evaluate("window.__same_page") is True
    assert ada.interactions.filter(kind="note").count() == 1

    # The filter keeps to the URL.
    page.locator(".timeline-filter").get_by_role("link", name="Calls").click()
    expect(page.locator("#timeline")).not_to_contain_text("Prefers calls after 3 pm")
    expect(page).to_have_url(f"{live_server.url}/contacts/{ada.uuid}/?kind=call")

    # A detail and a custom field, edited in place.
    page.locator("#detail-title").get_by_role("link").click()
    page.locator("#detail-title input[name=title]").fill("Director of purchasing")
    page.locator("#detail-title").get_by_role("button", name="Save").click()
    expect(page.locator("#contact-header")).to_contain_text("Director of purchasing")
    page.get_by_role("link", name="Add a custom field").click()
    page.locator("input[name=new_custom_key]").fill("Loyalty id")
    page.locator("input[name=new_custom_value]").fill("L-2291")
    page.locator("#detail-custom_new").get_by_role("button", name="Save").click()
    expect(page.locator("#custom-fields")).to_contain_text("L-2291")
    assert page.evaluate("window.__same_page") is True
    ada.refresh_from_db()
    assert ada.title == "Director of purchasing" and ada.custom_fields["Loyalty id"] == "L-2291"

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/contacts/{ada.uuid}/")
    page.screenshot(path=str(shots / "contact-390.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
