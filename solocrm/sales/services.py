"""Workflows on tasks and orders shared by the web pages, the API and the CLI."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from solocrm.contacts.models import Contact
from solocrm.users.models import AuditLog

from .choices import Priority
from .models import Task


@transaction.atomic
def create_task(
    *,
    title: str,
    actor=None,
    contact: Contact | None = None,
    due_at: datetime | None = None,
    priority: int = Priority.NORMAL,
    notes: str = "",
) -> Task:
    user = actor if getattr(actor, "is_authenticated", False) else None
    task = Task.objects.create(
        title=title[:200],
        notes=notes,
        due_at=due_at,
        priority=priority,
        contact=contact,
        company=contact.company if contact else None,
        assignee=user,
        created_by=user,
    )
    AuditLog.record(actor, "task.create", task, summary=task.title)
    return task


@transaction.atomic
def complete_task(task: Task, actor=None) -> Task:
    task.complete()
    AuditLog.record(actor, "task.complete", task, summary=task.title)
    return task
