"""Task forms: the quick "add a task" on a contact's page and the tasks page."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from solocrm.contacts.models import Contact

from .choices import Priority
from .models import Task
from .services import create_task

# A task with a date but no time is due at the end of that day, so it counts as "today"
# all day long and becomes overdue only the next morning.
END_OF_DAY = time(23, 59)


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    due_date = forms.DateField(
        label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    due_time = forms.TimeField(
        label=_("Time"),
        required=False,
        help_text=_("Optional; without a time the task is due by the end of the day."),
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("due_time") and not data.get("due_date"):
            self.add_error("due_date", _("Give a date for the time."))
        return data

    @property
    def due_at(self) -> datetime | None:
        day = self.cleaned_data.get("due_date")
        if day is None:
            return None
        moment = datetime.combine(day, self.cleaned_data.get("due_time") or END_OF_DAY)
        return timezone.make_aware(moment)  # in the active (the owner's) time zone

    def save(self, actor, contact: Contact | None = None) -> Task:
        return create_task(
            title=self.cleaned_data["title"],
            actor=actor,
            contact=contact,
            due_at=self.due_at,
            priority=self.cleaned_data["priority"],
        )
