"""/api/v1/articles and /api/v1/article-categories: roles, language versions, filters, errors."""

import json

import pytest

from solocrm.support.kb import services
from solocrm.support.kb.choices import ArticleStatus
from solocrm.support.kb.models import Article, Category

pytestmark = pytest.mark.django_db


def post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def patch(client, url, data):
    return client.patch(url, json.dumps(data), content_type="application/json")


def make_article(slug, en=None, zh=None, status=ArticleStatus.PUBLISHED, **data):
    versions = {}
    if en:
        versions["en"] = {"title": en[0], "body": en[1]}
    if zh:
        versions["zh-hans"] = {"title": zh[0], "body": zh[1]}
    return services.create_article({"status": status, "slug": slug, **data}, versions)


def test_a_stranger_gets_nothing(client, owner):
    make_article("refunds", en=("Refunds", "x"))
    assert client.get("/api/v1/articles").status_code == 401
    assert post(client, "/api/v1/articles", {}).status_code == 401


def test_an_assistant_creates_an_article_with_both_versions(assistant_client):
    category = services.create_category({"name_en": "Billing", "slug": "billing"})
    response = post(
        assistant_client,
        "/api/v1/articles",
        {
            "category": str(category.uuid),
            "status": "published",
            "translations": {
                "en": {"title": "Refunds", "body": "Money **back**. <script>x</script>"},
                "zh-hans": {"title": "退款", "body": "退钱"},
            },
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "refunds" and body["category"] == str(category.uuid)
    assert body["url"] == "http://testserver/help/articles/refunds/"
    assert body["translations"]["zh-hans"]["title"] == "退款"
    assert "<strong>back</strong>" in body["translations"]["en"]["html"]
    assert "<script>" not in body["translations"]["en"]["html"]
    assert body["published_at"] is not None


def test_a_patch_changes_only_what_it_names_and_null_removes_a_version(owner_client):
    article = make_article("refunds", en=("Refunds", "x"), zh=("退款", "y"), status=ArticleStatus.DRAFT)
    url = f"/api/v1/articles/{article.uuid}"
    response = patch(owner_client, url, {"translations": {"zh-hans": None}, "indexable": False})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body["translations"]) == {"en"} and body["indexable"] is False and body["status"] == "draft"
    response = patch(owner_client, url, {"translations": {"en": {"title": "Refunds", "body": "new"}}})
    assert response.json()["translations"]["en"]["body"] == "new"


def test_a_published_article_cannot_lose_its_last_version(owner_client):
    article = make_article("refunds", en=("Refunds", "x"))
    response = patch(owner_client, f"/api/v1/articles/{article.uuid}", {"translations": {"en": None}})
    assert response.status_code == 422
    assert set(article.versions()) == {"en"}


def test_bad_input_is_a_clear_error(owner_client):
    make_article("refunds", en=("Refunds", "x"))
    cases = [
        {"translations": {"fr": {"title": "x"}}},
        {"translations": {"en": {"title": ""}}},
        {"translations": {"en": {"title": "a\x00b"}}},
        {"slug": "has spaces"},
        {"slug": "refunds", "translations": {"en": {"title": "x"}}},
        {"status": "published"},
        {"category": "00000000-0000-0000-0000-000000000000"},
        {"unknown": 1},
    ]
    for data in cases:
        response = post(owner_client, "/api/v1/articles", data)
        assert response.status_code in (409, 422), (data, response.status_code, response.content)
    assert Article.objects.count() == 1


def test_the_list_filters_and_searches_chinese(viewer_client):
    billing = services.create_category({"name_en": "Billing", "slug": "billing"})
    make_article("refunds", zh=("如何申请", "申请退款"), category=billing)
    make_article("draft", en=("Draft", "x"), status=ArticleStatus.DRAFT)

    def slugs(query):
        response = viewer_client.get("/api/v1/articles" + query)
        assert response.status_code == 200, response.content
        return {item["slug"] for item in response.json()["items"]}

    assert slugs("") == {"refunds", "draft"}
    assert slugs("?q=退款") == {"refunds"}
    assert slugs("?status=draft") == {"draft"}
    assert slugs("?language=zh-hans") == {"refunds"}
    assert slugs("?category=billing") == {"refunds"}
    assert slugs(f"?category={billing.uuid}") == {"refunds"}
    assert slugs("?category=none") == {"draft"}
    assert viewer_client.get("/api/v1/articles?status=nope").status_code == 422


def test_a_viewer_reads_but_cannot_write(viewer_client):
    article = make_article("refunds", en=("Refunds", "x"))
    assert viewer_client.get(f"/api/v1/articles/{article.uuid}").status_code == 200
    assert (
        post(viewer_client, "/api/v1/articles", {"translations": {"en": {"title": "x"}}}).status_code == 403
    )
    assert patch(viewer_client, f"/api/v1/articles/{article.uuid}", {"indexable": False}).status_code == 403
    assert viewer_client.delete(f"/api/v1/articles/{article.uuid}").status_code == 403


def test_only_the_owner_deletes(assistant_client, owner):
    article = make_article("refunds", en=("Refunds", "x"))
    assert assistant_client.delete(f"/api/v1/articles/{article.uuid}").status_code == 403
    assistant_client.force_login(owner)
    assert assistant_client.delete(f"/api/v1/articles/{article.uuid}").status_code == 204
    assert assistant_client.get(f"/api/v1/articles/{article.uuid}").status_code == 404


def test_categories_round_trip(owner_client):
    response = post(owner_client, "/api/v1/article-categories", {"name_zh_hans": "账单", "order": 3})
    assert response.status_code == 201, response.content
    uuid = response.json()["uuid"]
    assert response.json()["slug"].startswith("category-")
    response = patch(
        owner_client, f"/api/v1/article-categories/{uuid}", {"name_en": "Billing", "slug": "billing"}
    )
    assert response.json()["url"] == "http://testserver/help/categories/billing/"
    assert post(owner_client, "/api/v1/article-categories", {"name_en": ""}).status_code == 422
    assert owner_client.get("/api/v1/article-categories").json()["count"] == 1
    assert owner_client.delete(f"/api/v1/article-categories/{uuid}").status_code == 204
    assert not Category.objects.exists()


def test_the_list_takes_a_fixed_number_of_queries(owner_client, django_assert_max_num_queries):
    for n in range(10):
        make_article(f"a-{n}", en=(f"A {n}", "x"), zh=(f"甲 {n}", "y"))
    with django_assert_max_num_queries(8):
        assert owner_client.get("/api/v1/articles").status_code == 200
