"""The private calendar feed: a user's open tasks and meetings as an iCalendar (RFC 5545) file
that Google Calendar, Apple Calendar or Outlook subscribe to by URL.

The URL carries a signed token ``{"u": user id, "k": calendar key}``. It has no expiry (a
calendar app polls it for years) and is revoked by bumping the user's ``calendar_key``: every
link given out before stops working at once. Escaping and line folding are icalendar's job.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core import signing
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from solocrm import __version__
from solocrm.contacts.choices import InteractionKind
from solocrm.contacts.models import Interaction
from solocrm.lib.access import role_of
from solocrm.lib.roles import Role
from solocrm.sales.tasks.models import Task
from solocrm.sales.tasks.reminders import local_zone, public_url, tasks_for
from solocrm.users.models import AuditLog, Preferences

SALT = "solocrm.calendar"
MAX_TASKS = 1500
MAX_MEETINGS = 500  # together at most 2,000 events: calendar apps choke on bigger feeds
MEETING_HISTORY_DAYS = 90
TASK_MINUTES = 30
MEETING_MINUTES = 60


def feed_token(user) -> str:
    """The signed token of ``user``'s current feed URL."""
    prefs = Preferences.of(user)
    return signing.dumps({"u": user.pk, "k": prefs.calendar_key}, salt=SALT)


def feed_path(user) -> str:
    return reverse("calendar_feed", args=[feed_token(user)])


def feed_url(user, request=None) -> str:
    """The absolute feed URL to paste into a calendar app."""
    return public_url(feed_path(user), request)


def user_for_token(token: str):
    """The user a feed token belongs to, or None when it is forged, revoked, or the user has
    left (inactive, no role). The caller answers 404 either way: no detail is given away."""
    try:
        payload = signing.loads(token, salt=SALT)
        user_id, key = int(payload["u"]), int(payload["k"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    user = get_user_model().objects.filter(pk=user_id, is_active=True, preferences__calendar_key=key).first()
    if user is None or role_of(user) is None:
        return None
    return user


def reset_feed(user, *, actor=None) -> None:
    """Revoke every feed URL of ``user`` given out so far (the next one shown is new)."""
    prefs = Preferences.of(user)
    Preferences.objects.filter(pk=prefs.pk).update(calendar_key=F("calendar_key") + 1)
    AuditLog.record(actor, "calendar.reset", None, summary=user.get_username())


def meetings_for(user, now: datetime):
    """Meetings from the last 90 days on, logged by the user (the owner also sees those
    logged without an author: imports, the API without a user)."""
    mine = Q(author=user)
    if role_of(user) == Role.OWNER:
        mine |= Q(author__isnull=True)
    since = now - timedelta(days=MEETING_HISTORY_DAYS)
    return (
        Interaction.objects.filter(mine, kind=InteractionKind.MEETING, occurred_at__gte=since)
        .select_related("contact")
        .order_by("occurred_at", "id")
    )


def _task_event(task: Task, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", f"task-{task.uuid}@solocrm")
    event.add("dtstamp", stamp)
    if task.all_day:
        day = timezone.localtime(task.due_at, local_zone()).date()
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
    else:
        event.add("dtstart", task.due_at)
        event.add("dtend", task.due_at + timedelta(minutes=TASK_MINUTES))
    event.add("summary", task.title)
    link = public_url(reverse("sales:task_edit", args=[task.uuid]))
    details = [task.notes, str(task.contact) if task.contact else "", link]
    event.add("description", "\n\n".join(part for part in details if part))
    event.add("url", link)
    event.add("categories", [task.get_kind_display()])
    event.add("last-modified", task.updated_at)
    return event


def _meeting_event(meeting: Interaction, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", f"interaction-{meeting.uuid}@solocrm")
    event.add("dtstamp", stamp)
    event.add("dtstart", meeting.occurred_at)
    minutes = meeting.data.get("duration_minutes") if isinstance(meeting.data, dict) else None
    minutes = minutes if isinstance(minutes, int) and 0 < minutes <= 24 * 60 else MEETING_MINUTES
    event.add("dtend", meeting.occurred_at + timedelta(minutes=minutes))
    who = str(meeting.contact) if meeting.contact else ""
    event.add("summary", meeting.subject or _("Meeting with %(name)s") % {"name": who or "…"})
    event.add("description", meeting.body)
    if meeting.contact:
        event.add("url", public_url(reverse("contacts:detail", args=[meeting.contact.uuid])))
    event.add("last-modified", meeting.updated_at)
    return event


def build_feed(user, now: datetime | None = None) -> bytes:
    """``user``'s open tasks due from 90 days ago on, and their meetings of the same span, as
    iCalendar bytes (at most MAX_TASKS + MAX_MEETINGS events, the nearest first)."""
    now = now or timezone.now()
    cal = Calendar()
    cal.add("prodid", f"-//solocrm//solocrm {__version__}//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", _("solocrm tasks"))
    # Calendar apps that honour it poll every hour rather than once a day.
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    since = now - timedelta(days=MEETING_HISTORY_DAYS)
    tasks = tasks_for(user).open().filter(due_at__gte=since).select_related("contact")
    for task in tasks.order_by("due_at", "id")[:MAX_TASKS]:
        cal.add_component(_task_event(task, now))
    for meeting in meetings_for(user, now)[:MAX_MEETINGS]:
        cal.add_component(_meeting_event(meeting, now))
    return cal.to_ical()
