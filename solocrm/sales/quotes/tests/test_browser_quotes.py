"""A quote in a real browser: the owner builds it on a deal (a product and a line of their own,
live totals), sends it, and a stranger opens the e-mailed link, accepts, and sees the
confirmation; the deal is won and its order exists. Screenshots at phone size go to
SOLOCRM_SCREENSHOT_DIR when it is set."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from solocrm.sales.choices import QuoteStatus, StageKind
from solocrm.sales.deals.models import Deal
from solocrm.sales.orders.models import Product
from solocrm.sales.quotes.models import Quote
from solocrm.web.tests.browser import BROWSER_TEST, log_in, screenshot_dir

pytestmark = BROWSER_TEST


@pytest.fixture
def refusing_page(live_server, monkeypatch):
    """Like ``browser_page``, but the browser's own "Failed to load resource" line for a refused
    change (the 409 the test provokes) is not an error; any other JavaScript error still is."""
    from solocrm.web.tests.browser import CHROMIUM

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


def test_lines_are_edited_in_place_from_the_keyboard(refusing_page, live_server, deal, tmp_path):
    """No page reload: a quantity saved on Tab, Enter in the last line adds one, Alt+↑ moves
    the line with the focus, the remove button is reachable, and another tab's change is
    refused with a message."""
    from solocrm.sales.quotes import services as quotes
    from solocrm.sales.quotes.tests.quote_helpers import line

    expect = pytest.importorskip("playwright.sync_api").expect
    page = refusing_page
    quote = quotes.create_quote(
        deal, lines=[line("Planting plan", "1", "450.00"), line("Visit", "1", "80.00")]
    )
    log_in(page, live_server)
    page.goto(f"{live_server.url}/sales/quotes/{quote.uuid}/edit/")
    page.evaluate("window.notReloaded = true")

    quantity = page.locator("#id_lines-0-quantity")
    quantity.fill("2")
    quantity.press("Tab")
    expect(page.locator("#line-total-0")).to_have_text("900.00 EUR")
    expect(page.locator("#quote-totals")).to_contain_text("980.00 EUR")
    expect(page.locator("#id_lines-0-unit_price")).to_be_focused()  # Tab order: along the row

    page.locator("#id_lines-1-unit_price").press("Enter")  # the last line: adds a new one
    expect(page.locator("#id_lines-2-name")).to_be_focused()
    page.keyboard.type("Pruning")
    page.keyboard.press("Tab")
    page.keyboard.press("Alt+ArrowUp")  # from the description of line 3: it moves up
    expect(page.locator("#id_lines-1-name")).to_have_value("Pruning")
    expect(page.locator("#id_lines-1-description")).to_be_focused()
    assert [ln.name for ln in quote.lines.order_by("position")] == ["Planting plan", "Pruning", "Visit"]

    page.wait_for_load_state("networkidle")  # the saves of what was typed have come back
    page.get_by_role("button", name="Remove line 3").click()
    expect(page.locator("tr.quote-line")).to_have_count(2)
    expect(page.locator("#quote-totals")).to_contain_text("900.00 EUR")
    assert page.evaluate("window.notReloaded") is True

    quotes.add_line(Quote.objects.get(pk=quote.pk), {"name": "Added elsewhere"})  # another tab
    page.locator("#id_lines-0-quantity").fill("5")
    page.locator("#id_lines-0-quantity").press("Tab")
    expect(page.locator("#quote-alert")).to_contain_text("changed in another tab")
    assert quote.lines.filter(name="Added elsewhere").exists()
    assert quote.lines.get(name="Planting plan").quantity == Decimal("2")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshot_dir(tmp_path) / "quote-lines-phone.png"), full_page=True)


def test_build_send_and_accept_a_quote(browser_page, live_server, deal, mailoutbox, tmp_path):
    expect = pytest.importorskip("playwright.sync_api").expect
    page = browser_page
    shots = screenshot_dir(tmp_path)
    Product.objects.create(name="Design hour", sku="DH-1", price=Decimal("80.00"), currency="EUR")
    log_in(page, live_server)

    page.goto(f"{live_server.url}/sales/deals/{deal.uuid}/quotes/new/")
    page.get_by_role("button", name="Create the quote").click()
    expect(page.get_by_role("heading", name=re.compile(r"Quote Q-\d{4}-0001"))).to_be_visible()

    # The product picker searches as you type; a pick adds the line at once (saved, no reload).
    page.get_by_label("Add a product").fill("dh-1")
    page.get_by_role("button", name=re.compile("Design hour")).click()
    expect(page.locator("#id_lines-0-name")).to_have_value("Design hour")
    page.get_by_role("button", name="Add a line").click()
    expect(page.locator("#id_lines-1-name")).to_have_value("New line")
    page.locator("#id_lines-1-name").fill("Planting plan")
    page.locator("#id_lines-1-unit_price").fill("450")
    page.locator("#id_lines-0-quantity").fill("3")
    page.locator("#id_lines-1-tax_rate").fill("20")
    # htmx recomputes on the server as you type: 3 × 80 + 450 = 690, tax 90 → 780
    expect(page.locator("#quote-totals")).to_contain_text("780.00 EUR")
    expect(page.locator("#line-total-0")).to_have_text("240.00 EUR")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(shots / "quote-builder-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Save", exact=True).last.click()
    expect(page.get_by_text("saved.")).to_be_visible()

    page.get_by_role("link", name="Send", exact=True).click()
    expect(page.get_by_label("Send to")).to_have_value("ada@example.com")
    page.get_by_label("Message").fill("Dear Ada, as discussed.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("sent to ada@example.com")).to_be_visible()

    [message] = mailoutbox
    link = re.search(r"https?://[^\s]+/q/[^\s]+/", message.body)[0]
    assert link.startswith(live_server.url)

    page.context.clear_cookies()  # from here on a stranger: no session
    stranger = page.context.new_page()
    stranger.set_viewport_size({"width": 390, "height": 844})
    stranger.goto(link)
    expect(stranger.get_by_text("Planting plan")).to_be_visible()
    expect(stranger.locator(".quote-totals .grand").last).to_contain_text("780.00 EUR")
    assert stranger.evaluate("document.documentElement.scrollWidth") <= 390
    stranger.screenshot(path=str(shots / "quote-public-phone.png"), full_page=True)
    stranger.get_by_label("Your name").fill("Ada Lovelace")
    stranger.get_by_label("I accept this quote and its terms").check()
    stranger.get_by_role("button", name="Accept the quote").click()
    expect(stranger.get_by_text("Thank you: the quote is accepted.")).to_be_visible()
    stranger.screenshot(path=str(shots / "quote-accepted-phone.png"), full_page=True)
    stranger.close()

    quote = Quote.objects.get()
    assert (quote.status, quote.accepted_by, quote.total) == (
        QuoteStatus.ACCEPTED,
        "Ada Lovelace",
        Decimal("780.00"),
    )
    won = Deal.objects.select_related("stage", "order").get(pk=deal.pk)
    assert won.stage.kind == StageKind.WON
    assert won.order is not None and won.order.total == Decimal("780.00")
