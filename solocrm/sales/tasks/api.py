"""REST endpoints for tasks, logging an activity, and the calendar feed's address."""

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import model_validator

from solocrm.contacts.models import Contact
from solocrm.lib import access
from solocrm.lib.api import (
    Day,
    LongText,
    Pagination,
    RequiredText,
    Text,
    When,
    WriteSchema,
    partial,
    ref,
    resolve,
    responses,
)
from solocrm.lib.roles import Action
from solocrm.sales.choices import Outcome, Priority, RecurrenceUnit, TaskKind
from solocrm.sales.deals.models import Deal
from solocrm.sales.tasks import services
from solocrm.sales.tasks.calendar_feed import feed_url
from solocrm.sales.tasks.filters import TaskFilter
from solocrm.sales.tasks.models import Task
from solocrm.sales.tasks.reminders import MAX_RECUR_EVERY, due_on, local_zone

router = Router()


RecurEvery = Annotated[int, Field(ge=1, le=MAX_RECUR_EVERY, description="Repeat every N units (1–365)")]


class TaskIn(WriteSchema):
    title: RequiredText(200)
    notes: LongText = ""
    due_at: When | None = Field(None, description="Due time; with all_day, only its local date counts")
    due_date: Day | None = Field(None, description="Instead of due_at: an all-day task due on this day")
    all_day: bool = Field(False, description="Due by the end of the day (owner's time zone)")
    priority: Priority = Priority.NORMAL
    kind: TaskKind = TaskKind.TODO
    contact: uuid.UUID | None = Field(None, description="Contact (public id)")
    deal: uuid.UUID | None = Field(None, description="Deal (public id)")
    recur_every: RecurEvery | None = None
    recur_unit: RecurrenceUnit | None = Field(None, description="day, week or month; with recur_every")
    done: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> "TaskIn":
        if self.due_at is not None and self.due_date is not None:
            raise ValueError(_("give due_at or due_date, not both"))
        if (self.recur_every is None) != (self.recur_unit is None):
            raise ValueError(_("recur_every and recur_unit go together"))
        return self


class TaskPatch(partial(TaskIn)):
    @model_validator(mode="after")
    def _consistent(self) -> "TaskPatch":
        if self.due_at is not None and self.due_date is not None:
            raise ValueError(_("give due_at or due_date, not both"))
        return self


class TaskOut(Schema):
    uuid: uuid.UUID
    title: str
    notes: str
    due_at: datetime | None
    due_date: date | None = Field(description="The local day it is due (owner's time zone)")
    all_day: bool
    done: bool
    done_at: datetime | None
    overdue: bool
    priority: int = Field(description="1 low, 2 normal, 3 high, 4 urgent")
    kind: str
    contact: uuid.UUID | None
    company: uuid.UUID | None
    deal: uuid.UUID | None
    recur_every: int | None
    recur_unit: str
    snoozed_count: int
    assignee: str | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_done(obj: Task) -> bool:
        return obj.is_done

    @staticmethod
    def resolve_due_date(obj: Task) -> date | None:
        return timezone.localtime(obj.due_at, local_zone()).date() if obj.due_at else None

    @staticmethod
    def resolve_overdue(obj: Task) -> bool:
        return obj.is_overdue

    @staticmethod
    def resolve_contact(obj: Task) -> uuid.UUID | None:
        return ref(obj.contact)

    @staticmethod
    def resolve_company(obj: Task) -> uuid.UUID | None:
        return ref(obj.company)

    @staticmethod
    def resolve_deal(obj: Task) -> uuid.UUID | None:
        return ref(obj.deal)

    @staticmethod
    def resolve_assignee(obj: Task) -> str | None:
        return obj.assignee.get_username() if obj.assignee else None


class CompletedOut(Schema):
    task: TaskOut
    next: TaskOut | None = Field(description="The next occurrence of a repeating task, if one was made")


class SnoozeIn(WriteSchema):
    until: Literal["hour", "tomorrow", "week"] | None = Field(
        None, description="In an hour, tomorrow 9:00 or in a week at 9:00 (owner's time zone)"
    )
    until_at: When | None = Field(None, description="Or a time of your own (in the future, within a year)")

    @model_validator(mode="after")
    def _one(self) -> "SnoozeIn":
        if (self.until is None) == (self.until_at is None):
            raise ValueError(_("give until or until_at"))
        return self


def _tasks() -> models.QuerySet:
    return Task.objects.select_related("contact", "company", "deal", "assignee")


def _task_data(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    """Body values as the services take them: objects for UUIDs, one due moment."""
    if "contact" in data:
        data["contact"] = resolve(request.user, Contact, data["contact"], "contact")
    if "deal" in data:
        data["deal"] = resolve(request.user, Deal, data["deal"], "deal")
    day = data.pop("due_date", None)
    if day is not None:
        data.update(due_at=due_on(day), all_day=True)
    if "recur_unit" in data:
        data["recur_unit"] = data["recur_unit"] or ""
    return data


@router.get("/tasks", response=responses({200: list[TaskOut]}), tags=["tasks"])
@paginate(Pagination)
def list_tasks(request: HttpRequest, filters: Query[TaskFilter]):
    """Tasks: open ones first, by due time (``done=false`` for the to-do list, ``when=overdue``
    for one tab of the tasks page)."""
    return filters.apply(_tasks())


@router.post("/tasks", response=responses({201: TaskOut}), tags=["tasks"])
def create_task(request: HttpRequest, payload: TaskIn):
    """Create a task, assigned to you. A repeating task (``recur_every`` + ``recur_unit``)
    comes back when it is done."""
    data = _task_data(request, payload.model_dump())
    done = data.pop("done")
    task = services.create_task(actor=request.user, **data)
    if done:
        services.complete_task(task, actor=request.user)
    return Status(201, _tasks().get(pk=task.pk))


@router.get("/tasks/{uuid}", response=responses({200: TaskOut}), tags=["tasks"])
def get_task(request: HttpRequest, uuid: str):
    return access.get_for(request.user, _tasks(), uuid)


@router.put("/tasks/{uuid}", response=responses({200: TaskOut}), tags=["tasks"])
def replace_task(request: HttpRequest, uuid: str, payload: TaskIn):
    task = access.get_for(request.user, _tasks(), uuid, Action.EDIT)
    services.update_task(task, _task_data(request, payload.model_dump()), actor=request.user)
    return _tasks().get(pk=task.pk)


@router.patch("/tasks/{uuid}", response=responses({200: TaskOut}), tags=["tasks"])
def update_task(request: HttpRequest, uuid: str, payload: TaskPatch):
    """Change the fields given; ``{"done": true}`` completes the task, false reopens it."""
    task = access.get_for(request.user, _tasks(), uuid, Action.EDIT)
    data = _task_data(request, payload.model_dump(exclude_unset=True))
    services.update_task(task, data, actor=request.user)
    return _tasks().get(pk=task.pk)


@router.post("/tasks/{uuid}/complete", response=responses({200: CompletedOut}), tags=["tasks"])
def complete_task(request: HttpRequest, uuid: str):
    """Mark the task done. A repeating task answers its next occurrence in ``next`` (made once:
    completing again, or twice at the same time, changes nothing)."""
    task = access.get_for(request.user, _tasks(), uuid, Action.EDIT)
    following = services.complete_task(task, actor=request.user)
    return {"task": _tasks().get(pk=task.pk), "next": _tasks().get(pk=following.pk) if following else None}


@router.post("/tasks/{uuid}/snooze", response=responses({200: TaskOut}), tags=["tasks"])
def snooze_task(request: HttpRequest, uuid: str, payload: SnoozeIn):
    """Put an open task off (its due time moves; ``snoozed_count`` counts how often)."""
    task = access.get_for(request.user, _tasks(), uuid, Action.EDIT)
    services.snooze_task(task, payload.until or payload.until_at, actor=request.user)
    return _tasks().get(pk=task.pk)


@router.delete("/tasks/{uuid}", response=responses({204: None}), tags=["tasks"])
def delete_task(request: HttpRequest, uuid: str):
    task = access.get_for(request.user, Task, uuid, Action.DELETE)
    services.delete_task(task, actor=request.user)
    return Status(204, None)


class NextTaskIn(WriteSchema):
    title: RequiredText(200)
    due_at: When | None = None
    due_date: Day | None = Field(None, description="Instead of due_at: due by the end of this day")
    priority: Priority = Priority.NORMAL
    kind: TaskKind = TaskKind.FOLLOW_UP


class ActivityIn(WriteSchema):
    kind: Literal["call", "meeting", "email_out", "note"] = "call"
    contact: uuid.UUID | None = Field(None, description="Default: the task's or the deal's contact")
    deal: uuid.UUID | None = Field(None, description="Default: the task's deal")
    task: uuid.UUID | None = Field(None, description="The task this call was for: it is marked done")
    occurred_at: When | None = Field(None, description="Default: now")
    outcome: Outcome | None = None
    subject: Text(300) = ""
    notes: LongText = ""
    next_task: NextTaskIn | None = Field(None, description="The follow-up to plan")


class InteractionRef(Schema):
    uuid: uuid.UUID
    kind: str
    occurred_at: datetime
    subject: str
    outcome: str | None
    contact: uuid.UUID | None
    deal: uuid.UUID | None

    @staticmethod
    def resolve_outcome(obj) -> str | None:
        return obj.data.get("outcome") if isinstance(obj.data, dict) else None

    @staticmethod
    def resolve_contact(obj) -> uuid.UUID | None:
        return ref(obj.contact)

    @staticmethod
    def resolve_deal(obj) -> uuid.UUID | None:
        return ref(obj.deal)


class ActivityOut(Schema):
    interaction: InteractionRef
    completed_task: TaskOut | None
    repeat_task: TaskOut | None = Field(
        description="The next occurrence of the completed task, if it repeats"
    )
    next_task: TaskOut | None


@router.post("/activities", response=responses({201: ActivityOut}), tags=["tasks"])
def log_activity(request: HttpRequest, payload: ActivityIn):
    """Log a call, meeting, e-mail or note in one step: the timeline entry with its outcome,
    the task it came from marked done, the next task, and the deal's last activity."""
    data = payload.model_dump()
    task = resolve(request.user, Task, data["task"], "task")
    contact = resolve(request.user, Contact, data["contact"], "contact")
    deal = resolve(request.user, Deal, data["deal"], "deal")
    next_task = data["next_task"]
    if next_task is not None:
        day = next_task.pop("due_date")
        if day is not None:
            next_task.update(due_at=due_on(day), all_day=True)
    activity = services.log_activity(
        kind=data["kind"],
        actor=request.user,
        contact=contact,
        deal=deal,
        task=task,
        occurred_at=data["occurred_at"],
        outcome=data["outcome"] or "",
        subject=data["subject"],
        notes=data["notes"],
        next_task=next_task,
    )

    def fresh(obj: Task | None):
        return _tasks().get(pk=obj.pk) if obj is not None else None

    return Status(
        201,
        {
            "interaction": activity.interaction,
            "completed_task": fresh(activity.completed),
            "repeat_task": fresh(activity.repeat),
            "next_task": fresh(activity.next_task),
        },
    )


class FeedUrlOut(Schema):
    url: str = Field(description="Your private iCalendar feed: open tasks with a due date and meetings")


@router.get("/calendar-feed-url", response=responses({200: FeedUrlOut}), tags=["tasks"])
def calendar_feed_url(request: HttpRequest):
    """The URL of your private calendar feed, to subscribe to in a calendar app. Reset it on
    the "Calendar and reminders" page if it leaks."""
    return {"url": feed_url(request.user, request)}
