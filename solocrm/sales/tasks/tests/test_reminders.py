"""Due dates, recurrence and snooze arithmetic, and when the daily digest is due
(solocrm.sales.reminders). "Now" is always passed in, never read from the clock."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from solocrm.sales.tasks import reminders
from solocrm.sales.tasks.models import Task
from solocrm.sales.tasks.services import create_task
from solocrm.users.models import Preferences

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def _berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("day", "every", "unit", "expected"),
    [
        (date(2031, 1, 31), 1, "month", date(2031, 2, 28)),
        (date(2031, 2, 28), 1, "month", date(2031, 3, 28)),  # no anchor given: the same day
        (date(2032, 1, 31), 1, "month", date(2032, 2, 29)),  # leap year
        (date(2032, 2, 29), 12, "month", date(2033, 2, 28)),
        (date(2031, 1, 15), 1, "month", date(2031, 2, 15)),
        (date(2031, 1, 30), 1, "month", date(2031, 2, 28)),
        (date(2031, 12, 31), 2, "week", date(2032, 1, 14)),
        (date(2032, 2, 28), 1, "day", date(2032, 2, 29)),
        (date(2031, 3, 1), 365, "day", date(2032, 2, 29)),
    ],
)
def test_intervals_land_on_real_days(day, every, unit, expected):
    assert reminders.add_interval(day, every, unit) == expected


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        (date(2031, 1, 30), [date(2031, 2, 28), date(2031, 3, 30), date(2031, 4, 30), date(2031, 5, 30)]),
        (date(2031, 1, 31), [date(2031, 2, 28), date(2031, 3, 31), date(2031, 4, 30), date(2031, 5, 31)]),
        (date(2031, 4, 30), [date(2031, 5, 31), date(2031, 6, 30), date(2031, 7, 31), date(2031, 8, 31)]),
    ],
)
def test_a_monthly_chain_keeps_its_day_of_the_month(settings, first, expected):
    """30 Jan stays on the 30th after February; a month-end task (31 Jan, 30 Apr) stays at the
    end of each month."""
    settings.TIME_ZONE = "Europe/Berlin"
    task = Task(due_at=at(first.year, first.month, first.day, 9), recur_every=1, recur_unit="month")
    task.recur_day = reminders.month_anchor(task)
    days = []
    for _ in expected:
        task.due_at = reminders.next_due(task, now=at(first.year, 1, 1, 8))
        days.append(task.due_at.astimezone(BERLIN).date())
    assert days == expected


def test_the_next_occurrence_keeps_the_local_time_across_a_dst_change():
    task = Task(due_at=at(2031, 3, 20, 9, 30), recur_every=1, recur_unit="week")
    following = reminders.next_due(task, now=at(2031, 3, 20, 10))
    assert following == at(2031, 3, 27, 9, 30)  # summer time started on the 30th… and the 23rd
    assert following.astimezone(BERLIN).time() == time(9, 30)


def test_a_late_completion_counts_the_interval_from_today():
    task = Task(due_at=at(2031, 1, 1, 9), recur_every=30, recur_unit="day")
    assert reminders.next_due(task, now=at(2031, 3, 10, 15)) == at(2031, 4, 9, 9)


def test_an_early_completion_keeps_the_schedule():
    task = Task(due_at=at(2031, 1, 31, 23, 59), all_day=True, recur_every=1, recur_unit="month")
    assert reminders.next_due(task, now=at(2031, 1, 29, 8)) == at(2031, 2, 28, 23, 59)


def test_a_repeating_task_without_a_date_repeats_from_the_day_it_was_done():
    task = Task(recur_every=3, recur_unit="day")
    assert reminders.next_due(task, now=at(2031, 5, 5, 16)) == at(2031, 5, 8, 23, 59)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("hour", at(2031, 5, 5, 23, 30)),
        ("tomorrow", at(2031, 5, 6, 9)),
        ("week", at(2031, 5, 12, 9)),
    ],
)
def test_snooze_choices(choice, expected):
    assert reminders.snooze_until(choice, now=at(2031, 5, 5, 22, 30)) == expected


def test_an_unknown_snooze_choice_is_refused():
    with pytest.raises(ValueError, match="Snooze"):
        reminders.snooze_until("forever", now=at(2031, 5, 5, 9))


def test_an_all_day_task_is_due_at_the_end_of_the_local_day():
    assert reminders.due_on(date(2031, 7, 1)) == datetime(2031, 7, 1, 21, 59, tzinfo=UTC)


# --- the digest ---------------------------------------------------------------------------------


def _digest_on(user, hour: int | None) -> Preferences:
    prefs = Preferences.of(user)
    prefs.digest_hour = hour
    prefs.save()
    return prefs


def test_the_digest_is_due_once_its_local_hour_has_come(owner):
    _digest_on(owner, 7)
    # 05:59 UTC is 07:59 in Berlin in summer, 06:59 in winter.
    assert list(reminders.digest_recipients(datetime(2031, 7, 1, 4, 59, tzinfo=UTC))) == []
    assert list(reminders.digest_recipients(datetime(2031, 7, 1, 5, 0, tzinfo=UTC))) == [owner]
    assert list(reminders.digest_recipients(datetime(2031, 1, 6, 5, 59, tzinfo=UTC))) == []
    assert list(reminders.digest_recipients(datetime(2031, 1, 6, 6, 0, tzinfo=UTC))) == [owner]


def test_a_digest_is_claimed_once_per_local_day(owner):
    _digest_on(owner, 7)
    morning = at(2031, 7, 1, 8)
    assert reminders.due_digests(morning) == [(owner.pk, date(2031, 7, 1))]
    assert reminders.due_digests(morning + timedelta(minutes=1)) == []
    assert reminders.due_digests(at(2031, 7, 1, 23, 59)) == []
    # 23:30 UTC on the 1st is 01:30 on the 2nd in Berlin: a new day, but not 7 o'clock yet.
    assert reminders.due_digests(datetime(2031, 7, 1, 23, 30, tzinfo=UTC)) == []
    assert reminders.due_digests(datetime(2031, 7, 2, 5, 0, tzinfo=UTC)) == [(owner.pk, date(2031, 7, 2))]


def test_a_worker_started_late_still_sends_todays_digest(owner):
    _digest_on(owner, 7)
    assert reminders.due_digests(at(2031, 7, 1, 15)) == [(owner.pk, date(2031, 7, 1))]


def test_no_digest_when_it_is_off_or_the_user_cannot_receive_it(owner, assistant, viewer, django_user_model):
    _digest_on(owner, None)
    assistant.email = ""
    assistant.save()
    viewer.is_active = False
    viewer.save()
    django_user_model.objects.create_user("norole", "norole@example.com", "x")
    assert reminders.due_digests(at(2031, 7, 1, 12)) == []


def test_a_new_user_gets_the_default_hour(owner):
    assert not Preferences.objects.filter(user=owner).exists()
    assert reminders.due_digests(at(2031, 7, 1, 7)) == [(owner.pk, date(2031, 7, 1))]
    assert Preferences.objects.get(user=owner).last_digest_on == date(2031, 7, 1)


def test_the_claim_is_a_conditional_update(owner):
    _digest_on(owner, 7)
    assert reminders.claim_digest(owner, date(2031, 7, 1)) is True
    assert reminders.claim_digest(owner, date(2031, 7, 1)) is False
    assert reminders.claim_digest(owner, date(2031, 6, 30)) is False  # never backwards


def test_the_digest_lists_overdue_and_todays_tasks_of_the_user(owner, assistant):
    now = at(2031, 7, 1, 8)
    create_task(title="late", due_at=now - timedelta(days=2), actor=owner)
    create_task(title="nobody's", due_at=now - timedelta(hours=1))  # unassigned: the owner's
    create_task(title="today", due_at=at(2031, 7, 1, 16), actor=owner)
    create_task(title="tomorrow", due_at=at(2031, 7, 2, 9), actor=owner)
    create_task(title="assistant's", due_at=now - timedelta(hours=1), actor=assistant)
    create_task(title="done", due_at=now - timedelta(hours=1), actor=owner).complete()
    digest = reminders.build_digest(owner, now)
    assert [t.title for t in digest.overdue] == ["late", "nobody's"]
    assert [t.title for t in digest.today] == ["today"]
    assert [t.title for t in reminders.build_digest(assistant, now).overdue] == ["assistant's"]


def test_nothing_is_sent_on_a_day_with_nothing_to_do(owner, mailoutbox):
    create_task(title="later", due_at=at(2031, 7, 9, 9), actor=owner)
    assert reminders.send_digest(owner, at(2031, 7, 1, 8)) is False
    assert mailoutbox == []


def test_the_digest_e_mail_has_text_and_html_with_absolute_links(owner, settings, mailoutbox):
    settings.SOLOCRM_PUBLIC_URL = "https://crm.example.com"
    task = create_task(title="Call <Ada> & co", due_at=at(2031, 7, 1, 7), actor=owner)
    assert reminders.send_digest(owner, at(2031, 7, 1, 8)) is True
    message = mailoutbox[0]
    assert message.to == [owner.email]
    assert message.subject == "solocrm: 1 task for 1 July 2031"  # the long date of the language
    link = f"https://crm.example.com/sales/tasks/{task.uuid}/"
    assert link in message.body and "Call <Ada> & co" in message.body
    html = message.alternatives[0][0]
    assert f'href="{link}"' in html and "Call &lt;Ada&gt; &amp; co" in html and "<Ada>" not in html
    assert "https://crm.example.com/account/preferences/" in html


def test_the_digest_speaks_the_site_language(owner, settings, mailoutbox):
    settings.LANGUAGE_CODE = "zh-hans"
    create_task(title="打电话", due_at=at(2031, 7, 1, 7), actor=owner)
    reminders.send_digest(owner, at(2031, 7, 1, 8))
    html = mailoutbox[0].alternatives[0][0]
    assert 'lang="zh-hans"' in html


def test_without_a_public_url_links_point_at_localhost(owner, settings, mailoutbox):
    settings.SOLOCRM_PUBLIC_URL = ""
    create_task(title="x", due_at=at(2031, 7, 1, 7), actor=owner)
    reminders.send_digest(owner, at(2031, 7, 1, 8))
    assert "http://localhost:8000/sales/tasks/" in mailoutbox[0].body


def test_the_digest_is_not_sent_twice_through_the_task(owner, mailoutbox):
    from solocrm.sales.tasks.tasks import send_daily_digest

    _digest_on(owner, 0)
    create_task(title="x", due_at=at(2031, 7, 1, 7), actor=owner)
    assert mail.outbox == []
    result = send_daily_digest.enqueue(owner.pk, "1999-01-01")  # a stale day is dropped
    assert result.return_value is False and mailoutbox == []
