"""The /api/v1/tasks endpoints."""

from datetime import timedelta

import pytest
from django.utils import timezone

from solocrm.contacts.models import Company, Contact
from solocrm.sales.tasks.models import Task
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


# --- repeat, all-day, snooze, complete, activities, calendar URL ------------------------------


def test_a_repeating_all_day_task(owner_client, ada):
    body = _json(
        owner_client,
        "post",
        URL,
        {
            "title": "Check in",
            "due_date": "2031-01-31",
            "recur_every": 1,
            "recur_unit": "month",
            "kind": "call",
            "contact": str(ada.uuid),
        },
    ).json()
    assert (body["all_day"], body["due_date"], body["recur_every"], body["recur_unit"], body["kind"]) == (
        True,
        "2031-01-31",
        1,
        "month",
        "call",
    )
    done = _json(owner_client, "post", f"{URL}/{body['uuid']}/complete").json()
    assert done["task"]["done"] is True and done["next"]["due_date"] == "2031-02-28"
    again = _json(owner_client, "post", f"{URL}/{body['uuid']}/complete").json()
    assert again["next"] is None and Task.objects.count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {"title": "x", "recur_every": 0, "recur_unit": "day"},
        {"title": "x", "recur_every": 366, "recur_unit": "day"},
        {"title": "x", "recur_every": 3},
        {"title": "x", "recur_unit": "year", "recur_every": 1},
        {"title": "x", "due_date": "2031-02-30"},
        {"title": "x", "due_date": "2031-01-01", "due_at": "2031-01-01T10:00:00Z"},
        {"title": "x", "kind": "party"},
        {"title": "x", "deal": "00000000-0000-0000-0000-000000000000"},
    ],
)
def test_bad_new_fields_are_422(owner_client, db, body):
    response = _json(owner_client, "post", URL, body)
    assert response.status_code == 422, response.content
    assert not Task.objects.exists()


def test_patch_that_breaks_the_repeat_is_422(owner_client, db):
    task = Task.objects.create(title="x")
    assert _json(owner_client, "patch", f"{URL}/{task.uuid}", {"recur_every": 4}).status_code == 422
    assert (
        _json(owner_client, "patch", f"{URL}/{task.uuid}", {"recur_every": 4, "recur_unit": "week"}).json()[
            "recur_every"
        ]
        == 4
    )


def test_snooze(owner_client, db):
    task = Task.objects.create(title="x", due_at=timezone.now())
    body = _json(owner_client, "post", f"{URL}/{task.uuid}/snooze", {"until": "tomorrow"}).json()
    assert body["snoozed_count"] == 1 and body["due_at"] > timezone.now().isoformat()
    later = (timezone.now() + timedelta(days=3)).isoformat()
    assert (
        _json(owner_client, "post", f"{URL}/{task.uuid}/snooze", {"until_at": later}).json()["snoozed_count"]
        == 2
    )
    for bad in [
        {},
        {"until": "never"},
        {"until_at": "2001-01-01T00:00:00Z"},
        {"until": "hour", "until_at": later},
    ]:
        assert _json(owner_client, "post", f"{URL}/{task.uuid}/snooze", bad).status_code == 422
    task.refresh_from_db()
    assert task.snoozed_count == 2


def test_a_done_task_cannot_be_snoozed(owner_client, db):
    task = Task.objects.create(title="x", done_at=timezone.now())
    response = _json(owner_client, "post", f"{URL}/{task.uuid}/snooze", {"until": "hour"})
    assert response.status_code == 422 and "done" in str(response.json()["detail"])


def test_logging_a_call_through_the_api(owner_client, ada):
    from solocrm.contacts.models import Interaction
    from solocrm.sales.deals.services import create_deal

    deal = create_deal({"title": "Engine", "contact": ada})
    task = Task.objects.create(title="Call Ada", contact=ada, kind="call")
    response = _json(
        owner_client,
        "post",
        "/api/v1/activities",
        {
            "task": str(task.uuid),
            "outcome": "left_message",
            "notes": "call back",
            "deal": str(deal.uuid),
            "next_task": {"title": "Try again", "due_date": "2031-05-05"},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["interaction"]["outcome"] == "left_message" and body["interaction"]["deal"] == str(deal.uuid)
    assert body["completed_task"]["done"] is True and body["repeat_task"] is None
    assert (body["next_task"]["title"], body["next_task"]["due_date"], body["next_task"]["deal"]) == (
        "Try again",
        "2031-05-05",
        str(deal.uuid),
    )
    assert Interaction.objects.get().contact == ada


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"kind": "survey", "contact": None},
        {"outcome": "maybe"},
        {"next_task": {"title": ""}},
        {"task": "nope"},
    ],
)
def test_bad_activities_are_422(owner_client, ada, body):
    from solocrm.contacts.models import Interaction

    payload = {"contact": str(ada.uuid), **body} if body else {}
    response = _json(owner_client, "post", "/api/v1/activities", payload)
    assert response.status_code == 422, response.content
    assert not Interaction.objects.exists()


def test_the_calendar_feed_url(viewer_client, viewer):
    from solocrm.sales.tasks.calendar_feed import user_for_token

    url = viewer_client.get("/api/v1/calendar-feed-url").json()["url"]
    # The token carries its signing time: check whose feed it opens rather than its text.
    token = url.rsplit("/calendar/", 1)[1].removesuffix(".ics")
    assert user_for_token(token) == viewer


def test_the_viewer_may_not_snooze_complete_or_log(viewer_client, ada):
    task = Task.objects.create(title="Call", contact=ada)
    assert _json(viewer_client, "post", f"{URL}/{task.uuid}/complete").status_code == 403
    assert _json(viewer_client, "post", f"{URL}/{task.uuid}/snooze", {"until": "hour"}).status_code == 403
    assert _json(viewer_client, "post", "/api/v1/activities", {"contact": str(ada.uuid)}).status_code == 403
    task.refresh_from_db()
    assert not task.is_done and task.snoozed_count == 0


def test_a_stranger_gets_401_everywhere(client, db):
    task = Task.objects.create(title="Call")
    for method, url in [
        ("post", f"{URL}/{task.uuid}/complete"),
        ("post", f"{URL}/{task.uuid}/snooze"),
        ("post", "/api/v1/activities"),
        ("get", "/api/v1/calendar-feed-url"),
    ]:
        assert _json(client, method, url, {}).status_code == 401
