"""The tasks page and the done toggle used on every task list."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from solocrm.contacts.models import Contact
from solocrm.sales.tasks.models import Task
from solocrm.sales.tasks.reminders import end_of_day
from solocrm.sales.tasks.services import create_task
from solocrm.users.models import AuditLog

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
        "today": create_task(title="today one", due_at=now + (end_of_day(timezone.now()) - now) / 2),
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


# --- tabs, filters, pagination ------------------------------------------------------------------


def test_each_tab_shows_its_bucket_with_counts(viewer_client, agenda):
    done = create_task(title="finished one")
    done.complete()
    for tab, title in [
        ("overdue", "overdue one"),
        ("today", "today one"),
        ("upcoming", "upcoming one"),
        ("no_date", "someday one"),
        ("done", "finished one"),
    ]:
        response = viewer_client.get(TASKS, {"show": tab})
        assert [t.title for t in response.context["page"].object_list] == [title]
    counts = {t["name"]: t["count"] for t in response.context["tabs"]}
    assert counts == {"all": 4, "overdue": 1, "today": 1, "upcoming": 1, "no_date": 1, "done": 1}


def test_filters_narrow_the_list(viewer_client, agenda):
    create_task(title="call the bank", kind="call", priority=4)
    response = viewer_client.get(TASKS, {"q": "bank"})
    assert [t.title for t in response.context["page"].object_list] == ["call the bank"]
    response = viewer_client.get(TASKS, {"show": "no_date", "kind": "call", "priority": "4"})
    assert [t.title for t in response.context["page"].object_list] == ["call the bank"]


def test_bad_filters_are_ignored_with_a_note(viewer_client, agenda):
    response = viewer_client.get(TASKS, {"priority": "99", "show": "nonsense"})
    assert response.status_code == 200 and response.context["tab"] == "all"
    assert "not understood" in response.content.decode()


def test_a_long_tab_is_paginated(viewer_client, db):
    Task.objects.bulk_create(
        Task(title=f"t{i}", due_at=timezone.now() - timedelta(hours=i + 1)) for i in range(120)
    )
    response = viewer_client.get(TASKS, {"show": "overdue", "page": 3})
    page = response.context["page"]
    assert (page.number, page.paginator.num_pages, len(page.object_list)) == (3, 3, 20)
    agenda_page = viewer_client.get(TASKS).content.decode()
    assert "Show all 120" in agenda_page


@pytest.mark.parametrize("tab", ["all", "overdue", "upcoming", "done"])
def test_a_tab_costs_the_same_queries_for_5_or_500_tasks(
    owner_client, owner, tab, django_assert_max_num_queries
):
    from solocrm.sales.deals.services import create_deal

    contact = Contact.objects.create(first_name="Ada")
    deal = create_deal({"title": "Deal", "contact": contact})

    def make(n: int, offset: int) -> None:
        now = timezone.now()
        Task.objects.bulk_create(
            Task(
                title=f"t{offset + i}",
                contact=contact,
                deal=deal,
                assignee=owner,
                recur_every=1,
                recur_unit="week",
                due_at=now + timedelta(hours=(i - n // 2) * 30),
                done_at=now if i % 5 == 0 else None,
            )
            for i in range(n)
        )

    make(5, 0)
    with CaptureQueriesContext(connection) as few:
        owner_client.get(TASKS, {"show": tab})
    make(500, 100)
    with django_assert_max_num_queries(len(few)):
        assert owner_client.get(TASKS, {"show": tab}).status_code == 200
    assert len(few) <= 12


# --- snooze, edit, delete -----------------------------------------------------------------------


def _snooze(task: Task) -> str:
    return reverse("sales:task_snooze", args=[task.uuid])


def test_snoozing_with_htmx_returns_the_row(assistant_client, agenda):
    task = agenda["overdue"]
    response = assistant_client.post(_snooze(task), {"until": "tomorrow", "next": TASKS}, headers=HTMX)
    assert response.content.decode().strip().startswith(f'<li class="task" id="task-{task.uuid}"')
    task.refresh_from_db()
    assert task.snoozed_count == 1 and task.due_at > timezone.now()
    assert timezone.localtime(task.due_at).hour == 9


def test_snoozing_without_javascript_redirects_with_a_message(assistant_client, agenda):
    response = assistant_client.post(_snooze(agenda["today"]), {"until": "week", "next": TASKS}, follow=True)
    assert response.redirect_chain[-1][0] == TASKS
    assert "Snoozed until" in response.content.decode()


def test_snoozing_to_a_chosen_time(assistant_client, agenda):
    task, day = agenda["today"], timezone.localdate() + timedelta(days=30)
    assistant_client.post(_snooze(task), {"until": "custom", "date": day.isoformat(), "time": "14:30"})
    task.refresh_from_db()
    assert timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M") == f"{day.isoformat()} 14:30"


@pytest.mark.parametrize(
    "data",
    [
        {"until": "custom"},
        {"until": "custom", "date": "2020-02-30"},
        {"until": "custom", "date": "2001-01-01"},
        {"until": "never"},
        {},
    ],
)
def test_bad_snoozes_change_nothing(assistant_client, agenda, data):
    task = agenda["today"]
    response = assistant_client.post(_snooze(task), data, follow=True)
    assert response.status_code == 200
    assert Task.objects.get(pk=task.pk).due_at == task.due_at
    assert 'class="message error"' in response.content.decode()


def test_a_viewer_may_not_snooze_and_a_stranger_is_sent_to_login(viewer_client, client, agenda):
    task = agenda["today"]
    assert viewer_client.post(_snooze(task), {"until": "hour"}).status_code == 403
    client.logout()
    assert client.post(_snooze(task), {"until": "hour"}).status_code == 302
    assert Task.objects.get(pk=task.pk).snoozed_count == 0


def test_completing_a_repeating_task_shows_the_next_one(assistant_client):
    task = create_task(
        title="Check in", due_at=timezone.now() + timedelta(hours=1), recur_every=30, recur_unit="day"
    )
    response = assistant_client.post(_toggle(task), headers=HTMX)
    assert "the next one is due" in response.content.decode()
    assert Task.objects.filter(done_at__isnull=True, title="Check in").count() == 1


def test_the_edit_page_changes_a_task(assistant_client, agenda):
    task = agenda["no_date"]
    url = reverse("sales:task_edit", args=[task.uuid])
    assert assistant_client.get(url).status_code == 200
    response = assistant_client.post(
        url,
        {
            "title": "renamed",
            "due_date": "2031-03-04",
            "due_time": "",
            "priority": 3,
            "kind": "call",
            "recur_every": 2,
            "recur_unit": "week",
            "notes": "<b>n</b>",
            "next": TASKS,
        },
    )
    assert response["Location"] == TASKS
    task.refresh_from_db()
    assert (task.title, task.priority, task.kind, task.recur_every, task.recur_unit, task.all_day) == (
        "renamed",
        3,
        "call",
        2,
        "week",
        True,
    )
    assert AuditLog.objects.filter(action="task.update", object_uuid=task.uuid).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("due_date", "2031-02-30"),
        ("due_date", "0202-01-01"),
        ("recur_every", "0"),
        ("recur_every", "400"),
        ("recur_unit", "fortnight"),
        ("title", ""),
    ],
)
def test_the_edit_page_refuses_bad_input(assistant_client, agenda, field, value):
    task = agenda["no_date"]
    data = {"title": "x", "priority": 2, "kind": "todo", "recur_every": 3, "recur_unit": "day", field: value}
    response = assistant_client.post(reverse("sales:task_edit", args=[task.uuid]), data)
    assert response.status_code == 422 and field in response.context["form"].errors
    assert Task.objects.get(pk=task.pk).title == "someday one"


def test_a_repeat_needs_both_parts(assistant_client):
    response = assistant_client.post(TASKS, {"title": "x", "priority": 2, "recur_every": 3})
    assert "recur_unit" in response.context["form"].errors and not Task.objects.exists()


def test_a_viewer_sees_the_task_page_read_only(viewer_client, agenda):
    url = reverse("sales:task_edit", args=[agenda["today"].uuid])
    page = viewer_client.get(url).content.decode()
    assert 'name="title"' not in page and "today one" in page
    assert viewer_client.post(url, {"title": "x", "priority": 2}).status_code == 403


def test_only_the_owner_deletes(owner_client, agenda, assistant):
    task = agenda["today"]
    url = reverse("sales:task_delete", args=[task.uuid])
    owner_client.force_login(assistant)
    assert owner_client.post(url).status_code == 403
    from solocrm.lib.access import set_role

    set_role(assistant, "owner")
    assert owner_client.post(url)["Location"] == TASKS
    assert not Task.objects.filter(pk=task.pk).exists()
