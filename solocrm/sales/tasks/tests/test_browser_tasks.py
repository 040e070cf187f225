"""Tasks in a real browser: snooze a task with htmx on the tasks page, and on a phone log a
call from its task with the outcome and the next step. Set SOLOCRM_SCREENSHOT_DIR to keep the
screenshots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from solocrm.contacts.models import Contact, Interaction
from solocrm.sales.tasks.models import Task
from solocrm.sales.tasks.services import create_task
from solocrm.web.tests.browser import BROWSER_TEST, log_in, screenshot_dir

pytestmark = BROWSER_TEST


def test_snooze_on_the_tasks_page_and_log_a_call_on_a_phone(browser_page, live_server, owner, tmp_path):
    expect = pytest.importorskip("playwright.sync_api").expect
    page, shots = browser_page, screenshot_dir(tmp_path)
    ada = Contact.objects.create(first_name="Ada", last_name="Lovelace", phone="+442079460958")
    late = create_task(title="Renew the domain", due_at=timezone.now() - timedelta(days=2), actor=owner)
    call = create_task(
        title="Call Ada about the quote",
        kind="call",
        contact=ada,
        actor=owner,
        due_at=timezone.now() - timedelta(hours=2),
        recur_every=30,
        recur_unit="day",
    )

    log_in(page, live_server)
    page.goto(live_server.url + "/sales/tasks/")
    row = page.locator(f"#task-{late.uuid}")
    row.get_by_text("Snooze").click()
    row.get_by_role("button", name="Tomorrow 9:00").click()
    expect(page.locator(f"#task-{late.uuid}")).not_to_contain_text("overdue")
    late.refresh_from_db()
    assert late.snoozed_count == 1 and late.due_at > timezone.now()

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.screenshot(path=str(shots / "tasks-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator(f"#task-{call.uuid}").get_by_role("link", name="Log call").click()
    expect(page.get_by_role("heading", name="Log a call or meeting")).to_be_visible()
    page.get_by_text("Interested", exact=True).click()
    page.get_by_label("Notes").fill("Wants the quote by Friday.")
    page.get_by_label("Next task").fill("Send the quote")
    page.get_by_text("Tomorrow", exact=True).click()
    page.screenshot(path=str(shots / "log-call-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Log it and mark the task done").click()
    expect(page.get_by_text("Next: “Send the quote”")).to_be_visible()

    logged = Interaction.objects.get(kind="call")
    assert logged.data["outcome"] == "interested" and logged.contact == ada
    assert Task.objects.get(pk=call.pk).is_done
    assert Task.objects.filter(title="Call Ada about the quote", done_at__isnull=True).count() == 1  # repeats
    assert Task.objects.get(title="Send the quote").due_at.date() >= timezone.localdate()
    page.goto(live_server.url + "/account/preferences/")
    page.screenshot(path=str(shots / "preferences-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
