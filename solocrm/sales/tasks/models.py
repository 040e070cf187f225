"""Tasks and reminders: a due date, a priority, a repeat rule, snoozing."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from solocrm.contacts.models import Company, Contact
from solocrm.lib.models import PublicModel
from solocrm.sales.choices import (
    Priority,
    RecurrenceUnit,
    TaskKind,
)


class TaskQuerySet(models.QuerySet):
    def open(self) -> TaskQuerySet:
        return self.filter(done_at__isnull=True)

    def overdue(self) -> TaskQuerySet:
        return self.open().filter(due_at__lt=timezone.now())


class Task(PublicModel):
    """Something to do, usually about a contact: a follow-up, a call, a quote to send."""

    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True, db_index=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
        verbose_name=_("contact"),
    )
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
        verbose_name=_("company"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
        verbose_name=_("assigned to"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=TaskKind.choices, default=TaskKind.TODO)
    # A date without a time: shown as "today", and as an all-day event in the calendar feed.
    all_day = models.BooleanField(_("all day"), default=False)
    deal = models.ForeignKey(
        "Deal",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
        verbose_name=_("deal"),
    )
    # "Every <recur_every> <recur_unit>": completing the task creates the next one.
    recur_every = models.PositiveSmallIntegerField(_("repeat every"), null=True, blank=True)
    recur_unit = models.CharField(_("repeat unit"), max_length=10, choices=RecurrenceUnit.choices, blank=True)
    # The day of the month a monthly repeat keeps to (31: the month's last day), so that a task
    # on the 30th comes back on the 30th after February, not on the 28th ever after.
    recur_day = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    snoozed_count = models.PositiveSmallIntegerField(_("times snoozed"), default=0)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["done_at", "due_at", "-priority", "id"]
        indexes = [
            # Open tasks by due time: the agenda, the overdue view, the digest and Today.
            models.Index(fields=["due_at"], condition=Q(done_at__isnull=True), name="task_open_due"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_at is not None and self.due_at < timezone.now()

    def complete(self) -> None:
        if self.done_at is None:
            self.done_at = timezone.now()
            self.save(update_fields=["done_at", "updated_at"])

    def reopen(self) -> None:
        self.done_at = None
        self.save(update_fields=["done_at", "updated_at"])
