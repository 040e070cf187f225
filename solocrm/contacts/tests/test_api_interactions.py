"""The /api/v1/interactions endpoints (the timeline)."""

import uuid
from datetime import UTC, datetime

import pytest

from solocrm.contacts.models import Company, Contact, Interaction

URL = "/api/v1/interactions"


def _json(client, method: str, url: str, data=None):
    return getattr(client, method)(url, data, content_type="application/json")


@pytest.fixture
def ada(db):
    return Contact.objects.create(first_name="Ada", company=Company.objects.create(name="Engines"))


def test_a_call_logged_for_a_contact_lands_on_its_company_timeline_too(owner_client, owner, ada):
    response = _json(
        owner_client,
        "post",
        URL,
        {
            "contact": str(ada.uuid),
            "kind": "call",
            "subject": "Intro",
            "occurred_at": "2024-05-01T09:30:00+02:00",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["company"] == str(ada.company.uuid)
    assert body["author"] == owner.username
    assert body["occurred_at"].startswith("2024-05-01T07:30:00")


def test_a_time_without_zone_is_taken_as_utc(owner_client, ada):
    body = _json(
        owner_client, "post", URL, {"contact": str(ada.uuid), "occurred_at": "2024-05-01T09:30:00"}
    ).json()
    assert Interaction.objects.get(uuid=body["uuid"]).occurred_at == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"contact": str(uuid.uuid4())},
        {"kind": "telepathy"},
        {"occurred_at": "0001-01-01T00:00:00+14:00"},
        {"occurred_at": "yesterday"},
        {"subject": "x" * 301},
    ],
)
def test_bad_input_is_a_422(owner_client, ada, payload):
    body = payload if "contact" in payload or not payload else {"contact": str(ada.uuid), **payload}
    response = _json(owner_client, "post", URL, body)
    assert response.status_code == 422, response.content


def test_the_list_filters_by_contact_kind_and_day(owner_client, ada):
    other = Contact.objects.create(first_name="Bob")
    at = datetime(2024, 1, 10, 12, tzinfo=UTC)
    Interaction.objects.create(contact=ada, kind="call", occurred_at=at, subject="Call")
    Interaction.objects.create(contact=ada, kind="note", occurred_at=at, subject="Note")
    Interaction.objects.create(contact=other, kind="call", occurred_at=at, subject="Other")
    subjects = [
        i["subject"]
        for i in owner_client.get(URL, {"contact": str(ada.uuid), "kind": "call"}).json()["items"]
    ]
    assert subjects == ["Call"]
    assert owner_client.get(URL, {"after": "2024-01-11"}).json()["count"] == 0
    assert owner_client.get(URL, {"before": "2024-01-10", "q": "other"}).json()["count"] == 1
    assert owner_client.get(URL, {"contact": "not-a-uuid"}).status_code == 422


@pytest.mark.parametrize("rows", [3, 30])
def test_the_list_query_count_does_not_grow_with_rows(
    owner_client, owner, ada, django_assert_max_num_queries, rows
):
    for i in range(rows):
        Interaction.objects.create(
            contact=ada, company=ada.company, author=owner, occurred_at=datetime.now(UTC), subject=str(i)
        )
    with django_assert_max_num_queries(6):
        response = owner_client.get(URL)
    assert response.json()["count"] == rows


def test_patch_changes_the_text(owner_client, ada):
    note = Interaction.objects.create(contact=ada, occurred_at=datetime.now(UTC), body="draft")
    response = _json(owner_client, "patch", f"{URL}/{note.uuid}", {"body": "final"})
    assert response.status_code == 200
    note.refresh_from_db()
    assert note.body == "final"


def test_patch_may_not_empty_the_time(owner_client, ada):
    note = Interaction.objects.create(contact=ada, occurred_at=datetime.now(UTC))
    assert _json(owner_client, "patch", f"{URL}/{note.uuid}", {"occurred_at": None}).status_code == 422


def test_roles_on_the_timeline(assistant_client, ada):
    note = Interaction.objects.create(contact=ada, occurred_at=datetime.now(UTC))
    assert _json(assistant_client, "post", URL, {"contact": str(ada.uuid), "body": "hi"}).status_code == 201
    assert assistant_client.delete(f"{URL}/{note.uuid}").status_code == 403


def test_the_viewer_reads_but_may_not_log(viewer_client, ada):
    assert viewer_client.get(URL).status_code == 200
    assert _json(viewer_client, "post", URL, {"contact": str(ada.uuid)}).status_code == 403


def test_the_owner_deletes_an_entry(owner_client, ada):
    note = Interaction.objects.create(contact=ada, occurred_at=datetime.now(UTC))
    assert owner_client.delete(f"{URL}/{note.uuid}").status_code == 204
    assert not Interaction.objects.filter(pk=note.pk).exists()


def test_a_stranger_gets_401(client, ada):
    assert client.get(URL).status_code == 401
