"""Task workflows (solocrm.sales.services): creating, repeating, completing exactly once,
snoozing, and logging a call with its next task in one step."""

import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection
from django.utils import timezone

from solocrm.contacts.models import Company, Contact, Interaction
from solocrm.sales.deals.models import Deal
from solocrm.sales.deals.services import create_deal
from solocrm.sales.tasks import services
from solocrm.sales.tasks.models import Task
from solocrm.users.models import AuditLog

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")


@pytest.fixture
def ada(db):
    return Contact.objects.create(first_name="Ada", company=Company.objects.create(name="Engines"))


def _repeating(**fields) -> Task:
    fields = {
        "due_at": datetime(2031, 1, 31, 9, tzinfo=UTC),
        "recur_every": 1,
        "recur_unit": "month",
        **fields,
    }
    return services.create_task(title="Invoice", **fields)


def test_a_task_about_a_deal_takes_its_contact_and_company(ada, owner):
    deal = create_deal({"title": "Engine", "contact": ada})
    task = services.create_task(title="Send quote", deal=deal, actor=owner)
    assert (task.contact, task.company, task.assignee, task.created_by) == (ada, ada.company, owner, owner)


def test_an_all_day_task_is_due_at_the_end_of_its_local_day(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    task = services.create_task(title="x", due_at=datetime(2031, 5, 5, 2, tzinfo=UTC), all_day=True)
    assert task.due_at == datetime(2031, 5, 5, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai


@pytest.mark.parametrize(
    ("every", "unit"), [(0, "day"), (366, "day"), (5, ""), (None, "week"), (3, "fortnight")]
)
def test_a_bad_repeat_is_refused_and_nothing_is_saved(every, unit):
    with pytest.raises((services.TaskError, ValidationError)):
        services.create_task(title="x", recur_every=every, recur_unit=unit)
    assert not Task.objects.exists()


def test_completing_a_repeating_task_creates_the_next_one():
    task = _repeating()
    following = services.complete_task(task, now=datetime(2031, 1, 30, tzinfo=UTC))
    assert task.is_done and following is not None and not following.is_done
    assert following.due_at == datetime(2031, 2, 28, 9, tzinfo=UTC)
    assert (following.title, following.recur_every, following.recur_unit) == ("Invoice", 1, "month")
    assert AuditLog.objects.filter(action="task.repeat", object_uuid=task.uuid).count() == 1


def test_completing_twice_creates_one_next_occurrence():
    task = _repeating()
    assert services.complete_task(task) is not None
    again = Task.objects.get(pk=task.pk)
    assert services.complete_task(again) is None
    assert Task.objects.count() == 2


def test_reopening_and_completing_again_does_not_repeat_twice():
    task = _repeating()
    services.complete_task(task)
    services.reopen_task(task)
    assert not task.is_done
    assert services.complete_task(task) is None
    assert Task.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_completions_make_one_next_occurrence():
    task = _repeating()
    barrier, results = threading.Barrier(2), []

    def click() -> None:
        try:
            copy = Task.objects.get(pk=task.pk)
            barrier.wait(timeout=5)
            for _attempt in range(50):
                try:
                    results.append(services.complete_task(copy))
                    return
                except OperationalError as error:  # SQLite's shared in-memory test database
                    if "locked" not in str(error):  # answers "table is locked" instead of waiting
                        raise
                    time.sleep(0.05)
        except Exception as error:  # shown by the assertion below
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 2 and not any(isinstance(r, Exception) for r in results), results
    assert sum(r is not None for r in results) == 1
    assert Task.objects.count() == 2 and Task.objects.filter(done_at__isnull=True).count() == 1


def test_done_through_update_task_also_repeats():
    task = _repeating()
    services.update_task(task, {"done": True})
    assert task.next_occurrence is not None and Task.objects.count() == 2


def test_snoozing_moves_the_due_time_and_counts():
    now = datetime(2031, 5, 5, 10, tzinfo=UTC)
    task = services.create_task(title="x", due_at=now - timedelta(days=1), all_day=True)
    services.snooze_task(task, "hour", now=now)
    services.snooze_task(task, now + timedelta(days=2), now=now)
    task.refresh_from_db()
    assert (task.due_at, task.all_day, task.snoozed_count) == (now + timedelta(days=2), False, 2)
    assert AuditLog.objects.filter(action="task.snooze", object_uuid=task.uuid).count() == 2


@pytest.mark.parametrize("delta", [timedelta(minutes=-1), timedelta(0), timedelta(days=401)])
def test_snoozing_into_the_past_or_too_far_is_refused(delta):
    now = timezone.now()
    task = services.create_task(title="x", due_at=now)
    with pytest.raises(services.TaskError):
        services.snooze_task(task, now + delta, now=now)
    task.refresh_from_db()
    assert (task.due_at, task.snoozed_count) == (now, 0)


def test_a_done_task_cannot_be_snoozed():
    task = services.create_task(title="x")
    services.complete_task(task)
    with pytest.raises(services.TaskError, match="done"):
        services.snooze_task(task, "tomorrow")


# --- log_activity -------------------------------------------------------------------------------


def test_logging_a_call_from_its_task_does_everything_in_one_step(ada, owner):
    deal = create_deal({"title": "Engine", "contact": ada})
    Deal.objects.filter(pk=deal.pk).update(last_activity_at=timezone.now() - timedelta(days=30))
    task = services.create_task(title="Call Ada", kind="call", contact=ada, deal=deal)
    due = timezone.now() + timedelta(days=3)
    activity = services.log_activity(
        kind="call",
        task=task,
        outcome="interested",
        notes="wants a quote",
        next_task={"title": "Send quote", "due_at": due},
        actor=owner,
    )
    interaction = activity.interaction
    assert (interaction.kind, interaction.contact, interaction.deal) == ("call", ada, deal)
    assert interaction.data["outcome"] == "interested" and interaction.subject == "Call Ada"
    assert activity.completed == task and Task.objects.get(pk=task.pk).is_done
    assert (activity.next_task.title, activity.next_task.deal, activity.next_task.contact) == (
        "Send quote",
        deal,
        ada,
    )
    assert activity.next_task.kind == "follow_up"
    deal.refresh_from_db()
    assert timezone.now() - deal.last_activity_at < timedelta(minutes=1)


def test_a_failing_next_task_leaves_nothing_behind(ada):
    task = services.create_task(title="Call Ada", contact=ada)
    with pytest.raises((services.TaskError, ValidationError)):
        services.log_activity(
            kind="call", task=task, next_task={"title": "x", "recur_every": 999, "recur_unit": "day"}
        )
    assert not Interaction.objects.exists() and not Task.objects.get(pk=task.pk).is_done


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "survey"}, "call"),
        ({"kind": "call", "outcome": "maybe"}, "outcome"),
    ],
)
def test_bad_activities_are_refused(ada, kwargs, message):
    with pytest.raises(services.TaskError, match=message):
        services.log_activity(contact=ada, **kwargs)
    assert not Interaction.objects.exists()


def test_an_activity_needs_someone_to_be_about(db):
    with pytest.raises(services.TaskError, match="contact or a deal"):
        services.log_activity(kind="call")


def test_a_deal_of_another_contact_is_refused(ada):
    bob = Contact.objects.create(first_name="Bob")
    deal = create_deal({"title": "Bob's", "contact": bob})
    with pytest.raises(services.TaskError, match="another contact"):
        services.log_activity(kind="call", contact=ada, deal=deal)


def test_a_future_meeting_does_not_push_the_deal_activity_ahead(ada):
    deal = create_deal({"title": "Engine", "contact": ada})
    later = timezone.now() + timedelta(days=5)
    services.log_activity(kind="meeting", deal=deal, occurred_at=later)
    deal.refresh_from_db()
    assert deal.last_activity_at < later - timedelta(days=4)


def test_a_monthly_task_on_the_30th_comes_back_on_the_30th_after_february(settings):
    settings.TIME_ZONE = "UTC"
    task = services.create_task(
        title="Invoice",
        due_at=datetime(2031, 1, 30, 9, tzinfo=ZoneInfo("UTC")),
        recur_every=1,
        recur_unit="month",
    )
    days = []
    for _ in range(3):
        services.update_task(task, {"done": True}, now=datetime(2031, 1, 2, tzinfo=ZoneInfo("UTC")))
        task = task.next_occurrence
        days.append(task.due_at.date().isoformat())
    assert days == ["2031-02-28", "2031-03-30", "2031-04-30"]
    task.refresh_from_db()
    assert task.recur_day == 30


def test_a_second_click_on_done_writes_no_second_audit_entry():
    task = services.create_task(title="Call back")
    services.complete_task(task)
    services.complete_task(Task.objects.get(pk=task.pk))
    assert AuditLog.objects.filter(action="task.complete", object_uuid=task.uuid).count() == 1
