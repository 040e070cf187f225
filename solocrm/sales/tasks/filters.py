"""The one filter definition of the tasks list (web and API)."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from django.db.models import Q
from django.utils import timezone
from pydantic import Field

from solocrm.lib.filters import ListFilter, date_range, every_word
from solocrm.sales.choices import Priority, TaskKind
from solocrm.sales.tasks.reminders import bucket_q

TaskBucket = Literal["overdue", "today", "upcoming", "no_date", "done"]


class TaskFilter(ListFilter):
    orderings = {
        "due": ("done_at", "due_at", "-priority", "id"),
        "-due": ("done_at", "-due_at", "-priority", "-id"),
        "-priority": ("done_at", "-priority", "due_at", "id"),
        "-done": ("-done_at", "-id"),
        "created": ("created_at", "id"),
        "-created": ("-created_at", "-id"),
    }
    default_ordering = "due"

    q: str | None = Field(None, max_length=200, description="Search in title and notes")
    when: TaskBucket | None = Field(
        None, description="A tab of the tasks page: overdue, today (due later today), upcoming, no_date, done"
    )
    done: bool | None = Field(None, description="false: open tasks; true: done ones")
    overdue: bool | None = Field(None, description="true: open tasks past their due time")
    due_after: date | None = Field(None, description="Due on or after this day")
    due_before: date | None = Field(None, description="Due on or before this day")
    contact: UUID | None = Field(None, description="Contact (public id)")
    deal: UUID | None = Field(None, description="Deal (public id)")
    priority: Priority | None = None
    kind: TaskKind | None = None
    repeating: bool | None = Field(None, description="true: only repeating tasks; false: one-off ones")
    ordering: Literal["due", "-due", "-priority", "-done", "created", "-created"] | None = None

    def filter_q(self, value: str | None) -> Q:
        return every_word(value, "title__icontains", "notes__icontains")

    def filter_when(self, value: str | None) -> Q:
        return bucket_q(value, timezone.now()) if value else Q()

    def filter_done(self, value: bool | None) -> Q:
        return Q() if value is None else Q(done_at__isnull=not value)

    def filter_overdue(self, value: bool | None) -> Q:
        if value is None:
            return Q()
        late = Q(done_at__isnull=True, due_at__lt=timezone.now())
        return late if value else ~late

    def filter_due_after(self, value: date | None) -> Q:
        return date_range("due_at", value, None)

    def filter_due_before(self, value: date | None) -> Q:
        return date_range("due_at", None, value)

    def filter_contact(self, value: UUID | None) -> Q:
        return Q(contact__uuid=value) if value else Q()

    def filter_deal(self, value: UUID | None) -> Q:
        return Q(deal__uuid=value) if value else Q()

    def filter_repeating(self, value: bool | None) -> Q:
        return Q() if value is None else Q(recur_every__isnull=not value)
