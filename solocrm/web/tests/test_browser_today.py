"""The Today page in a real browser: complete a task, snooze a stalled deal, and on a phone."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from solocrm.contacts.models import Contact
from solocrm.sales.deals.services import create_deal
from solocrm.sales.models import Deal
from solocrm.sales.tasks.services import create_task
from solocrm.web.tests.browser import BROWSER_TEST, log_in

pytestmark = BROWSER_TEST


def test_complete_a_task_and_snooze_a_deal_from_today(browser_page, live_server, owner):
    expect = pytest.importorskip("playwright.sync_api").expect
    page = browser_page
    ada = Contact.objects.create(
        first_name="Ada", last_name="Lovelace", email="ada@example.com", lifecycle_stage="customer"
    )
    task = create_task(title="Send Ada the samples", contact=ada, due_at=timezone.now() - timedelta(days=1))
    create_deal({"title": "Brand refresh", "contact": ada, "amount": Decimal("4000")})
    Deal.objects.update(last_activity_at=timezone.now() - timedelta(days=20))

    log_in(page, live_server)
    items = page.locator("ol.today-list > li")
    expect(items).to_have_count(2)
    first = items.filter(has_text="Send Ada the samples")
    expect(first).to_contain_text("Overdue by 1 day")
    first.get_by_role("button", name="Done").click()
    expect(page.locator("ol.today-list")).not_to_contain_text("Send Ada the samples")
    task.refresh_from_db()
    assert task.is_done

    deal_item = items.filter(has_text="Brand refresh")
    expect(deal_item).to_contain_text("No activity for 20 days")
    deal_item.get_by_role("button", name="Snooze").click()
    expect(page.get_by_text("Nothing needs you today.")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
