"""The knowledge base in a real browser: the owner writes an article with the live preview and
links another article with one click; a stranger reads it in Chinese and answers "was this
helpful?" on a phone."""

from __future__ import annotations

import pytest

from solocrm.support.kb import services
from solocrm.support.kb.choices import ArticleStatus
from solocrm.support.kb.models import Article
from solocrm.web.tests.browser import BROWSER_TEST, log_in, screenshot_dir

pytestmark = BROWSER_TEST


@pytest.fixture
def shipping(owner) -> Article:
    return services.create_article(
        {"status": ArticleStatus.PUBLISHED, "slug": "shipping"},
        {"en": {"title": "Shipping times", "body": "Parcels leave in two days."}},
    )


def test_the_owner_writes_an_article_with_a_preview_and_a_link(browser_page, live_server, shipping, tmp_path):
    page = browser_page
    log_in(page, live_server)
    page.goto(live_server.url + "/support/kb/new/")
    page.locator("#id_title_en").fill("Refunds")
    page.locator("#id_body_en").fill("We refund **any** order.\n\nSee ")
    page.locator("#preview-en strong").wait_for()
    assert page.locator("#preview-en strong").inner_text() == "any"

    page.locator("#kb-link-q-en").fill("shipping")
    page.get_by_role("button", name="Shipping times").click()
    body = page.locator("#id_body_en").input_value()
    assert body.endswith(f"See [Shipping times]({live_server.url}/help/articles/shipping/?lang=en)")
    page.locator('#preview-en a[href$="/help/articles/shipping/?lang=en"]').wait_for()

    page.locator("#id_title_zh_hans").fill("退款")
    page.locator("#id_body_zh_hans").fill("我们为任何订单**退款**。")
    page.locator("#preview-zh_hans strong", has_text="退款").wait_for()
    assert "Shipping" not in page.locator("#preview-zh_hans").inner_text()
    page.locator("#id_status").select_option("published")
    page.get_by_role("button", name="Save").click()
    page.locator("h1", has_text="Refunds").wait_for()
    article = Article.objects.get(slug="refunds")
    assert article.is_published and set(article.versions()) == {"en", "zh-hans"}
    page.screenshot(path=str(screenshot_dir(tmp_path) / "kb-article.png"), full_page=True)


def test_a_stranger_reads_in_chinese_and_answers_on_a_phone(browser_page, live_server, owner, tmp_path):
    article = services.create_article(
        {"status": ArticleStatus.PUBLISHED, "slug": "refunds"},
        {
            "en": {"title": "Refunds", "body": "We refund any order."},
            "zh-hans": {"title": "退款", "body": "## 多久到账\n\n三到五天。"},
        },
    )
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/help/search/?q=退款&lang=zh-hans")
    page.get_by_role("link", name="退款").click()
    page.get_by_role("heading", name="多久到账").wait_for()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    page.get_by_role("button", name="是").click()
    page.get_by_text("感谢您的反馈。").wait_for()
    article.refresh_from_db()
    assert article.helpful_yes == 1
    page.screenshot(path=str(screenshot_dir(tmp_path) / "help-article-phone.png"), full_page=True)
