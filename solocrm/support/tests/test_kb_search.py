"""search_articles: the interface the help form's suggestions and the reply composer use."""

import pytest

from solocrm.support.kb import services
from solocrm.support.kb.choices import ArticleStatus
from solocrm.support.kb.models import HelpCenter

pytestmark = pytest.mark.django_db


def make_article(en=None, zh=None, status=ArticleStatus.PUBLISHED, **data):
    versions = {}
    if en:
        versions["en"] = {"title": en[0], "body": en[1]}
    if zh:
        versions["zh-hans"] = {"title": zh[0], "body": zh[1]}
    return services.create_article({"status": status, **data}, versions)


def test_it_finds_a_published_article_by_a_word_of_its_body():
    refund = make_article(en=("Refunds", "We refund any order within thirty days."))
    make_article(en=("Shipping", "Parcels leave within two days."))
    assert services.search_articles("thirty") == [refund]


def test_it_never_finds_a_draft():
    make_article(en=("Refunds", "We refund any order."), status=ArticleStatus.DRAFT)
    assert services.search_articles("refund") == []


def test_a_two_character_chinese_query_finds_the_article_containing_it():
    refund = make_article(zh=("如何申请", "您可以在三十天内申请退款，我们会尽快处理。"))
    make_article(zh=("发货时间", "包裹两天内发出。"))
    found = services.search_articles("退款")
    assert found == [refund]
    assert found[0].found.language == "zh-hans"


def test_a_chinese_query_of_three_characters_or_more_uses_the_index():
    refund = make_article(zh=("退款政策", "您可以在三十天内申请退款。"))
    assert services.search_articles("申请退款") == [refund]
    assert services.search_articles("退款 三十天") == [refund]


def test_a_short_latin_word_is_found_inside_words():
    tv = make_article(en=("Connecting a TV", "Plug the cable in."))
    assert services.search_articles("tv") == [tv]


def test_title_matches_come_first():
    body_only = make_article(en=("Shipping", "Invoices are sent with each parcel."))
    title = make_article(en=("Invoices", "Where to find them."))
    assert services.search_articles("invoices") == [title, body_only]


def test_the_language_keeps_to_articles_written_in_it():
    both = make_article(en=("Refunds", "Money back."), zh=("退款", "退款说明 refunds"))
    english_only = make_article(en=("Refunds for gifts", "Money back for gifts."))
    assert services.search_articles("refunds", language="zh-CN") == [both]
    assert set(services.search_articles("refunds", language="en")) == {both, english_only}


def test_the_limit_is_kept_and_each_article_comes_once():
    for n in range(4):
        make_article(en=(f"Billing {n}", "billing billing"), zh=(f"账单 {n}", "billing 账单"))
    found = services.search_articles("billing", limit=3)
    assert len(found) == len({a.pk for a in found}) == 3


def test_nothing_is_found_while_the_help_centre_is_closed():
    make_article(en=("Refunds", "Money back."))
    HelpCenter.objects.update_or_create(pk=1, defaults={"public": False})
    assert services.search_articles("refunds") == []


def test_blank_and_odd_queries_find_nothing_without_error():
    make_article(en=("Refunds", "Money back."))
    for query in ("", "   ", "\x00", '"', "a" * 500, "%", "_"):
        assert services.search_articles(query) == [] or query.startswith("a")


def test_the_absolute_url_is_the_public_page():
    article = make_article(en=("Refunds", "Money back."), slug="refunds")
    assert article.get_absolute_url() == "/help/articles/refunds/"
    assert article.get_absolute_url("zh") == "/help/articles/refunds/?lang=zh-hans"


def test_global_search_finds_articles_drafts_included_for_the_team(owner, viewer):
    from solocrm.lib.search import search

    draft = make_article(zh=("退款草稿", "申请退款"), status=ArticleStatus.DRAFT)
    _query, results = search("退款", owner, kinds=["articles"])
    assert [r.uuid for r in results] == [str(draft.uuid)]
    assert results[0].url == f"/support/kb/{draft.uuid}/" and results[0].icon == "circle-help"
    assert "<mark>退款</mark>" in results[0].title_html
    assert search("退款", None, kinds=["articles"])[1] == []
    assert search("+44 20 7946 0958", viewer, kinds=["articles"])[1] == []
