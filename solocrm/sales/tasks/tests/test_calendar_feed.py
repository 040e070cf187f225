"""The private calendar feed /calendar/<token>.ics, read back with the icalendar library."""

import re
from datetime import date, timedelta

import pytest
from django.core import signing
from django.utils import timezone
from icalendar import Calendar

from solocrm.contacts.models import Contact, Interaction
from solocrm.sales.tasks import calendar_feed
from solocrm.sales.tasks.models import Task
from solocrm.sales.tasks.services import create_task
from solocrm.users.models import Preferences

pytestmark = pytest.mark.django_db


def _get(client, user_or_token):
    token = user_or_token if isinstance(user_or_token, str) else calendar_feed.feed_token(user_or_token)
    return client.get(f"/calendar/{token}.ics")


def _events(response) -> dict[str, object]:
    assert response.status_code == 200 and response["Content-Type"] == "text/calendar; charset=utf-8"
    return {str(e["UID"]): e for e in Calendar.from_ical(response.content).walk("VEVENT")}


def test_open_dated_tasks_and_meetings_are_events(client, owner):
    ada = Contact.objects.create(first_name="Ada")
    now = timezone.now()
    timed = create_task(title="Call Ada", due_at=now + timedelta(days=1), contact=ada, actor=owner)
    allday = create_task(title="Renew domain", due_at=now, all_day=True, actor=owner)
    create_task(title="no date", actor=owner)
    create_task(title="finished", due_at=now, actor=owner).complete()
    meeting = Interaction.objects.create(
        kind="meeting",
        occurred_at=now - timedelta(days=3),
        contact=ada,
        author=owner,
        subject="Kick-off",
        data={"duration_minutes": 90},
    )
    Interaction.objects.create(
        kind="meeting", occurred_at=now - timedelta(days=200), contact=ada, author=owner
    )
    Interaction.objects.create(kind="call", occurred_at=now, contact=ada, author=owner)
    events = _events(_get(client, owner))
    assert set(events) == {
        f"task-{timed.uuid}@solocrm",
        f"task-{allday.uuid}@solocrm",
        f"interaction-{meeting.uuid}@solocrm",
    }
    event = events[f"task-{timed.uuid}@solocrm"]
    assert (
        event["SUMMARY"] == "Call Ada"
        and event.decoded("DTSTART") == timed.due_at.replace(microsecond=0)
        and "DTSTAMP" in event
    )
    assert f"/sales/tasks/{timed.uuid}/" in str(event["URL"])
    day = events[f"task-{allday.uuid}@solocrm"]
    assert day.decoded("DTSTART") == timezone.localdate(allday.due_at) and isinstance(
        day.decoded("DTSTART"), date
    )
    assert day.decoded("DTEND") - day.decoded("DTSTART") == timedelta(days=1)
    kick_off = events[f"interaction-{meeting.uuid}@solocrm"]
    assert kick_off.decoded("DTEND") - kick_off.decoded("DTSTART") == timedelta(minutes=90)


def test_the_uid_is_stable_when_the_task_changes(client, owner):
    task = create_task(title="a", due_at=timezone.now(), actor=owner)
    first = set(_events(_get(client, owner)))
    Task.objects.filter(pk=task.pk).update(title="b", due_at=timezone.now() + timedelta(days=2))
    assert set(_events(_get(client, owner))) == first


def test_text_is_escaped_by_the_library(client, owner):
    nasty = "Lunch; with, Ada\\Bob\nline two <script>"
    create_task(title=nasty, notes="a;b,c", due_at=timezone.now(), actor=owner)
    raw = _get(client, owner).content.decode()
    assert "SUMMARY:Lunch\\; with\\, Ada\\\\Bob\\nline two <script>" in raw
    event = next(iter(_events(_get(client, owner)).values()))
    assert str(event["SUMMARY"]) == nasty and str(event["DESCRIPTION"]).startswith("a;b,c")


def test_each_user_sees_their_own_tasks(client, owner, assistant):
    mine = create_task(title="assistant's", due_at=timezone.now(), actor=assistant)
    create_task(title="owner's", due_at=timezone.now(), actor=owner)
    create_task(title="nobody's", due_at=timezone.now())
    assert set(_events(_get(client, assistant))) == {f"task-{mine.uuid}@solocrm"}
    assert len(_events(_get(client, owner))) == 2


def test_resetting_revokes_the_old_link(client, owner):
    old = calendar_feed.feed_token(owner)
    calendar_feed.reset_feed(owner, actor=owner)
    assert _get(client, old).status_code == 404
    assert _get(client, owner).status_code == 200
    assert Preferences.of(owner).calendar_key == 1


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        signing.dumps({"u": 1, "k": 0}, salt="another.salt"),
        signing.dumps({"u": 999999, "k": 0}, salt="solocrm.calendar"),
        signing.dumps({"u": "x"}, salt="solocrm.calendar"),
        signing.dumps([1, 2], salt="solocrm.calendar"),
        "a" * 500,
    ],
)
def test_a_forged_token_gets_a_plain_404(client, owner, token):
    response = _get(client, token)
    assert response.status_code == 404 and response["Content-Type"].startswith("text/plain")
    assert response.content == b"Not found."


def test_a_user_who_left_loses_the_feed(client, owner):
    token = calendar_feed.feed_token(owner)
    owner.is_active = False
    owner.save()
    assert _get(client, token).status_code == 404


def test_the_feed_is_rate_limited(client, owner, settings):
    token = calendar_feed.feed_token(owner)
    for _ in range(60):
        assert _get(client, token).status_code == 200
    assert _get(client, token).status_code == 429


def test_the_feed_is_bounded(client, owner, monkeypatch):
    monkeypatch.setattr(calendar_feed, "MAX_TASKS", 5)
    Task.objects.bulk_create(
        Task(title=str(i), assignee=owner, due_at=timezone.now() + timedelta(hours=i)) for i in range(9)
    )
    assert len(_events(_get(client, owner))) == 5


def test_a_logged_in_user_needs_the_token_too(owner_client):
    assert owner_client.get("/calendar/x.ics").status_code == 404


# --- the preferences page -----------------------------------------------------------------------

PREFS = "/account/preferences/"
FEED_TOKEN = re.compile(r"/calendar/([^/\s\"<]+)\.ics")


def shown_feed_user(page: str):
    """Whose feed the page shows (a token carries its signing time, so compare owners, not text)."""
    tokens = FEED_TOKEN.findall(page)
    assert tokens, "no calendar feed URL on the page"
    return calendar_feed.user_for_token(tokens[0])


def test_every_role_has_its_own_preferences(viewer_client, viewer):
    page = viewer_client.get(PREFS)
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert shown_feed_user(page.content.decode()) == viewer
    assert viewer_client.post(PREFS, {"digest_hour": ""})["Location"] == PREFS
    assert Preferences.of(viewer).digest_hour is None
    viewer_client.post(PREFS, {"digest_hour": "18"})
    assert Preferences.of(viewer).digest_hour == 18


@pytest.mark.parametrize("hour", ["24", "-1", "7.5", "seven"])
def test_a_bad_hour_is_refused(owner_client, owner, hour):
    response = owner_client.post(PREFS, {"digest_hour": hour})
    assert response.status_code == 200 and "digest_hour" in response.context["form"].errors
    assert Preferences.of(owner).digest_hour == 7


def test_the_reset_button_gives_a_new_link(owner_client, owner):
    old = calendar_feed.feed_token(owner)
    response = owner_client.post("/account/preferences/calendar-reset/", follow=True)
    page = response.content.decode()
    assert old not in page and shown_feed_user(page) == owner
    assert calendar_feed.user_for_token(old) is None
    assert owner_client.get("/account/preferences/calendar-reset/").status_code == 405


def test_the_page_warns_when_no_worker_runs(owner_client):
    assert "has not run yet" in owner_client.get(PREFS).content.decode()
    from solocrm.lib import heartbeat

    heartbeat.beat(timezone.now())
    assert "is running" in owner_client.get(PREFS).content.decode()


def test_a_stranger_gets_nothing(client, owner):
    assert client.get(PREFS)["Location"].startswith("/accounts/login/")
    assert client.post("/account/preferences/calendar-reset/").status_code == 302
    assert Preferences.of(owner).calendar_key == 0
