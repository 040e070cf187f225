"""The /api/v1/tasks endpoints."""

from datetime import timedelta

import pytest
from django.utils import timezone

from solocrm.contacts.models import Company, Contact
from solocrm.sales.models import Task
from solocrm.users.models import AuditLog

URL = "/api/v1/tasks"


def _json(client, method: str, url: str, data=None):
    return getattr(client, method)(url, data, content_type="application/json")


@pytest.fixture
def ada(db):
    return Contact.objects.create(first_name="Ada", company=Company.objects.create(name="Engines"))


def test_a_task_about_a_contact_is_assigned_to_its_creator(owner_client, owner, ada):
    response = _json(
        owner_client,
        "post",
        URL,
        {"title": "Send quote", "contact": str(ada.uuid), "priority": 3, "due_at": "2030-01-01T09:00:00Z"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["assignee"], body["company"], body["priority"], body["done"]) == (
        owner.username,
        str(ada.company.uuid),
        3,
        False,
    )


@pytest.mark.parametrize(
    ("field", "value"), [("title", ""), ("priority", 9), ("due_at", "soon"), ("contact", "nobody")]
)
def test_bad_input_is_a_422_naming_the_field(owner_client, db, field, value):
    response = _json(owner_client, "post", URL, {"title": "Call", field: value})
    assert response.status_code == 422, response.content
    assert any(field in error["loc"] for error in response.json()["detail"])


def test_the_list_filters_open_done_overdue_due_and_priority(owner_client, ada):
    now = timezone.now()
    Task.objects.create(title="late", due_at=now - timedelta(days=2), contact=ada)
    Task.objects.create(title="soon", due_at=now + timedelta(days=2), priority=4)
    Task.objects.create(title="done", due_at=now - timedelta(days=5), done_at=now)

    def titles(**params):
        return sorted(t["title"] for t in owner_client.get(URL, params).json()["items"])

    assert titles(done="false") == ["late", "soon"]
    assert titles(done="true") == ["done"]
    assert titles(overdue="true") == ["late"]
    assert titles(overdue="false") == ["done", "soon"]
    assert titles(due_after=str((now + timedelta(days=1)).date())) == ["soon"]
    assert titles(due_before=str((now - timedelta(days=1)).date())) == ["done", "late"]
    assert titles(contact=str(ada.uuid)) == ["late"]
    assert titles(priority="4") == ["soon"]
    assert owner_client.get(URL, {"priority": "7"}).status_code == 422


@pytest.mark.parametrize("rows", [3, 30])
def test_the_list_query_count_does_not_grow_with_rows(
    owner_client, owner, ada, django_assert_max_num_queries, rows
):
    for i in range(rows):
        Task.objects.create(title=str(i), contact=ada, company=ada.company, assignee=owner)
    with django_assert_max_num_queries(5):
        assert owner_client.get(URL).json()["count"] == rows


def test_patch_done_completes_and_reopens_a_task(owner_client, db):
    task = Task.objects.create(title="Call back")
    assert _json(owner_client, "patch", f"{URL}/{task.uuid}", {"done": True}).json()["done"] is True
    task.refresh_from_db()
    assert task.done_at is not None
    assert _json(owner_client, "patch", f"{URL}/{task.uuid}", {"done": False}).json()["done"] is False
    assert AuditLog.objects.filter(action="task.update", object_uuid=task.uuid).count() == 2


def test_moving_a_task_to_another_contact_moves_its_company(owner_client, ada):
    task = Task.objects.create(title="Call back")
    body = _json(owner_client, "patch", f"{URL}/{task.uuid}", {"contact": str(ada.uuid)}).json()
    assert body["company"] == str(ada.company.uuid)


def test_put_replaces_every_field(owner_client, ada):
    task = Task.objects.create(title="Old", notes="n", contact=ada, priority=4)
    assert _json(owner_client, "put", f"{URL}/{task.uuid}", {"title": "New"}).status_code == 200
    task.refresh_from_db()
    assert (task.title, task.notes, task.contact, task.priority) == ("New", "", None, 2)


def test_roles(assistant_client, db):
    task = Task.objects.create(title="Call")
    assert _json(assistant_client, "patch", f"{URL}/{task.uuid}", {"done": True}).status_code == 200
    assert assistant_client.delete(f"{URL}/{task.uuid}").status_code == 403


def test_the_viewer_may_not_write(viewer_client, db):
    task = Task.objects.create(title="Call")
    assert viewer_client.get(f"{URL}/{task.uuid}").status_code == 200
    assert _json(viewer_client, "patch", f"{URL}/{task.uuid}", {"done": True}).status_code == 403


def test_the_owner_deletes_and_a_stranger_gets_401(client, owner):
    task = Task.objects.create(title="Call")
    assert client.get(URL).status_code == 401
    client.force_login(owner)
    assert client.delete(f"{URL}/{task.uuid}").status_code == 204
