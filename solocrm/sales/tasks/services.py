from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Least
from django.utils import timezone
from django.utils.translation import gettext as _

from solocrm.contacts.choices import InteractionKind
from solocrm.contacts.models import Contact, Interaction
from solocrm.contacts.services import apply_changes, create_interaction, save_validated
from solocrm.sales.choices import Outcome, RecurrenceUnit, TaskKind
from solocrm.sales.deals.models import Deal
from solocrm.sales.deals.services import touch_deal
from solocrm.sales.tasks import reminders
from solocrm.sales.tasks.models import Task
from solocrm.users.models import AuditLog


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


class TaskError(ValueError):
    """A change a task does not allow (a bad repeat, snoozing a done task, an activity with
    nothing to hang it on). The message is for people."""


@dataclass
class Activity:
    """What ``log_activity`` did: the timeline entry, the task it finished (and that task's
    next occurrence when it repeats), and the follow-up task it planned."""

    interaction: Interaction
    completed: Task | None = None
    repeat: Task | None = None
    next_task: Task | None = None


ACTIVITY_KINDS = (
    InteractionKind.CALL,
    InteractionKind.MEETING,
    InteractionKind.EMAIL_OUT,
    InteractionKind.NOTE,
)


TASK_FIELDS = {
    "title",
    "notes",
    "due_at",
    "all_day",
    "priority",
    "kind",
    "contact",
    "company",
    "deal",
    "assignee",
    "recur_every",
    "recur_unit",
}


MAX_SNOOZE = timedelta(days=400)


def check_recurrence(every: int | None, unit: str) -> tuple[int | None, str]:
    """("every N", unit) as stored: both or neither, N from 1 to 365, a known unit."""
    if not every and not unit:
        return None, ""
    if not every or not unit:
        raise TaskError(_("Give both how often and the unit to repeat a task (e.g. every 30 days)."))
    if unit not in RecurrenceUnit.values:
        raise TaskError(_("Repeat every so many days, weeks or months."))
    if not 1 <= int(every) <= reminders.MAX_RECUR_EVERY:
        raise TaskError(_("A task repeats every 1 to 365 days, weeks or months."))
    return int(every), unit


def _normalise(task: Task) -> None:
    """An all-day task is due at the end of its local day; no due date, no "all day"."""
    task.recur_every, task.recur_unit = check_recurrence(task.recur_every, task.recur_unit)
    if task.due_at is None:
        task.all_day = False
    elif task.all_day:
        task.due_at = reminders.due_on(timezone.localtime(task.due_at, reminders.local_zone()).date())
    if task.deal is not None and task.contact is None:
        task.contact = task.deal.contact
    if task.company is None:
        task.company = task.contact.company if task.contact else getattr(task.deal, "company", None)
    task.recur_day = reminders.month_anchor(task)


@transaction.atomic
def create_task(*, title: str, actor=None, contact: Contact | None = None, **fields: Any) -> Task:
    """Create a task, assigned to its creator unless ``assignee`` says otherwise. ``fields``
    are Task fields (due_at, all_day, priority, kind, notes, deal, company, recur_every,
    recur_unit, assignee). Raises TaskError or ValidationError for bad values."""
    unknown = set(fields) - TASK_FIELDS
    if unknown:
        raise TypeError(f"unknown task fields: {sorted(unknown)}")
    user = _user(actor)
    fields.setdefault("assignee", user)
    task = Task(title=title[:200], contact=contact, created_by=user, **fields)
    _normalise(task)
    save_validated(task)
    AuditLog.record(actor, "task.create", task, summary=task.title)
    return task


@transaction.atomic
def update_task(task: Task, data: dict[str, Any], *, actor=None, now: datetime | None = None) -> Task:
    """Change the fields in ``data``; ``done`` (True/False) completes or reopens the task (a
    completed repeating task then has its next occurrence in ``task.next_occurrence``)."""
    data = dict(data)
    done = data.pop("done", None)
    if "contact" in data and "company" not in data:
        data["company"] = data["contact"].company if data["contact"] else None
    changes = apply_changes(task, data)
    if "due_at" in changes or "recur_unit" in changes:
        task.recur_day = None  # a new due date sets a new day of the month to repeat on
    _normalise(task)
    save_validated(task)
    task.next_occurrence = None
    if done is not None and done != task.is_done:
        changes["done"] = [task.is_done, done]
        if done:
            task.next_occurrence = _complete(task, actor, now or timezone.now())
        else:
            _reopen(task)
    if changes:
        AuditLog.record(actor, "task.update", task, summary=task.title, changes=changes)
    return task


def _complete(task: Task, actor, now: datetime) -> Task | None:
    """Mark done with a conditional UPDATE, so of two clicks (or two processes) only one
    completes the task and only that one creates the next occurrence. Returns it, or None."""
    claimed = Task.objects.filter(pk=task.pk, done_at__isnull=True).update(done_at=now, updated_at=now)
    task.completed_now = bool(claimed)
    if not claimed:
        task.refresh_from_db(fields=["done_at", "updated_at"])
        return None
    task.done_at = task.updated_at = now
    if not task.recur_every or _has_repeated(task):
        return None
    return _repeat(task, actor, now)


def _has_repeated(task: Task) -> bool:
    # A task reopened and done again must not spawn a second successor.
    return AuditLog.objects.filter(action="task.repeat", object_uuid=task.uuid).exists()


def _repeat(task: Task, actor, now: datetime) -> Task:
    following = Task(
        title=task.title,
        notes=task.notes,
        due_at=reminders.next_due(task, now),
        all_day=task.all_day or task.due_at is None,
        **{f: getattr(task, f) for f in ("priority", "kind", "contact", "company", "deal", "assignee")},
        recur_every=task.recur_every,
        recur_unit=task.recur_unit,
        recur_day=task.recur_day,
        created_by=task.created_by,
    )
    save_validated(following)
    AuditLog.record(actor, "task.repeat", task, summary=task.title, changes={"next": str(following.uuid)})
    AuditLog.record(actor, "task.create", following, summary=following.title)
    return following


def _reopen(task: Task) -> None:
    Task.objects.filter(pk=task.pk).update(done_at=None, updated_at=timezone.now())
    task.refresh_from_db(fields=["done_at", "updated_at"])


@transaction.atomic
def complete_task(task: Task, actor=None, *, now: datetime | None = None) -> Task | None:
    """Mark a task done (a second call, even a concurrent one, changes nothing). Returns the
    next occurrence when the task repeats, else None."""
    following = _complete(task, actor, now or timezone.now())
    if task.completed_now:  # the losing one of two clicks has nothing to record
        AuditLog.record(actor, "task.complete", task, summary=task.title)
    task.next_occurrence = following
    return following


@transaction.atomic
def reopen_task(task: Task, *, actor=None) -> Task:
    """Open a done task again (its next occurrence, if one was made, stays)."""
    if task.is_done:
        _reopen(task)
        AuditLog.record(actor, "task.update", task, summary=task.title, changes={"done": [True, False]})
    return task


@transaction.atomic
def snooze_task(task: Task, until: datetime | str, *, actor=None, now: datetime | None = None) -> Task:
    """Put an open task off: ``until`` is a time or one of reminders.SNOOZE_CHOICES ("hour",
    "tomorrow" 9:00, "week"). Counts the snooze in ``snoozed_count``."""
    now = now or timezone.now()
    when = reminders.snooze_until(until, now) if isinstance(until, str) else until
    if when <= now:
        raise TaskError(_("Snooze to a time in the future."))
    if when > now + MAX_SNOOZE:
        raise TaskError(_("Snooze for at most a year; give the task a due date instead."))
    before = task.due_at
    snoozed = Task.objects.filter(pk=task.pk, done_at__isnull=True).update(
        due_at=when, all_day=False, snoozed_count=Least(F("snoozed_count") + 1, 32767), updated_at=now
    )
    if not snoozed:
        raise TaskError(_("This task is done; open it again to snooze it."))
    task.refresh_from_db()
    changes = {"due_at": [before.isoformat() if before else None, when.isoformat()]}
    AuditLog.record(actor, "task.snooze", task, summary=task.title, changes=changes)
    return task


@transaction.atomic
def delete_task(task: Task, *, actor=None) -> None:
    AuditLog.record(actor, "task.delete", task, summary=task.title)
    task.delete()


@transaction.atomic
def log_activity(
    *,
    kind: str,
    actor=None,
    contact: Contact | None = None,
    deal: Deal | None = None,
    task: Task | None = None,
    occurred_at: datetime | None = None,
    outcome: str = "",
    subject: str = "",
    notes: str = "",
    next_task: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Activity:
    """Log a call, meeting, e-mail or note in one step: the timeline entry (with its outcome
    and deal), the task it came from marked done, a follow-up task (``next_task``: create_task
    fields, ``title`` required), and the deal's last activity. All or nothing."""
    now = now or timezone.now()
    contact, deal = _activity_subjects(contact, deal, task)
    if kind not in ACTIVITY_KINDS:
        raise TaskError(_("Log a call, a meeting, an e-mail or a note."))
    if outcome and outcome not in Outcome.values:
        raise TaskError(_("Unknown outcome “%(outcome)s”.") % {"outcome": outcome})
    data = {"outcome": outcome} if outcome else {}
    if task is not None:
        data["task"] = str(task.uuid)
    interaction = create_interaction(
        {
            "kind": kind,
            "contact": contact,
            "company": None if contact else getattr(deal, "company", None),
            "deal": deal,
            "occurred_at": occurred_at or now,
            "subject": _activity_subject(subject, task, outcome),
            "body": notes,
            "data": data,
        },
        actor=actor,
    )
    activity = Activity(interaction=interaction)
    if task is not None and not task.is_done:
        activity.repeat = complete_task(task, actor, now=now)
        activity.completed = task
    if next_task:
        next_fields = {"kind": TaskKind.FOLLOW_UP, "deal": deal, **next_task}
        activity.next_task = create_task(actor=actor, contact=contact, **next_fields)
    touch_deal(deal, min(interaction.occurred_at, now))
    return activity


def _activity_subject(subject: str, task: Task | None, outcome: str) -> str:
    """The timeline line: as typed, else the task's title ("Call Ada about the quote"), else
    the outcome ("No answer")."""
    fallback = task.title if task else (str(Outcome(outcome).label) if outcome else "")
    return (subject.strip() or fallback)[:300]


def _activity_subjects(contact: Contact | None, deal: Deal | None, task: Task | None):
    """The contact and deal an activity is about: as given, else the task's, else the deal's."""
    deal = deal or (task.deal if task else None)
    contact = contact or (task.contact if task else None) or (deal.contact if deal else None)
    if deal is not None and contact is not None and deal.contact_id not in (None, contact.pk):
        raise TaskError(_("That deal belongs to another contact."))
    if contact is None and getattr(deal, "company", None) is None:
        raise TaskError(_("Log the activity on a contact or a deal."))
    return contact, deal
