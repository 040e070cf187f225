"""The /api/v1/contacts endpoints, as the owner, the assistant, the viewer and a stranger."""

import json
import uuid

import pytest
from django.test import Client

from solocrm.contacts.choices import InteractionKind
from solocrm.contacts.models import Company, Contact, Tag
from solocrm.users.models import ApiToken, AuditLog

URL = "/api/v1/contacts"


def _json(client: Client, method: str, url: str, data=None, **kwargs):
    return getattr(client, method)(url, data, content_type="application/json", **kwargs)


@pytest.fixture
def ada(db):
    company = Company.objects.create(name="Analytical Engines Ltd")
    return Contact.objects.create(
        first_name="Ada", last_name="Lovelace", email="ada@example.com", company=company
    )


# --- reading ----------------------------------------------------------------------------------


def test_the_owner_lists_contacts_with_count_and_uuid_references(owner_client, ada):
    response = owner_client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["uuid"] == str(ada.uuid)
    assert item["company"] == str(ada.company.uuid)
    assert "id" not in item


def test_the_list_filters_by_search_stage_and_company(owner_client, ada):
    Contact.objects.create(first_name="Charles", last_name="Babbage", lifecycle_stage="customer")
    assert [c["first_name"] for c in owner_client.get(URL, {"q": "love"}).json()["items"]] == ["Ada"]
    assert [c["first_name"] for c in owner_client.get(URL, {"stage": "customer"}).json()["items"]] == [
        "Charles"
    ]
    by_company = owner_client.get(URL, {"company_uuid": str(ada.company.uuid)}).json()
    assert by_company["count"] == 1


def test_the_list_orders_and_pages(owner_client, db):
    for name in ["Carol", "Alice", "Bob"]:
        Contact.objects.create(first_name=name, last_name=name)
    body = owner_client.get(URL, {"ordering": "-name", "limit": 2, "offset": 0}).json()
    assert body["count"] == 3
    assert [c["last_name"] for c in body["items"]] == ["Carol", "Bob"]


def test_the_list_refuses_an_unknown_ordering_or_a_huge_page(owner_client, db):
    assert owner_client.get(URL, {"ordering": "password"}).status_code == 422
    assert owner_client.get(URL, {"limit": 501}).status_code == 422
    assert owner_client.get(URL, {"stage": "emperor"}).status_code == 422


def test_a_blank_filter_means_no_filter(owner_client, ada):
    assert owner_client.get(URL, {"stage": "", "q": ""}).json()["count"] == 1


@pytest.mark.parametrize("rows", [3, 30])
def test_the_list_query_count_does_not_grow_with_rows(owner_client, django_assert_max_num_queries, rows):
    company = Company.objects.create(name="Acme")
    tag = Tag.objects.create(name="vip")
    for i in range(rows):
        Contact.objects.create(first_name=f"C{i}", company=company).tags.add(tag)
    # session + user + role, then count, page and tags
    with django_assert_max_num_queries(7):
        response = owner_client.get(URL)
    assert len(response.json()["items"]) == rows


def test_one_contact_is_fetched_by_uuid(owner_client, ada):
    response = owner_client.get(f"{URL}/{ada.uuid}")
    assert response.status_code == 200
    assert response.json()["email"] == "ada@example.com"


@pytest.mark.parametrize("bad_id", [str(uuid.uuid4()), "not-a-uuid", "12"])
def test_an_unknown_or_malformed_id_is_a_404(owner_client, db, bad_id):
    response = owner_client.get(f"{URL}/{bad_id}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# --- writing ----------------------------------------------------------------------------------


def test_the_owner_creates_a_contact_normalised_with_timeline_and_audit(owner_client, owner):
    company = Company.objects.create(name="Acme")
    response = _json(
        owner_client,
        "post",
        URL,
        {
            "first_name": " Grace  Brewster ",
            "last_name": "hopper",
            "email": " Grace@Example.COM ",
            "phone": "+1 (415) 555-2671",
            "company": str(company.uuid),
            "tags": ["VIP", "vip", "navy"],
            "email_consent": True,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["first_name"], body["last_name"]) == ("Grace Brewster", "hopper")  # case as typed
    assert body["email"] == "grace@example.com"
    assert body["phone"] == "+14155552671"
    assert sorted(body["tags"]) == ["VIP", "navy"]
    assert body["email_consent_at"] is not None
    contact = Contact.objects.get(uuid=body["uuid"])
    assert contact.company == company
    assert contact.interactions.get().kind == InteractionKind.SYSTEM
    assert AuditLog.objects.filter(action="contact.create", object_uuid=contact.uuid, actor=owner).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("phone", "call me maybe"),
        ("first_name", "x" * 101),
        ("notes", 5),
        ("lifecycle_stage", "emperor"),
        ("birthday", "1700-01-01"),
        ("company", str(uuid.uuid4())),
        ("custom_fields", {"nested": {"too": "deep"}}),
        ("unknown_field", "typo"),
        ("title", "nul\x00byte"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(owner_client, db, field, value):
    response = _json(owner_client, "post", URL, {"first_name": "Ada", field: value})
    assert response.status_code == 422, response.content
    locs = [error["loc"] for error in response.json()["detail"]]
    assert any(field in loc for loc in locs), locs
    assert not Contact.objects.exists()


def test_a_contact_needs_a_name_an_email_or_a_phone(owner_client, db):
    response = _json(owner_client, "post", URL, {"title": "Nobody"})
    assert response.status_code == 422
    assert "at least a name" in response.json()["detail"][0]["msg"]


def test_malformed_json_is_a_400(owner_client, db):
    response = owner_client.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400


def test_a_second_contact_with_the_same_email_is_a_409(owner_client, ada):
    response = _json(owner_client, "post", URL, {"email": "ADA@example.com"})
    assert response.status_code == 409
    assert str(ada.uuid) in response.json()["detail"]


def test_script_in_a_text_field_is_stored_verbatim_and_returned_as_json(owner_client, db):
    script = '<script>alert("x")</script>'
    response = _json(owner_client, "post", URL, {"first_name": "Eve", "notes": script})
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["notes"] == script
    assert Contact.objects.get().notes == script


def test_patch_changes_only_the_given_fields_and_audits_them(owner_client, ada):
    response = _json(owner_client, "patch", f"{URL}/{ada.uuid}", {"title": "Countess", "company": None})
    assert response.status_code == 200, response.content
    ada.refresh_from_db()
    assert (ada.title, ada.first_name, ada.company) == ("Countess", "Ada", None)
    entry = AuditLog.objects.get(action="contact.update")
    assert entry.changes["title"] == ["", "Countess"]


def test_patch_refuses_null_for_a_field_that_cannot_be_empty(owner_client, ada):
    response = _json(owner_client, "patch", f"{URL}/{ada.uuid}", {"email": None})
    assert response.status_code == 422


def test_put_replaces_every_field(owner_client, ada):
    response = _json(owner_client, "put", f"{URL}/{ada.uuid}", {"first_name": "Augusta"})
    assert response.status_code == 200, response.content
    ada.refresh_from_db()
    assert (ada.first_name, ada.last_name, ada.email, ada.company) == ("Augusta", "", "", None)


def test_the_owner_deletes_a_contact(owner_client, ada):
    response = owner_client.delete(f"{URL}/{ada.uuid}")
    assert response.status_code == 204
    assert not Contact.objects.exists()
    assert AuditLog.objects.filter(action="contact.delete", object_uuid=ada.uuid).exists()


# --- roles ------------------------------------------------------------------------------------


def test_the_assistant_edits_but_may_not_delete(assistant_client, ada):
    assert _json(assistant_client, "patch", f"{URL}/{ada.uuid}", {"title": "Dr"}).status_code == 200
    response = assistant_client.delete(f"{URL}/{ada.uuid}")
    assert response.status_code == 403
    assert Contact.objects.filter(pk=ada.pk).exists()


def test_the_viewer_reads_but_gets_403_on_every_write(viewer_client, ada):
    assert viewer_client.get(URL).status_code == 200
    assert _json(viewer_client, "post", URL, {"first_name": "Mallory"}).status_code == 403
    # the role is checked before the body: even an invalid body is a 403
    assert _json(viewer_client, "post", URL, {"email": "bad"}).status_code == 403
    assert _json(viewer_client, "patch", f"{URL}/{ada.uuid}", {"title": "x"}).status_code == 403
    assert _json(viewer_client, "put", f"{URL}/{ada.uuid}", {"first_name": "x"}).status_code == 403
    assert viewer_client.delete(f"{URL}/{ada.uuid}").status_code == 403


@pytest.mark.parametrize("method", ["get", "post", "patch", "put", "delete"])
def test_a_stranger_gets_401_json_and_no_redirect(client, ada, method):
    url = URL if method in {"get", "post"} else f"{URL}/{ada.uuid}"
    response = _json(client, method, url, {"first_name": "Mallory"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


def test_a_token_acts_as_its_user_with_that_users_role(client, viewer, ada):
    _token, raw = ApiToken.issue(viewer, "reporting")
    auth = {"Authorization": f"Bearer {raw}"}
    assert client.get(URL, headers=auth).status_code == 200
    assert _json(client, "post", URL, {"first_name": "Mallory"}, headers=auth).status_code == 403


@pytest.mark.parametrize("raw", ["scrm_forged", "not-even-prefixed", "scrm_" + "x" * 200])
def test_a_forged_token_is_a_401(client, ada, raw):
    assert client.get(URL, headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_a_revoked_token_is_a_401(client, owner, ada):
    token, raw = ApiToken.issue(owner, "old laptop")
    token.revoke()
    assert client.get(URL, headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_a_token_of_a_deactivated_user_is_a_401(client, owner, ada):
    _token, raw = ApiToken.issue(owner, "cron")
    owner.is_active = False
    owner.save()
    assert client.get(URL, headers={"Authorization": f"Bearer {raw}"}).status_code == 401


# --- custom fields ----------------------------------------------------------------------------


def test_custom_fields_are_read_and_written(owner_client, ada):
    ada.custom_fields = {"Shoe size": 38}
    ada.save()
    url = f"{URL}/{ada.uuid}"
    assert owner_client.get(url).json()["custom_fields"] == {"Shoe size": 38}
    custom = {"Shoe size": 39, "Loyal": True, "Nickname": "<script>x</script>", "Gone": None, "微信": "ada_l"}
    response = _json(owner_client, "patch", url, {"custom_fields": custom})
    assert response.status_code == 200 and response.json()["custom_fields"] == custom
    ada.refresh_from_db()
    assert ada.custom_fields == custom and ada.first_name == "Ada"  # nothing else changed
    created = _json(owner_client, "post", URL, {"first_name": "Bob", "custom_fields": {"VAT": "GB1"}})
    assert created.status_code == 201 and created.json()["custom_fields"] == {"VAT": "GB1"}


@pytest.mark.parametrize(
    "custom",
    [
        {"": "empty key"},
        {"k" * 61: "key too long"},
        {"long": "v" * 1001},
        {f"key {i}": i for i in range(51)},
        {"list": [1, 2]},
        {"number": float("inf")},
    ],
)
def test_bad_custom_fields_are_a_422_and_change_nothing(owner_client, ada, custom):
    ada.custom_fields = {"kept": 1}
    ada.save()
    response = owner_client.patch(
        f"{URL}/{ada.uuid}",
        '{"custom_fields": ' + json.dumps(custom, allow_nan=True) + "}",
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    assert any("custom_fields" in error["loc"] for error in response.json()["detail"])
    ada.refresh_from_db()
    assert ada.custom_fields == {"kept": 1}


def test_custom_fields_are_documented_in_the_openapi_schema(owner_client, db):
    schema = owner_client.get("/api/v1/openapi.json").json()
    documented = schema["components"]["schemas"]["ContactIn"]["properties"]["custom_fields"]
    assert "up to 50 keys" in documented["description"] and documented["maxProperties"] == 50
    assert "custom_fields" in schema["components"]["schemas"]["ContactOut"]["properties"]
