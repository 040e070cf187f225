"""The /api/v1/companies endpoints."""

import pytest

from solocrm.contacts.models import Company, Contact, Tag
from solocrm.users.models import AuditLog

URL = "/api/v1/companies"


def _json(client, method: str, url: str, data=None):
    return getattr(client, method)(url, data, content_type="application/json")


@pytest.fixture
def acme(db):
    return Company.objects.create(name="Acme", industry="Anvils", country="US")


def test_the_owner_creates_a_company_with_a_bare_domain_and_a_normalised_phone(owner_client):
    response = _json(
        owner_client,
        "post",
        URL,
        {"name": "Initech", "domain": "https://www.Initech.com/about", "phone": "+44 20 7946 0958"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["domain"], body["phone"]) == ("initech.com", "+442079460958")
    assert AuditLog.objects.filter(action="company.create", object_uuid=body["uuid"]).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", ""), ("name", "   "), ("name", "x" * 201), ("phone", "12"), ("tags", ["ok", ""])],
)
def test_bad_input_is_a_422_naming_the_field(owner_client, db, field, value):
    response = _json(owner_client, "post", URL, {"name": "Initech", field: value})
    assert response.status_code == 422, response.content
    assert any(field in error["loc"] for error in response.json()["detail"])


def test_the_list_filters_by_industry_country_and_tag(owner_client, acme):
    other = Company.objects.create(name="Globex", industry="Energy", country="FR")
    other.tags.add(Tag.objects.create(name="partner"))
    assert [c["name"] for c in owner_client.get(URL, {"industry": "anvil"}).json()["items"]] == ["Acme"]
    assert [c["name"] for c in owner_client.get(URL, {"country": "fr"}).json()["items"]] == ["Globex"]
    assert [c["name"] for c in owner_client.get(URL, {"tag": "PARTNER"}).json()["items"]] == ["Globex"]
    assert [c["name"] for c in owner_client.get(URL, {"ordering": "-name"}).json()["items"]] == [
        "Globex",
        "Acme",
    ]


@pytest.mark.parametrize("rows", [3, 30])
def test_the_list_query_count_does_not_grow_with_rows(owner_client, django_assert_max_num_queries, rows):
    tag = Tag.objects.create(name="vip")
    for i in range(rows):
        Company.objects.create(name=f"Company {i}").tags.add(tag)
    with django_assert_max_num_queries(7):
        response = owner_client.get(URL)
    assert response.json()["count"] == rows


def test_patch_replaces_tags_and_keeps_the_rest(owner_client, acme):
    response = _json(owner_client, "patch", f"{URL}/{acme.uuid}", {"tags": ["b2b", "B2B"]})
    assert response.status_code == 200
    assert response.json()["tags"] == ["b2b"]
    acme.refresh_from_db()
    assert acme.industry == "Anvils"


def test_put_replaces_every_field(owner_client, acme):
    response = _json(owner_client, "put", f"{URL}/{acme.uuid}", {"name": "Acme Corp"})
    assert response.status_code == 200
    acme.refresh_from_db()
    assert (acme.name, acme.industry, acme.country) == ("Acme Corp", "", "")


def test_deleting_a_company_keeps_its_contacts(owner_client, acme):
    wile = Contact.objects.create(first_name="Wile", company=acme)
    assert owner_client.delete(f"{URL}/{acme.uuid}").status_code == 204
    wile.refresh_from_db()
    assert wile.company is None


def test_the_assistant_edits_but_may_not_delete(assistant_client, acme):
    assert _json(assistant_client, "patch", f"{URL}/{acme.uuid}", {"industry": "Rockets"}).status_code == 200
    assert assistant_client.delete(f"{URL}/{acme.uuid}").status_code == 403


def test_the_viewer_reads_but_may_not_write(viewer_client, acme):
    assert viewer_client.get(f"{URL}/{acme.uuid}").status_code == 200
    assert _json(viewer_client, "post", URL, {"name": "Initech"}).status_code == 403
    assert _json(viewer_client, "patch", f"{URL}/{acme.uuid}", {"name": "x"}).status_code == 403


def test_a_stranger_gets_401(client, acme):
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}/{acme.uuid}").status_code == 401
    assert _json(client, "post", URL, {"name": "Initech"}).status_code == 401
