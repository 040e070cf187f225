"""The deals board in a real browser: drag a card to Won and find the order, the lost-reason
dialog, a refused drop that puts the card back, and the keyboard/no-JavaScript "Move" form.

Set SOLOCRM_SCREENSHOT_DIR to keep the phone-sized screenshots of the deal pages."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

from solocrm.contacts.models import Contact
from solocrm.sales.choices import LostReason, StageKind
from solocrm.sales.deals.models import Deal
from solocrm.sales.deals.services import create_deal, default_pipeline, move_deal
from solocrm.sales.orders.models import Order
from solocrm.web.tests.browser import BROWSER_TEST, CHROMIUM, log_in

pytestmark = BROWSER_TEST


def _drag(page, card, target) -> None:
    """Drag with real pointer movement: SortableJS (fallback mode) follows mouse events. A column
    beyond the board's visible width is reached as a person does: holding the card at the
    board's edge until SortableJS has scrolled it there."""
    card.scroll_into_view_if_needed()
    # The card's column at the left edge of the board's frame: the columns after it are in view.
    card.evaluate(
        "c => { c.closest('.board-scroll').scrollLeft = c.closest('.board-column').offsetLeft - 8; }"
    )
    start = card.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + 12)
    page.mouse.down()
    page.wait_for_timeout(50)
    page.mouse.move(start["x"] + start["width"] / 2 + 10, start["y"] + 20, steps=5)
    frame = page.locator(".board-scroll").bounding_box()
    for _attempt in range(60):
        end = target.bounding_box()
        if end["x"] >= frame["x"] and end["x"] + end["width"] <= frame["x"] + frame["width"] + 1:
            break
        edge = frame["x"] + frame["width"] - 8 if end["x"] > frame["x"] else frame["x"] + 8
        page.mouse.move(edge, start["y"] + 40, steps=3)
        page.wait_for_timeout(100)
    end = target.bounding_box()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 30, steps=25)
    page.mouse.up()


def _wide(page) -> None:
    """All six 272 px columns side by side (at 1280 px the board scrolls sideways to the last two)."""
    page.set_viewport_size({"width": 1800, "height": 900})


def _column(page, stage):
    return page.locator(f'ol.board-cards[data-stage="{stage.uuid}"]')


@pytest.fixture
def board(owner):
    pipeline = default_pipeline()
    ada = Contact.objects.create(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    deal = create_deal({"title": "Website redesign", "contact": ada, "amount": Decimal("1200")}, actor=owner)
    other = create_deal({"title": "Logo", "amount": Decimal("300")}, actor=owner)
    return {"pipeline": pipeline, "deal": deal, "other": other, "ada": ada,
            "stages": {s.kind if s.kind != "open" else s.name: s for s in pipeline.stages.all()}}  # fmt: skip


def test_dragging_a_deal_to_won_creates_the_order_shown_on_the_contact_page(browser_page, live_server, board):
    expect = pytest.importorskip("playwright.sync_api").expect
    page = browser_page
    _wide(page)
    log_in(page, live_server)
    page.goto(live_server.url + "/sales/pipeline/")
    won = board["stages"][StageKind.WON]
    move_deal(board["deal"], board["stages"]["Negotiation"])  # the column next to Won
    page.reload()
    card = page.locator(f"#deal-{board['deal'].uuid}")
    _drag(page, card, _column(page, won))

    status = page.locator("#board-status")
    expect(status).to_contain_text("is won: its order was created")
    expect(_column(page, won).locator(f"#deal-{board['deal'].uuid}")).to_be_visible()
    expect(page.locator(f"#head-{won.uuid} .badge")).to_contain_text("1")
    order = Order.objects.get()
    assert order.total == Decimal("1200.00") and order.contact == board["ada"]
    if folder := os.environ.get("SOLOCRM_SCREENSHOT_DIR"):
        page.screenshot(path=str(Path(folder) / "deals-board-desktop.png"))

    status.get_by_role("link", name="See the order").click()
    expect(page).to_have_url(re.compile(rf"/contacts/{board['ada'].uuid}/"))
    orders = page.locator("section[aria-labelledby=orders-title]")
    expect(orders).to_contain_text("Deal Website redesign")
    expect(orders).to_contain_text("1,200.00 USD")


def test_a_drop_on_lost_asks_the_reason_and_cancel_puts_the_card_back(browser_page, live_server, board):
    expect = pytest.importorskip("playwright.sync_api").expect
    page = browser_page
    _wide(page)
    log_in(page, live_server)
    page.goto(live_server.url + "/sales/pipeline/")
    lost, first = board["stages"][StageKind.LOST], board["stages"]["New lead"]
    card = page.locator(f"#deal-{board['other'].uuid}")

    _drag(page, card, _column(page, lost))
    dialog = page.locator("#lost-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(_column(page, first).locator(f"#deal-{board['other'].uuid}")).to_be_visible()
    assert Deal.objects.get(pk=board["other"].pk).is_open
    page.wait_for_timeout(300)  # the card's animation back into its column

    _drag(page, page.locator(f"#deal-{board['other'].uuid}"), _column(page, lost))
    dialog.get_by_role("button", name="Mark as lost").click()
    expect(dialog.locator("#lost-dialog-error")).to_be_visible()  # no reason chosen yet
    dialog.get_by_label("Why was it lost?").select_option(LostReason.COMPETITOR)
    dialog.get_by_role("button", name="Mark as lost").click()
    expect(page.locator("#board-status")).to_contain_text("is now in Lost")
    deal = Deal.objects.get(pk=board["other"].pk)
    assert (deal.stage.kind, deal.lost_reason) == (StageKind.LOST, LostReason.COMPETITOR)


@pytest.fixture
def refusing_page(live_server, monkeypatch):
    """Like ``browser_page``, but the browser's own "Failed to load resource" line for the refused
    request (a 404 the test provokes) is not an error; any other JavaScript error still is."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda m: m.type == "error" and "Failed to load resource" not in m.text and errors.append(m.text),
        )
        yield page
        browser.close()
        assert errors == [], f"the browser reported errors: {errors}"


def test_a_filtered_board_drag_updates_both_column_totals_and_keeps_the_filter(
    browser_page, live_server, board, owner
):
    expect = pytest.importorskip("playwright.sync_api").expect
    page = browser_page
    create_deal({"title": "Someone else's", "amount": Decimal("5000")})  # no owner: filtered out
    log_in(page, live_server)
    page.goto(live_server.url + "/sales/pipeline/")
    page.get_by_label("Owner").select_option(owner.username)  # submits the filter form
    expect(page).to_have_url(re.compile(rf"owner={owner.username}"))
    first, qualified = board["stages"]["New lead"], board["stages"]["Qualified"]
    expect(page.locator(f"#head-{first.uuid} .board-count")).to_contain_text("2")
    expect(page.locator(f"#head-{first.uuid} .board-totals")).to_contain_text("1,500.00 USD")
    _drag(page, page.locator(f"#deal-{board['deal'].uuid}"), _column(page, qualified))
    expect(page.locator("#board-status")).to_contain_text("is now in Qualified")
    expect(page.locator(f"#head-{first.uuid} .board-totals")).to_contain_text("300.00 USD")
    expect(page.locator(f"#head-{first.uuid} .board-count")).to_contain_text("1")
    expect(page.locator(f"#head-{qualified.uuid} .board-totals")).to_contain_text("1,200.00 USD")
    assert Deal.objects.get(pk=board["deal"].pk).stage == qualified
    # One screen tall at 1280 × 800, and the cards are compact: the title on one or two lines.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + "/sales/pipeline/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    title = page.locator(f"#deal-{board['deal'].uuid} .deal-card-title")
    line = title.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    assert title.bounding_box()["height"] < 2.6 * line


def test_a_refused_drop_puts_the_card_back_and_says_why(refusing_page, live_server, board):
    expect = pytest.importorskip("playwright.sync_api").expect
    page = refusing_page
    log_in(page, live_server)
    page.goto(live_server.url + "/sales/pipeline/")
    # Someone deletes the deal in the meantime: the move answers 404 and the card goes back.
    uuid = board["other"].uuid
    Deal.objects.filter(pk=board["other"].pk).delete()
    _drag(page, page.locator(f"#deal-{uuid}"), _column(page, board["stages"]["Proposal"]))
    expect(page.locator("#board-status")).to_contain_text("could not be moved")
    expect(_column(page, board["stages"]["New lead"]).locator(f"#deal-{uuid}")).to_be_visible()


def test_the_cards_move_form_works_from_the_keyboard(browser_page, live_server, board, tmp_path):
    expect = pytest.importorskip("playwright.sync_api").expect
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server)
    page.goto(live_server.url + "/sales/pipeline/")
    card = page.locator(f"#deal-{board['deal'].uuid}")
    card.get_by_text("Move", exact=False).first.focus()
    page.keyboard.press("Enter")  # opens the card's <details>
    card.get_by_label("Stage of “Website redesign”").select_option(label="Proposal")
    card.get_by_role("button", name="Move").press("Enter")
    expect(page.locator(".messages")).to_contain_text("is now in Proposal")
    expect(_column(page, board["stages"]["Proposal"]).locator(f"#deal-{board['deal'].uuid}")).to_be_visible()
    assert Deal.objects.get(pk=board["deal"].pk).stage.name == "Proposal"

    shots = Path(os.environ.get("SOLOCRM_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    # The board scrolls sideways inside itself; the page does not.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.evaluate(
        "Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 8).join(' ')"
    )
    page.screenshot(path=str(shots / "deals-board-phone.png"), full_page=True)
    move_deal(board["other"], board["stages"]["Qualified"])
    for name, path in [
        ("deals-detail-phone", f"/sales/deals/{board['deal'].uuid}/"),
        ("deals-list-phone", "/sales/deals/"),
        ("deals-forecast-phone", "/sales/forecast/"),
        ("deals-settings-phone", "/sales/pipeline/settings/"),
        ("deals-new-phone", "/sales/deals/new/"),
    ]:
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width}px wide on a phone"
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
