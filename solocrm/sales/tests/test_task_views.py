"""The tasks page and the done toggle used on every task list."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from solocrm.contacts.models import Contact
from solocrm.sales.models import Task
from solocrm.sales.services import create_task
from solocrm.users.models import AuditLog
from solocrm.web.dashboard import end_of_today

pytestmark = pytest.mark.django_db

TASKS = "/sales/tasks/"
HTMX = {"HX-Request": "true"}


def _toggle(task: Task) -> str:
    return reverse("sales:task_toggle", args=[task.uuid])


@pytest.fixture
def agenda(db) -> dict[str, Task]:
    now = timezone.now()
    contact = Contact.objects.create(first_name="Ada", last_name="Lovelace")
    return {
        "overdue": create_task(title="overdue one", due_at=now - timedelta(days=1), contact=contact),
        "today": create_task(title="today one", due_at=now + (end_of_today() - now) / 2),
        "upcoming": create_task(title="upcoming one", due_at=now + timedelta(days=3)),
        "no_date": create_task(title="someday one"),
    }


def test_the_stranger_is_sent_to_login(client, owner):
    assert client.get(TASKS)["Location"] == "/accounts/login/?next=/sales/tasks/"


def test_open_tasks_are_grouped_by_when_they_are_due(viewer_client, agenda):
    done = create_task(title="finished one")
    done.complete()
    grouped = viewer_client.get(TASKS).context["agenda"]
    assert [t.title for t in grouped.overdue] == ["overdue one"]
    assert [t.title for t in grouped.today] == ["today one"]
    assert [t.title for t in grouped.upcoming] == ["upcoming one"]
    assert [t.title for t in grouped.no_date] == ["someday one"]


def test_no_tasks_says_what_to_do(viewer_client):
    assert "No open tasks" in viewer_client.get(TASKS).content.decode()


def test_a_viewer_has_no_done_buttons_and_may_not_toggle(viewer_client, agenda):
    page = viewer_client.get(TASKS).content.decode()
    assert "/toggle/" not in page and 'name="title"' not in page
    assert viewer_client.post(_toggle(agenda["today"])).status_code == 403
    assert viewer_client.post(TASKS, {"title": "sneaky", "priority": 2}).status_code == 403
    assert not Task.objects.filter(done_at__isnull=False).exists()
    assert not Task.objects.filter(title="sneaky").exists()


def test_marking_done_without_javascript_returns_to_the_page(assistant_client, agenda):
    response = assistant_client.post(_toggle(agenda["today"]), {"next": "/sales/tasks/"})
    assert response["Location"] == "/sales/tasks/"
    agenda["today"].refresh_from_db()
    assert agenda["today"].is_done
    assert AuditLog.objects.filter(action="task.complete", object_uuid=agenda["today"].uuid).exists()


def test_marking_done_with_htmx_returns_the_row(assistant_client, agenda):
    response = assistant_client.post(_toggle(agenda["overdue"]), {"next": "/"}, headers=HTMX)
    page = response.content.decode()
    assert "<html" not in page
    assert page.strip().startswith(f'<li class="task done" id="task-{agenda["overdue"].uuid}"')
    assert 'value="/"' in page  # the row still returns to the page it is on


def test_a_done_task_can_be_opened_again(assistant_client, agenda):
    task = agenda["today"]
    task.complete()
    assistant_client.post(_toggle(task))
    task.refresh_from_db()
    assert not task.is_done
    assert AuditLog.objects.filter(action="task.update", object_uuid=task.uuid).exists()


def test_a_next_pointing_elsewhere_is_ignored(assistant_client, agenda):
    response = assistant_client.post(_toggle(agenda["today"]), {"next": "https://evil.example/"})
    assert response["Location"] == TASKS


def test_toggle_is_post_only_and_404s_unknown_tasks(assistant_client, agenda):
    assert assistant_client.get(_toggle(agenda["today"])).status_code == 405
    assert (
        assistant_client.post("/sales/tasks/00000000-0000-0000-0000-000000000000/toggle/").status_code == 404
    )


def test_adding_a_task_on_the_tasks_page(assistant_client, assistant):
    response = assistant_client.post(
        TASKS, {"title": "Renew domain", "due_date": "2031-01-02", "priority": 4}
    )
    assert response["Location"] == TASKS
    task = Task.objects.get()
    assert (task.title, task.priority, task.assignee, task.contact) == ("Renew domain", 4, assistant, None)


def test_a_task_without_a_title_is_refused(assistant_client):
    response = assistant_client.post(TASKS, {"title": "", "priority": 2})
    assert "title" in response.context["form"].errors
    assert not Task.objects.exists()


def test_task_titles_are_escaped(owner_client):
    create_task(title="<script>alert(1)</script>")
    page = owner_client.get(TASKS).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(TASKS).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_tasks(owner_client, agenda):
    owner_client.get(TASKS)
    few = _count_queries(owner_client)
    contact = Contact.objects.first()
    for i in range(20):
        create_task(title=f"more {i}", contact=contact, due_at=timezone.now() - timedelta(hours=i + 1))
        create_task(title=f"later {i}", contact=contact, due_at=timezone.now() + timedelta(days=i + 2))
    assert _count_queries(owner_client) == few
