"""The analytics flow in a real browser: refresh from the page, read the segment map and its
chart, download a table, follow a segment to a customer and see the scores explained."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from django.utils import timezone

from solocrm.web.demo import load_demo
from solocrm.web.tests.browser import BROWSER_TEST

pytestmark = BROWSER_TEST


def _log_in(page, url: str) -> None:
    page.goto(url + "/accounts/login/")
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill("correct-horse-9")
    page.get_by_label("Password").press("Enter")


def test_refresh_then_follow_a_segment_to_a_scored_customer(browser_page, live_server, owner):
    expect = pytest.importorskip("playwright.sync_api").expect
    load_demo(contacts=150, seed=4, end=timezone.localdate())
    page = browser_page
    _log_in(page, live_server.url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    page.get_by_role("button", name="Refresh now").click()
    expect(page.get_by_text("Customers scored")).to_be_visible()

    page.get_by_role("navigation", name="Analytics sections").get_by_role("link", name="Segments").click()
    expect(page).to_have_title(re.compile("Segments"))
    chart = page.locator("canvas[data-chart]").first
    expect(chart).to_be_visible()
    assert chart.evaluate("canvas => canvas.width") > 0  # Chart.js drew it
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").first.click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert len(rows) == 12  # the header and the 11 segments
    assert "Champions" in {row[0] for row in rows} | {row[1] for row in rows}

    page.get_by_role("link", name="Champions").first.click()
    expect(page.get_by_role("heading", name=re.compile("Champions"))).to_be_visible()
    page.locator("table a[href*='/contacts/']").first.click()
    scores = page.get_by_role("region", name="Scores")
    expect(scores).to_be_visible()
    expect(scores.get_by_text("Champions")).to_be_visible()
    expect(scores.get_by_text("P(alive)")).to_be_visible()


def test_old_data_are_flagged_and_scored_as_of_their_last_day_then_the_models_are_explained(
    browser_page, live_server, owner
):
    from solocrm.analytics import asof

    expect = pytest.importorskip("playwright.sync_api").expect
    load_demo(contacts=150, seed=4, end=date(2017, 10, 17))
    latest = asof.latest_order_day(timezone.localdate()).isoformat()
    page = browser_page
    _log_in(page, live_server.url)
    page.goto(live_server.url + "/analytics/")
    page.get_by_role("button", name="Refresh now").click()
    warning = page.get_by_role("alert").filter(has_text="The latest order is from")
    expect(warning).to_be_visible()
    warning.get_by_role("button", name=f"Refresh as of {latest}").click()
    expect(page.get_by_text("Scores as of").first).to_be_visible()
    expect(page.get_by_text("The latest order is from")).to_have_count(0)

    page.get_by_role("navigation", name="Analytics sections").get_by_role("link", name="Models").click()
    explained = page.get_by_role("region", name="What the models say")
    expect(explained).to_be_visible()
    expect(explained.get_by_text(re.compile("While they are active, customers buy about"))).to_be_visible()
    badge = explained.locator(".trust").first
    expect(badge).to_be_visible()
    assert re.match(r"(Fitted|Tested|Backtested|Silhouette|Of|AUC)", badge.get_attribute("title"))
