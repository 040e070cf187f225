"""Time arithmetic of tasks (due dates, recurrence, snooze) and the daily digest e-mail.

Everything takes ``now`` as an argument (default: the clock) so that tests and the worker's
scheduler decide what "now" is; nothing here reads the clock twice in one decision. Local times
are the owner's time zone (settings.TIME_ZONE), which is also the one the web pages show.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from solocrm.lib.access import role_of
from solocrm.lib.business import business_settings, mail_goes_to_outbox
from solocrm.lib.roles import Role
from solocrm.sales.choices import RecurrenceUnit
from solocrm.sales.tasks.models import Task
from solocrm.users.models import AuditLog, Preferences

log = logging.getLogger(__name__)

# A task with a date but no time is due at the end of that day (docs/decisions.md).
END_OF_DAY = time(23, 59)
MORNING = time(9, 0)
MAX_RECUR_EVERY = 365
DIGEST_LIMIT = 50  # tasks per section of the digest; the rest is "and N more" with a link
SNOOZE_CHOICES = ("hour", "tomorrow", "week")


def local_zone():
    """The owner's time zone: the digest hour, "today" and all-day tasks are counted in it."""
    return business_settings().zone


def local_moment(day: date, at: time) -> datetime:
    """``day`` at ``at`` in the owner's time zone, as an aware datetime (DST-safe)."""
    return timezone.make_aware(datetime.combine(day, at), local_zone())


def due_on(day: date, at: time | None = None) -> datetime:
    """The due moment of a task due on ``day`` (at ``at``, or by the end of the day)."""
    return local_moment(day, at or END_OF_DAY)


def start_of_day(now: datetime) -> datetime:
    return local_moment(timezone.localtime(now, local_zone()).date(), time(0))


def end_of_day(now: datetime) -> datetime:
    """Midnight at the end of ``now``'s local day: tasks due before it are due "today"."""
    return local_moment(timezone.localtime(now, local_zone()).date() + timedelta(days=1), time(0))


# --- recurrence ---------------------------------------------------------------------------------


def _is_last_day(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def add_interval(day: date, every: int, unit: str, anchor: int | None = None) -> date:
    """``day`` plus ``every`` days, weeks or months. A month step lands on the ``anchor`` day of
    the month (default: ``day``'s), or on the month's last day when the month is shorter: a task
    anchored on the 30th goes 30 Jan → 28 Feb → 30 Mar, and one anchored on the 31st stays on
    each month's last day."""
    if unit == RecurrenceUnit.DAY:
        return day + timedelta(days=every)
    if unit == RecurrenceUnit.WEEK:
        return day + timedelta(weeks=every)
    if unit == RecurrenceUnit.MONTH:
        moved = day + relativedelta(months=every)
        last = calendar.monthrange(moved.year, moved.month)[1]
        return moved.replace(day=min(anchor or day.day, last))
    raise ValueError(_("Unknown repeat unit “%(unit)s”.") % {"unit": unit})


def month_anchor(task: Task) -> int | None:
    """The day of the month a monthly repeating task keeps to: its own, once set; else its due
    date's (the last day of a month counts as 31, "month end")."""
    if task.recur_unit != RecurrenceUnit.MONTH or task.due_at is None:
        return None
    if task.recur_day:
        return task.recur_day
    day = timezone.localtime(task.due_at, local_zone()).date()
    return 31 if _is_last_day(day) else day.day


def next_due(task: Task, now: datetime) -> datetime:
    """When the next occurrence of a recurring task is due: the previous due date plus the
    interval, at the same local time of day; when that is already past (the task was done
    late), the interval counts from today instead, so the next one is not overdue at birth.
    A recurring task without a due date repeats from the day it was done."""
    every, unit = task.recur_every or 1, task.recur_unit or RecurrenceUnit.DAY
    today = timezone.localtime(now, local_zone()).date()
    if task.due_at is None:
        return due_on(add_interval(today, every, unit))
    local = timezone.localtime(task.due_at, local_zone())
    anchor = month_anchor(task)
    candidate = local_moment(add_interval(local.date(), every, unit, anchor), local.time())
    if candidate <= now:
        candidate = local_moment(add_interval(today, every, unit, anchor), local.time())
    return candidate


# --- snooze -------------------------------------------------------------------------------------


def snooze_until(choice: str, now: datetime) -> datetime:
    """When a snoozed task comes back: "hour" (in one hour), "tomorrow" (9:00 local) or "week"
    (in seven days, 9:00 local) — the same choices as the Today page."""
    if choice == "hour":
        return now + timedelta(hours=1)
    today = timezone.localtime(now, local_zone()).date()
    if choice == "tomorrow":
        return local_moment(today + timedelta(days=1), MORNING)
    if choice == "week":
        return local_moment(today + timedelta(days=7), MORNING)
    raise ValueError(_("Snooze for an hour, until tomorrow, a week, or give a time."))


# --- whose tasks --------------------------------------------------------------------------------


def tasks_for(user) -> QuerySet[Task]:
    """The tasks a user is reminded of: assigned to them, and for the owner also the tasks
    nobody is assigned to (a lead form's follow-up, an import's task)."""
    mine = Q(assignee=user)
    if role_of(user) == Role.OWNER:
        mine |= Q(assignee__isnull=True)
    return Task.objects.filter(mine)


# --- the daily digest ---------------------------------------------------------------------------


@dataclass
class Digest:
    """What one user's morning e-mail lists; empty means no e-mail is sent."""

    user: object
    day: date
    overdue: list[Task] = field(default_factory=list)
    today: list[Task] = field(default_factory=list)
    overdue_count: int = 0
    today_count: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.overdue_count or self.today_count)

    @property
    def total(self) -> int:
        return self.overdue_count + self.today_count


def build_digest(user, now: datetime) -> Digest:
    """The user's open tasks overdue at ``now`` and due later today (local), each section at
    most DIGEST_LIMIT tasks with the full count beside it."""
    tasks = tasks_for(user).open().select_related("contact", "deal").order_by("due_at", "-priority", "id")
    overdue = tasks.filter(due_at__lt=now)
    today = tasks.filter(due_at__gte=now, due_at__lt=end_of_day(now))
    return Digest(
        user=user,
        day=timezone.localtime(now, local_zone()).date(),
        overdue=list(overdue[:DIGEST_LIMIT]),
        today=list(today[:DIGEST_LIMIT]),
        overdue_count=overdue.count(),
        today_count=today.count(),
    )


DEFAULT_PUBLIC_URL = "http://localhost:8000"


def public_url(path: str, request=None) -> str:
    """An absolute link for e-mails and the calendar feed: SOLOCRM_PUBLIC_URL, else the address
    of the current request, else http://localhost:8000 (a digest has no request to ask)."""
    base = getattr(settings, "SOLOCRM_PUBLIC_URL", "")
    if base:
        return base.rstrip("/") + path
    if request is not None:
        return request.build_absolute_uri(path)
    return DEFAULT_PUBLIC_URL + path


def digest_language(user) -> str:
    """The language of a user's e-mails: the business's (settings page or SOLOCRM_LANGUAGE) —
    solocrm does not store a per-user language yet; the switch in the header only lasts for the
    browser session."""
    return business_settings().language


def render_digest(digest: Digest) -> EmailMultiAlternatives:
    """The digest as a multipart e-mail (plain text and HTML) in the user's language."""
    with translation.override(digest_language(digest.user)), timezone.override(local_zone()):
        for task in _all(digest):
            task.link = public_url(reverse("sales:task_edit", args=[task.uuid]))
        context = {
            "digest": digest,
            "tasks_url": public_url(reverse("sales:task_list")),
            "overdue_url": public_url(reverse("sales:task_list") + "?show=overdue"),
            "prefs_url": public_url(reverse("account:preferences")),
        }
        subject = ngettext(
            "solocrm: %(count)d task for %(day)s",
            "solocrm: %(count)d tasks for %(day)s",
            digest.total,
        ) % {"count": digest.total, "day": date_format(digest.day, "DATE_FORMAT")}
        text = render_to_string("sales/email/digest.txt", context)
        html = render_to_string("sales/email/digest.html", context)
    message = EmailMultiAlternatives(subject, text, to=[digest.user.email])
    message.attach_alternative(html, "text/html")
    return message


def _all(digest: Digest) -> list[Task]:
    return [*digest.overdue, *digest.today]


def claim_digest(user, day: date) -> bool:
    """Mark ``user``'s digest of ``day`` as sent, atomically: True for the one caller (worker,
    process, retry) that changed the row; everybody else gets False and must not send."""
    claimed = (
        Preferences.objects.filter(user=user)
        .filter(Q(last_digest_on__isnull=True) | Q(last_digest_on__lt=day))
        .update(last_digest_on=day)
    )
    return claimed == 1


def send_digest(user, now: datetime) -> bool:
    """Build and send ``user``'s digest for ``now``; False when there was nothing to say."""
    digest = build_digest(user, now)
    if digest.is_empty or not user.email:
        log.info("no digest for %s on %s: nothing due", user.get_username(), digest.day)
        return False
    render_digest(digest).send()
    log.info(
        "digest %s %s: %d overdue, %d today",
        "saved to the outbox (no mail server) for" if mail_goes_to_outbox() else "sent to",
        user.get_username(),
        digest.overdue_count,
        digest.today_count,
    )
    return True


def digest_recipients(now: datetime) -> QuerySet:
    """Active users with a role and an e-mail address whose digest hour has come today (local)
    and who have not had today's digest yet. Missing preference rows are created first (with
    the default hour), so a new user gets the digest without visiting the preferences page."""
    local = timezone.localtime(now, local_zone())
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    missing = users.filter(preferences__isnull=True).values_list("pk", flat=True)
    Preferences.objects.bulk_create([Preferences(user_id=pk) for pk in missing], ignore_conflicts=True)
    return (
        users.filter(preferences__digest_hour__isnull=False, preferences__digest_hour__lte=local.hour)
        .filter(Q(preferences__last_digest_on__isnull=True) | Q(preferences__last_digest_on__lt=local.date()))
        .order_by("pk")
    )


def due_digests(now: datetime, queue: Callable[[int, date], object] | None = None) -> list[tuple[int, date]]:
    """Claim every digest that is due at ``now`` and hand each to ``queue`` (user id, local
    day) in the same transaction as its claim, so a failure to queue leaves it unclaimed for the
    next minute rather than lost. The claim is a conditional UPDATE, so two workers (or a
    restart in the same minute) never claim the same digest twice; a user without a role is
    skipped, unclaimed. Returns what was claimed."""
    day = timezone.localtime(now, local_zone()).date()
    claimed = []
    for user in digest_recipients(now):
        if role_of(user) is None:
            continue
        try:
            with transaction.atomic():
                if claim_digest(user, day):
                    if queue is not None:
                        queue(user.pk, day)
                    claimed.append((user.pk, day))
        except Exception:  # one user's problem must not hold up the others' digests
            log.exception("queueing the digest of user %s failed", user.pk)
    return claimed


# --- the tabs of the tasks page -----------------------------------------------------------------

BUCKETS = ("overdue", "today", "upcoming", "no_date", "done")


def bucket_q(name: str, now: datetime) -> Q:
    """Which tasks a tab of the tasks page (and the API's ``when`` filter) shows at ``now``."""
    tomorrow = end_of_day(now)
    return {
        "overdue": Q(done_at__isnull=True, due_at__lt=now),
        "today": Q(done_at__isnull=True, due_at__gte=now, due_at__lt=tomorrow),
        "upcoming": Q(done_at__isnull=True, due_at__gte=tomorrow),
        "no_date": Q(done_at__isnull=True, due_at__isnull=True),
        "done": Q(done_at__isnull=False),
    }[name]


def bucket_counts(tasks: QuerySet[Task], now: datetime) -> dict[str, int]:
    """The number of tasks in every tab, in one aggregate query."""
    return tasks.order_by().aggregate(**{name: Count("id", filter=bucket_q(name, now)) for name in BUCKETS})


def set_digest_hour(user, hour: int | None, *, actor=None) -> Preferences:
    """Choose the local hour of ``user``'s daily digest (None: no digest)."""
    if hour is not None and not 0 <= hour <= 23:
        raise ValueError(_("The digest hour is from 0 to 23."))
    prefs = Preferences.of(user)
    if prefs.digest_hour != hour:
        changes = {"digest_hour": [prefs.digest_hour, hour]}
        prefs.digest_hour = hour
        prefs.save(update_fields=["digest_hour"])
        AuditLog.record(actor, "preferences.update", None, summary=user.get_username(), changes=changes)
    return prefs


@dataclass
class TaskAgenda:
    """Open tasks in the buckets a person plans with: overdue, today, later, whenever."""

    overdue: list[Task] = field(default_factory=list)
    today: list[Task] = field(default_factory=list)
    upcoming: list[Task] = field(default_factory=list)
    no_date: list[Task] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.overdue or self.today or self.upcoming or self.no_date)

    @property
    def sections(self) -> list[tuple[str, str, list[Task]]]:
        return [
            ("overdue", _("Overdue"), self.overdue),
            ("today", _("Today"), self.today),
            ("upcoming", _("Upcoming"), self.upcoming),
            ("no_date", _("No date"), self.no_date),
        ]


def task_agenda(now: datetime, limit: int = 20) -> TaskAgenda:
    """Every open task by bucket; each bucket is one query of at most ``limit`` rows."""
    tasks = Task.objects.select_related("contact", "deal").order_by("due_at", "-priority", "id")
    return TaskAgenda(
        overdue=list(tasks.filter(bucket_q("overdue", now))[:limit]),
        today=list(tasks.filter(bucket_q("today", now))[:limit]),
        upcoming=list(tasks.filter(bucket_q("upcoming", now))[:limit]),
        no_date=list(tasks.filter(bucket_q("no_date", now)).order_by("-priority", "id")[:limit]),
    )
