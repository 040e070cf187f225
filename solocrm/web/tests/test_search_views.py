"""The search page, the palette's fragment and GET /api/v1/search: log-in, roles, escaping,
query counts."""

import pytest
from django.urls import reverse

from solocrm.contacts import services
from solocrm.users import services as user_services
from solocrm.web.commands import COMMANDS


@pytest.fixture
def people(db, settings):
    settings.SOLOCRM_PHONE_REGION = "GB"
    services.create_contact({"first_name": "伟", "last_name": "张", "email": "zw@example.cn"})
    services.create_contact(
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@analytical.example",
            "phone": "+447700900097",
        }
    )
    services.create_contact({"first_name": "<img src=x onerror=alert(1)>", "last_name": "Mallory"})


def test_a_stranger_is_sent_to_log_in(client, people, owner):
    response = client.get(reverse("web:search"), {"q": "ada"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(reverse("web:search_palette"), {"q": "ada"}).status_code == 302


def test_a_user_without_a_role_is_refused(client, people, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x-y-z-123456"))
    assert client.get(reverse("web:search"), {"q": "ada"}).status_code == 403


@pytest.mark.parametrize("query", ["张伟", "07700 900097", "analytical"])
def test_a_viewer_finds_people_on_the_page(viewer_client, people, query):
    response = viewer_client.get(reverse("web:search"), {"q": query})
    assert response.status_code == 200
    names = {"张伟": "张伟", "07700 900097": "Lovelace", "analytical": "Lovelace"}
    assert names[query] in response.content.decode()


def test_the_page_escapes_names_and_marks_the_match(owner_client, people):
    html = owner_client.get(reverse("web:search"), {"q": "mallory"}).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; <mark>Mallory</mark>" in html


def test_nothing_found_says_so(owner_client, people):
    html = owner_client.get(reverse("web:search"), {"q": "zzzzqqq"}).content.decode()
    assert "Nothing found for “zzzzqqq”" in html


def test_the_empty_page_lists_the_shortcuts(owner_client, people):
    html = owner_client.get(reverse("web:search")).content.decode()
    for command in COMMANDS:
        assert command.keys in html


def test_the_palette_fragment_groups_results_as_options(owner_client, people):
    response = owner_client.get(reverse("web:search_palette"), {"q": "ada"})
    html = response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    assert 'role="group"' in html and 'role="option"' in html
    assert "<mark>Ada</mark> Lovelace" in html
    assert "<html" not in html  # a fragment, not a page


def test_the_page_costs_a_bounded_number_of_queries(owner_client, people, django_assert_max_num_queries):
    for i in range(25):
        services.create_contact({"first_name": f"Ada{i}", "last_name": "Clone"})
    with django_assert_max_num_queries(14):
        owner_client.get(reverse("web:search"), {"q": "ada"})


def test_the_palette_offers_a_viewer_no_new_commands(viewer_client, people):
    html = viewer_client.get(reverse("web:search")).content.decode()
    assert "Go to Contacts" in html
    assert "New contact" not in html


def test_the_palette_offers_the_owner_new_commands(owner_client, people):
    assert "New contact" in owner_client.get(reverse("web:search")).content.decode()


# --- the API ------------------------------------------------------------------------------------


def test_the_api_needs_a_token_or_a_session(client, people):
    assert client.get("/api/v1/search", {"q": "ada"}).status_code == 401


def test_the_api_answers_a_viewers_token(client, people, viewer):
    _token, raw = user_services.create_token(viewer, "script")
    response = client.get("/api/v1/search", {"q": "07700 900097"}, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    (hit,) = response.json()["results"]
    assert hit["kind"] == "contact" and hit["title"] == "Ada Lovelace" and hit["icon"] == "user"
    assert hit["url"].startswith("http://testserver/contacts/")


def test_the_api_escapes_highlights_and_filters_kinds(owner_client, people):
    body = owner_client.get("/api/v1/search", {"q": "mallory", "kind": "contacts"}).json()
    (hit,) = body["results"]
    assert hit["title"] == "<img src=x onerror=alert(1)> Mallory"  # JSON: the text as it is
    assert hit["title_html"] == "&lt;img src=x onerror=alert(1)&gt; <mark>Mallory</mark>"
    assert owner_client.get("/api/v1/search", {"q": "mallory", "kind": "deals"}).json()["results"] == []


def test_the_api_refuses_an_empty_or_unstorable_query(owner_client, people):
    assert owner_client.get("/api/v1/search", {"q": ""}).status_code == 422
    assert owner_client.get("/api/v1/search", {"q": "a\x00b"}).status_code == 422


def test_a_short_query_works_everywhere(owner_client, people):
    assert "<mark>张</mark>伟" in owner_client.get(reverse("web:search"), {"q": "张"}).content.decode()
    titles = [hit["title"] for hit in owner_client.get("/api/v1/search", {"q": "伟"}).json()["results"]]
    assert titles == ["张伟"]
