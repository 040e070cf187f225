"""The public help centre under /help/: strangers, no log-in, nothing revealed about drafts."""

import re

import pytest
from django.test import Client

from solocrm.support.kb import services
from solocrm.support.kb.choices import ArticleStatus
from solocrm.support.kb.models import Article, ArticleVote, Category, HelpCenter

pytestmark = pytest.mark.django_db


@pytest.fixture
def stranger(owner) -> Client:
    """A visitor with no session (the owner exists: before set-up every page leads there)."""
    return Client()


def make_article(slug, en=None, zh=None, status=ArticleStatus.PUBLISHED, **data):
    versions = {}
    if en:
        versions["en"] = {"title": en[0], "body": en[1]}
    if zh:
        versions["zh-hans"] = {"title": zh[0], "body": zh[1]}
    return services.create_article({"status": status, "slug": slug, **data}, versions)


def test_the_home_page_lists_categories_and_their_published_articles(stranger):
    billing = services.create_category({"name_en": "Billing", "name_zh_hans": "账单", "slug": "billing"})
    make_article("refunds", en=("Refunds", "Money back."), category=billing)
    make_article("secret", en=("Secret plan", "Not yet."), status=ArticleStatus.DRAFT, category=billing)
    make_article("misc", en=("Loose article", "No category."))
    response = stranger.get("/help/?lang=en")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Billing" in text and "Refunds" in text and "Loose article" in text
    assert "Secret plan" not in text
    assert "<script" not in text
    assert "script-src" not in response["Content-Security-Policy"]
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies


def test_the_category_page_shows_its_names_in_the_visitors_language(stranger):
    billing = services.create_category({"name_en": "Billing", "name_zh_hans": "账单", "slug": "billing"})
    make_article("refunds", en=("Refunds", "Money back."), zh=("退款", "退钱。"), category=billing)
    response = stranger.get("/help/categories/billing/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    text = response.content.decode()
    assert response.status_code == 200
    assert "账单" in text and "退款" in text and 'lang="zh-hans"' in text
    assert stranger.get("/help/categories/nope/").status_code == 404
    assert stranger.get("/help/categories/%00x/").status_code == 404
    assert stranger.post("/help/articles/%00x/helpful/", {"helpful": "yes"}).status_code == 404


def test_a_draft_answers_exactly_like_an_unknown_address(stranger):
    make_article("draft", en=("Draft", "Not yet."), status=ArticleStatus.DRAFT)
    draft = stranger.get("/help/articles/draft/")
    unknown = stranger.get("/help/articles/never-existed/")
    odd = stranger.get("/help/articles/%E2%80%AE%00x/")
    assert draft.status_code == unknown.status_code == odd.status_code == 404
    assert draft.content.replace(b"draft", b"X") == unknown.content.replace(b"never-existed", b"X")
    assert b"Draft" not in draft.content


def test_a_closed_help_centre_is_not_found(stranger):
    make_article("refunds", en=("Refunds", "Money back."))
    HelpCenter.objects.update_or_create(pk=1, defaults={"public": False})
    for url in ("/help/", "/help/articles/refunds/", "/help/search/?q=refunds"):
        assert stranger.get(url).status_code == 404


def test_the_article_is_shown_in_the_language_asked_for(stranger):
    make_article("refunds", en=("Refunds", "Money **back**."), zh=("退款", "退钱。"))
    english = stranger.get("/help/articles/refunds/?lang=en").content.decode()
    chinese = stranger.get("/help/articles/refunds/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<strong>back</strong>" in english and "退钱" not in english
    assert "退钱" in chinese and '<html lang="zh-hans">' in chinese
    for text in (english, chinese):
        assert 'hreflang="en" href="http://testserver/help/articles/refunds/?lang=en"' in text
        assert 'hreflang="zh-hans" href="http://testserver/help/articles/refunds/?lang=zh-hans"' in text


def test_a_missing_language_falls_back_to_the_other_with_a_note(stranger):
    make_article("chinese-only", zh=("退款", "退钱。"))
    response = stranger.get("/help/articles/chinese-only/?lang=en")
    text = response.content.decode()
    assert response.status_code == 200
    assert "退钱" in text and "not available in English" in text
    assert '<link rel="alternate" hreflang="en"' not in text


def test_a_not_indexable_article_says_noindex_in_the_page_and_the_header(stranger):
    make_article("private", en=("Private", "x"), indexable=False)
    make_article("public", en=("Public", "x"))
    hidden = stranger.get("/help/articles/private/")
    shown = stranger.get("/help/articles/public/")
    assert hidden["X-Robots-Tag"] == "noindex" and b'<meta name="robots" content="noindex">' in hidden.content
    assert "X-Robots-Tag" not in shown and b'name="robots"' not in shown.content


def test_the_help_centre_switch_makes_every_page_noindex(stranger):
    make_article("public", en=("Public", "x"))
    HelpCenter.objects.update_or_create(pk=1, defaults={"indexable": False})
    for url in ("/help/", "/help/articles/public/"):
        assert stranger.get(url)["X-Robots-Tag"] == "noindex"


def test_markdown_and_titles_cannot_inject_script(stranger):
    make_article(
        "evil",
        en=(
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)> [x](javascript:alert(1))\n\n# <b>h</b>",
        ),
    )
    text = stranger.get("/help/articles/evil/").content.decode()
    assert "<script>alert" not in text and "onerror" not in text.replace("onerror=alert(1)&gt;", "")
    assert 'href="javascript' not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_search_finds_a_chinese_article_by_two_characters(stranger):
    make_article("refunds-zh", zh=("如何申请", "您可以在三十天内申请退款。"))
    make_article("shipping", en=("Shipping", "Parcels."))
    response = stranger.get("/help/search/", {"q": "退款", "lang": "zh-hans"})
    text = response.content.decode()
    assert response.status_code == 200
    assert "/help/articles/refunds-zh/" in text and "/help/articles/shipping/" not in text
    assert response["X-Robots-Tag"] == "noindex"


def test_search_never_shows_drafts(stranger):
    make_article("draft", en=("Refund secrets", "refund"), status=ArticleStatus.DRAFT)
    assert b"/help/articles/draft/" not in stranger.get("/help/search/?q=refund").content


def _token(client, slug):
    page = client.get(f"/help/articles/{slug}/").content.decode()
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def test_a_vote_is_a_post_counted_once_per_visitor(stranger):
    article = make_article("refunds", en=("Refunds", "x"))
    token = _token(stranger, "refunds")
    assert stranger.get("/help/articles/refunds/helpful/?helpful=yes").status_code == 405
    response = stranger.post("/help/articles/refunds/helpful/?lang=en", {"helpful": "yes", "token": token})
    assert response.status_code == 303 and response["Location"].endswith("thanks=1#helpful")
    stranger.post("/help/articles/refunds/helpful/", {"helpful": "yes", "token": token})
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 0)
    stranger.post("/help/articles/refunds/helpful/", {"helpful": "no", "token": token})
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (0, 1)
    assert ArticleVote.objects.count() == 1
    assert b"Thank you" in stranger.get(response["Location"]).content


def test_a_vote_from_another_address_counts_separately(stranger):
    article = make_article("refunds", en=("Refunds", "x"))
    token = _token(stranger, "refunds")
    stranger.post("/help/articles/refunds/helpful/", {"helpful": "yes", "token": token})
    stranger.post(
        "/help/articles/refunds/helpful/", {"helpful": "yes", "token": token}, REMOTE_ADDR="203.0.113.9"
    )
    article.refresh_from_db()
    assert article.helpful_yes == 2


def test_a_vote_without_a_good_token_or_answer_is_refused(stranger):
    article = make_article("refunds", en=("Refunds", "x"))
    token = _token(stranger, "refunds")
    assert stranger.post("/help/articles/refunds/helpful/", {"helpful": "yes"}).status_code == 400
    assert (
        stranger.post("/help/articles/refunds/helpful/", {"helpful": "maybe", "token": token}).status_code
        == 400
    )
    other = make_article("other", en=("Other", "x"))
    assert (
        stranger.post("/help/articles/other/helpful/", {"helpful": "yes", "token": token}).status_code == 400
    )
    article.refresh_from_db()
    other.refresh_from_db()
    assert article.helpful_votes == other.helpful_votes == 0


def test_a_vote_on_a_draft_is_not_found(stranger):
    article = make_article("refunds", en=("Refunds", "x"))
    token = services.vote_token(article)
    Article.objects.filter(pk=article.pk).update(status=ArticleStatus.DRAFT)
    assert (
        stranger.post("/help/articles/refunds/helpful/", {"helpful": "yes", "token": token}).status_code
        == 404
    )


def test_votes_are_rate_limited(stranger, settings):
    make_article("refunds", en=("Refunds", "x"))
    token = _token(stranger, "refunds")
    codes = [
        stranger.post("/help/articles/refunds/helpful/", {"helpful": "yes", "token": token}).status_code
        for _ in range(35)
    ]
    assert codes[0] == 303 and codes[-1] == 429


def test_categories_do_not_leak_into_an_empty_home_page(stranger):
    Category.objects.create(name_en="Empty", slug="empty")
    assert b"Empty" not in stranger.get("/help/").content


def test_searches_are_rate_limited(stranger, monkeypatch):
    from solocrm.support.kb import views_public

    monkeypatch.setattr(views_public, "SEARCH_RATE_LIMIT", 2)
    codes = [stranger.get("/help/search/", {"q": f"word{n}"}).status_code for n in range(3)]
    assert codes == [200, 200, 429]
    assert stranger.get("/help/search/").status_code == 200  # the empty form counts nothing


def test_the_home_page_takes_a_fixed_number_of_queries(stranger, django_assert_max_num_queries):
    billing = services.create_category({"name_en": "Billing", "slug": "billing"})
    for n in range(12):
        make_article(f"a-{n}", en=(f"A {n}", "x"), zh=(f"甲 {n}", "y"), category=billing if n % 2 else None)
    with django_assert_max_num_queries(8):
        assert stranger.get("/help/").status_code == 200


def test_reading_the_help_centre_writes_nothing(stranger):
    make_article("refunds", en=("Refunds", "x"))
    for url in ("/help/", "/help/articles/refunds/", "/help/search/?q=refunds"):
        assert stranger.get(url).status_code == 200
    assert not HelpCenter.objects.exists() and not ArticleVote.objects.exists()
