"""Forms of tasks: add and edit, snooze, and logging a call or meeting with the next task."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from solocrm.contacts.choices import InteractionKind
from solocrm.contacts.models import Contact
from solocrm.sales.choices import (
    Outcome,
    Priority,
    RecurrenceUnit,
    TaskKind,
)
from solocrm.sales.deals.models import Deal
from solocrm.sales.tasks import reminders, services
from solocrm.sales.tasks.models import Task
from solocrm.sales.tasks.services import create_task, update_task

# --- tasks and logged activities ----------------------------------------------------------------
# A task with a date but no time is due at the end of that day, so it counts as "today" all day
# long and becomes overdue only the next morning (reminders.due_on).
END_OF_DAY = reminders.END_OF_DAY


REPEAT_UNITS = [("", _("—")), *RecurrenceUnit.choices]


def _sane_day(day: date | None) -> date | None:
    if day is not None and not 1900 <= day.year <= 2200:
        raise forms.ValidationError(_("Give a date between the years 1900 and 2200."))
    return day


class TaskForm(forms.Form):
    """Add a task (the tasks page, a contact's page): what, when, how urgent, how often."""

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
    kind = forms.ChoiceField(label=_("Kind"), choices=TaskKind.choices, initial=TaskKind.TODO, required=False)
    recur_every = forms.IntegerField(
        label=_("Repeat every"),
        required=False,
        min_value=1,
        max_value=reminders.MAX_RECUR_EVERY,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text=_("Optional: done, it comes back after this many days, weeks or months."),
    )
    recur_unit = forms.ChoiceField(label=_("Repeat unit"), choices=REPEAT_UNITS, required=False)

    def clean_due_date(self) -> date | None:
        return _sane_day(self.cleaned_data.get("due_date"))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("due_time") and not data.get("due_date"):
            self.add_error("due_date", _("Give a date for the time."))
        every, unit = data.get("recur_every"), data.get("recur_unit")
        if every and not unit:
            self.add_error("recur_unit", _("Days, weeks or months?"))
        elif unit and not every and "recur_every" not in self.errors:
            self.add_error("recur_every", _("How many %(unit)s?") % {"unit": RecurrenceUnit(unit).label})
        return data

    @property
    def due_at(self) -> datetime | None:
        day = self.cleaned_data.get("due_date")
        return None if day is None else reminders.due_on(day, self.cleaned_data.get("due_time"))

    def task_fields(self) -> dict:
        """The task fields this form sets, as create_task/update_task take them."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "due_at": self.due_at,
            "all_day": bool(data.get("due_date")) and not data.get("due_time"),
            "priority": data["priority"],
            "kind": data.get("kind") or TaskKind.TODO,
            "recur_every": data.get("recur_every") or None,
            "recur_unit": data.get("recur_unit") or "",
        }

    def save(self, actor, contact: Contact | None = None) -> Task:
        return create_task(actor=actor, contact=contact, **self.task_fields())


class TaskEditForm(TaskForm):
    """The task page: everything of the quick form, plus notes and the deal it is about."""

    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4})
    )
    deal = forms.ModelChoiceField(label=_("Deal"), queryset=Deal.objects.none(), required=False)

    def __init__(self, *args, task: Task, **kwargs) -> None:
        kwargs.setdefault("initial", _task_initial(task))
        super().__init__(*args, **kwargs)
        self.task = task
        self.fields["deal"].queryset = deal_choices(task.contact, task.deal)
        self.fields["deal"].to_field_name = "uuid"
        if not task.contact_id and not task.deal_id:
            del self.fields["deal"]

    def task_fields(self) -> dict:
        fields = {**super().task_fields(), "notes": self.cleaned_data["notes"]}
        if "deal" in self.fields:
            fields["deal"] = self.cleaned_data.get("deal")
        return fields

    def save(self, actor) -> Task:
        return update_task(self.task, self.task_fields(), actor=actor)


def _task_initial(task: Task) -> dict:
    local = timezone.localtime(task.due_at, reminders.local_zone()) if task.due_at else None
    return {
        "title": task.title,
        "notes": task.notes,
        "due_date": local.date() if local else None,
        "due_time": local.time().replace(second=0, microsecond=0) if local and not task.all_day else None,
        "priority": task.priority,
        "kind": task.kind,
        "recur_every": task.recur_every,
        "recur_unit": task.recur_unit,
        "deal": task.deal.uuid if task.deal_id else None,
    }


def deal_choices(contact: Contact | None, current: Deal | None = None):
    """The deals an activity or task of ``contact`` may be about: its open deals (and the one
    already chosen, even when closed). One query, bounded."""
    if contact is None:
        return Deal.objects.filter(pk=current.pk) if current else Deal.objects.none()
    mine = Q(contact=contact, closed_at__isnull=True)
    if current is not None:
        mine |= Q(pk=current.pk)
    # Not sliced itself: the field looks the chosen deal up in this queryset.
    newest = Deal.objects.filter(mine).order_by("-created_at").values("pk")[:50]
    return Deal.objects.filter(pk__in=newest).order_by("-created_at")


class SnoozeForm(forms.Form):
    """Put a task off: an hour, tomorrow morning, a week, or a chosen date and time."""

    until = forms.ChoiceField(
        label=_("Snooze until"),
        choices=[
            ("hour", _("In an hour")),
            ("tomorrow", _("Tomorrow morning")),
            ("week", _("Next week")),
            ("custom", _("Pick a time")),
        ],
        initial="tomorrow",
    )
    date = forms.DateField(label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(label=_("Time"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))

    def clean_date(self) -> date | None:
        return _sane_day(self.cleaned_data.get("date"))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("until") == "custom" and not data.get("date"):
            self.add_error("date", _("Pick the day the task should come back."))
        return data

    @property
    def target(self) -> datetime | str:
        """A choice for services.snooze_task, or the chosen moment (9:00 without a time)."""
        data = self.cleaned_data
        if data["until"] != "custom":
            return data["until"]
        return reminders.local_moment(data["date"], data.get("time") or reminders.MORNING)


NEXT_TASK_WHEN = [
    ("tomorrow", _("Tomorrow")),
    ("3days", _("In 3 days")),
    ("week", _("Next week")),
    ("custom", _("Pick a date")),
]


NEXT_TASK_DAYS = {"tomorrow": 1, "3days": 3, "week": 7}


class LogActivityForm(forms.Form):
    """Log a call or meeting with its outcome and plan the next step, in one go."""

    kind = forms.ChoiceField(
        label=_("What"),
        choices=[(k.value, k.label) for k in services.ACTIVITY_KINDS],
        initial=InteractionKind.CALL,
        widget=forms.RadioSelect(attrs={"class": "choice-buttons"}),
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=Outcome.choices,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "choice-buttons"}),
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    subject = forms.CharField(label=_("Subject"), required=False, max_length=300)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 3})
    )
    deal = forms.ModelChoiceField(label=_("Deal"), queryset=Deal.objects.none(), required=False)
    next_title = forms.CharField(
        label=_("Next task"),
        required=False,
        max_length=200,
        help_text=_("Optional: what to do next, e.g. “Send the quote”."),
    )
    next_when = forms.ChoiceField(
        label=_("Due"),
        choices=NEXT_TASK_WHEN,
        initial="3days",
        widget=forms.RadioSelect(attrs={"class": "choice-buttons"}),
    )
    next_date = forms.DateField(
        label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, contact: Contact | None = None, deal: Deal | None = None, **kwargs) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("occurred_at", timezone.localtime().replace(second=0, microsecond=0))
        super().__init__(*args, **kwargs)
        self.fields["deal"].queryset = deal_choices(contact, deal)
        self.fields["deal"].to_field_name = "uuid"
        if deal is not None:
            self.initial.setdefault("deal", deal.uuid)

    def clean_occurred_at(self) -> datetime:
        moment = self.cleaned_data["occurred_at"]
        _sane_day(moment.date())
        if moment > timezone.now() + timedelta(days=366):
            raise forms.ValidationError(_("That is more than a year ahead; check the date."))
        return moment

    def clean_next_date(self) -> date | None:
        return _sane_day(self.cleaned_data.get("next_date"))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("next_title") and data.get("next_when") == "custom" and not data.get("next_date"):
            self.add_error("next_date", _("Pick the day of the next task."))
        return data

    def next_task(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("next_title"):
            return None
        if data["next_when"] == "custom":
            day = data["next_date"]
        else:
            day = timezone.localdate() + timedelta(days=NEXT_TASK_DAYS[data["next_when"]])
        return {"title": data["next_title"], "due_at": reminders.due_on(day), "all_day": True}

    def save(self, actor, *, contact: Contact | None, task: Task | None) -> services.Activity:
        data = self.cleaned_data
        return services.log_activity(
            kind=data["kind"],
            actor=actor,
            contact=contact,
            deal=data.get("deal"),
            task=task,
            occurred_at=data["occurred_at"],
            outcome=data.get("outcome") or "",
            subject=data.get("subject") or "",
            notes=data.get("notes") or "",
            next_task=self.next_task(),
        )
