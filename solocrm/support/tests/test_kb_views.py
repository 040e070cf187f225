"""The knowledge base's staff pages: roles, the editor with both languages, the preview, the
categories, the help centre's switches and the reply composer's links."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from solocrm.support.kb import services
from solocrm.support.kb.choices import ArticleStatus
from solocrm.support.kb.models import Article, Category, HelpCenter
from solocrm.users.models import AuditLog

pytestmark = pytest.mark.django_db


def make_article(slug, en=None, zh=None, status=ArticleStatus.PUBLISHED, **data):
    versions = {}
    if en:
        versions["en"] = {"title": en[0], "body": en[1]}
    if zh:
        versions["zh-hans"] = {"title": zh[0], "body": zh[1]}
    return services.create_article({"status": status, "slug": slug, **data}, versions)


def editor_data(**overrides):
    data = {
        "title_en": "Refunds",
        "body_en": "We refund **any** order.",
        "title_zh_hans": "退款",
        "body_zh_hans": "我们退款。",
        "status": "draft",
        "category": "",
        "slug": "",
        "indexable": "on",
    }
    return {**data, **overrides}


def test_a_stranger_is_sent_to_log_in(client, owner):
    for url in ("/support/kb/", "/support/kb/new/", "/support/kb/categories/", "/support/kb/links/?q=x"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_list_shows_drafts_and_published_articles_to_a_viewer(viewer_client):
    make_article("refunds", en=("Refunds", "x"))
    make_article("draft", zh=("草稿", "x"), status=ArticleStatus.DRAFT)
    response = viewer_client.get("/support/kb/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "Refunds" in text and "草稿" in text
    assert "/support/kb/new/" not in text


def test_the_list_filters_by_status_language_category_and_words(owner_client):
    billing = services.create_category({"name_en": "Billing", "slug": "billing"})
    make_article("refunds", en=("Refunds", "money back"), category=billing)
    make_article("draft", zh=("退款草稿", "申请退款"), status=ArticleStatus.DRAFT)
    assert b"/help/articles/draft/" not in owner_client.get("/support/kb/?status=published").content
    assert b"/help/articles/refunds/" not in owner_client.get("/support/kb/?language=zh-hans").content
    assert b"/help/articles/draft/" not in owner_client.get("/support/kb/?category=billing").content
    found = owner_client.get("/support/kb/?q=退款").content
    assert b"/help/articles/draft/" in found and b"/help/articles/refunds/" not in found
    assert owner_client.get("/support/kb/?status=nonsense").status_code == 200


def test_the_list_takes_a_fixed_number_of_queries(owner_client):
    billing = services.create_category({"name_en": "Billing", "slug": "billing"})
    make_article("a-0", en=("A", "x"), zh=("甲", "x"), category=billing)
    owner_client.get("/support/kb/")
    with CaptureQueriesContext(connection) as few:
        owner_client.get("/support/kb/")
    for n in range(1, 8):
        make_article(f"a-{n}", en=(f"A {n}", "x"), zh=(f"甲 {n}", "x"), category=billing)
    with CaptureQueriesContext(connection) as many:
        assert owner_client.get("/support/kb/").status_code == 200
    assert len(many) == len(few)


def test_an_assistant_writes_an_article_in_both_languages(assistant_client):
    response = assistant_client.post("/support/kb/new/", editor_data(status="published"))
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/support/kb/{article.uuid}/"
    versions = article.versions()
    assert versions["en"].body == "We refund **any** order." and versions["zh-hans"].title == "退款"
    assert article.slug == "refunds" and article.is_published and article.published_at is not None
    assert AuditLog.objects.filter(action="article.create").exists()
    detail = assistant_client.get(response["Location"]).content.decode()
    assert "<strong>any</strong>" in detail and "我们退款" in detail


def test_the_editor_removes_a_language_left_blank(owner_client):
    article = make_article("refunds", en=("Refunds", "x"), zh=("退款", "y"))
    response = owner_client.post(
        f"/support/kb/{article.uuid}/edit/", editor_data(title_zh_hans="", body_zh_hans="", slug="refunds")
    )
    assert response.status_code == 302
    assert set(article.versions()) == {"en"}


def test_the_editor_refuses_an_article_without_any_title(owner_client):
    response = owner_client.post("/support/kb/new/", editor_data(title_en="", title_zh_hans=""))
    assert response.status_code == 200 and b"at least one language" in response.content
    assert not Article.objects.exists()


def test_the_editor_refuses_a_text_without_a_title_and_a_taken_address(owner_client):
    make_article("refunds", en=("Refunds", "x"))
    response = owner_client.post("/support/kb/new/", editor_data(title_zh_hans="", slug="other"))
    assert response.status_code == 200 and b"A text needs a title" in response.content
    response = owner_client.post("/support/kb/new/", editor_data(slug="refunds"))
    assert response.status_code == 200 and Article.objects.count() == 1


def test_the_editor_refuses_text_the_database_cannot_store(owner_client):
    response = owner_client.post("/support/kb/new/", editor_data(body_en="a\x00b"))
    assert response.status_code == 200 and not Article.objects.exists()


def test_a_viewer_cannot_write_or_delete(viewer_client):
    article = make_article("refunds", en=("Refunds", "x"))
    assert viewer_client.get("/support/kb/new/").status_code == 403
    assert viewer_client.post("/support/kb/new/", editor_data()).status_code == 403
    assert viewer_client.get(f"/support/kb/{article.uuid}/edit/").status_code == 403
    assert viewer_client.post(f"/support/kb/{article.uuid}/delete/").status_code == 403
    assert viewer_client.post("/support/kb/preview/", {"body_en": "x"}).status_code == 403
    assert viewer_client.post("/support/kb/categories/", {"name_en": "X"}).status_code == 403
    assert viewer_client.post("/support/kb/help-centre/", {"public": "on"}).status_code == 403
    assert viewer_client.get(f"/support/kb/{article.uuid}/").status_code == 200


def test_only_the_owner_deletes(assistant_client, owner):
    article = make_article("refunds", en=("Refunds", "x"))
    assert assistant_client.post(f"/support/kb/{article.uuid}/delete/").status_code == 403
    assistant_client.force_login(owner)
    assert assistant_client.post(f"/support/kb/{article.uuid}/delete/").status_code == 302
    assert not Article.objects.exists()


def test_an_unknown_article_is_not_found(owner_client):
    assert owner_client.get("/support/kb/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_the_preview_renders_the_asked_language_sanitised(owner_client):
    # htmx posts the whole editor: both text areas arrive, ?language= names the one to show.
    form = {"body_en": "**English**", "body_zh_hans": "# 标题\n\n<script>x</script> **b**"}
    text = owner_client.post("/support/kb/preview/?language=zh-hans", form).content.decode()
    assert '<h1 id="h-标题">标题</h1>' in text and "<strong>b</strong>" in text
    assert "<script>" not in text and "English" not in text
    english = owner_client.post("/support/kb/preview/?language=en", form).content.decode()
    assert "<strong>English</strong>" in english and "标题" not in english
    assert "<strong>" not in owner_client.post("/support/kb/preview/?language=fr", form).content.decode()
    assert owner_client.get("/support/kb/preview/").status_code == 405


def test_categories_are_added_renamed_and_deleted_keeping_their_articles(owner_client):
    response = owner_client.post("/support/kb/categories/", {"name_en": "Billing & refunds", "order": "1"})
    category = Category.objects.get()
    assert response.status_code == 302 and category.slug == "billing-refunds"
    article = make_article("refunds", en=("Refunds", "x"), category=category)
    response = owner_client.post(
        f"/support/kb/categories/{category.uuid}/",
        {"name_en": "Billing", "name_zh_hans": "账单", "slug": "billing", "order": "2"},
    )
    category.refresh_from_db()
    assert response.status_code == 302 and (category.name_zh_hans, category.slug) == ("账单", "billing")
    page = owner_client.get("/support/kb/categories/").content.decode()
    assert "账单" in page and "1 published of 1" in page
    owner_client.post(f"/support/kb/categories/{category.uuid}/delete/")
    article.refresh_from_db()
    assert not Category.objects.exists() and article.category is None


def test_a_category_needs_a_name(owner_client):
    response = owner_client.post("/support/kb/categories/", {"name_en": "", "name_zh_hans": "", "order": "0"})
    assert response.status_code == 200 and not Category.objects.exists()


def test_the_help_centre_can_be_closed_and_hidden_from_search_engines(assistant_client):
    response = assistant_client.post("/support/kb/help-centre/", {})
    center = HelpCenter.current()
    assert response.status_code == 302 and not center.public and not center.indexable
    assistant_client.post("/support/kb/help-centre/", {"public": "on"})
    center = HelpCenter.current()
    assert center.public and not center.indexable


def test_the_links_fragment_gives_markdown_links_to_published_articles(viewer_client):
    make_article("refunds", zh=("如何[退款]", "申请退款"))
    make_article("draft", en=("Refund draft", "申请退款"), status=ArticleStatus.DRAFT)
    response = viewer_client.get("/support/kb/links/", {"q": "退款", "target": "reply-body"})
    text = response.content.decode()
    assert response.status_code == 200
    assert 'data-kb-insert="[如何\\[退款\\]](http://testserver/help/articles/refunds/?lang=zh-hans)"' in text
    assert 'data-kb-target="reply-body"' in text
    assert "draft" not in text
    odd = viewer_client.get("/support/kb/links/", {"q": "退款", "target": '"><script>'}).content.decode()
    assert "data-kb-target" not in odd and "<script>" not in odd


def test_the_sidebar_leads_to_the_knowledge_base(viewer_client):
    page = viewer_client.get("/support/kb/").content.decode()
    assert 'href="/support/kb/" aria-current="page"' in page
