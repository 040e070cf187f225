"""The ticket pages' forms. They validate what a person typed; services.py does the work."""

from __future__ import annotations

from datetime import date, time

from django import forms
from django.utils.translation import gettext_lazy as _

from solocrm.contacts.models import Contact

from . import services
from .choices import Priority, TicketStatus
from .models import CannedReply, Ticket

WEEKDAYS = [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]


def _user_choices(blank: str) -> list[tuple[str, str]]:
    users = services.assignable_users().values_list("username", flat=True)
    return [("", blank), *((name, name) for name in users)]


class TicketFilterForm(forms.Form):
    """Only draws the queue's controls; TicketFilter (the shared definition) filters."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Any")),
            ("unsolved", _("Not solved")),
            ("active", _("Waiting on us")),
            *TicketStatus.choices,
        ],
    )
    sla = forms.ChoiceField(
        label=_("SLA"),
        required=False,
        choices=[
            ("", _("Any")),
            ("breached", _("Breached")),
            ("due_soon", _("Due soon")),
            ("on_track", _("On track")),
            ("paused", _("Clock stopped")),
        ],
    )
    ordering = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("due", _("Next deadline")),
            ("priority", _("Priority")),
            ("-created", _("Newest first")),
            ("created", _("Oldest first")),
            ("-updated", _("Recently changed")),
            ("-number", _("Number")),
        ],
    )
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=[("", _("Any")), *Priority.choices]
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=60)

    MORE = ("priority", "assignee", "tag")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [
            *_user_choices(_("Anybody")),
            ("none", _("Nobody")),
        ]

    def main_fields(self) -> list:
        return [self[name] for name in ("status", "sla", "ordering")]

    def more_fields(self) -> list:
        return [self[name] for name in self.MORE]

    def more_is_used(self) -> bool:
        return any(self.initial.get(name) for name in self.MORE)


class VersionedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)


class TicketForm(forms.Form):
    """A ticket entered by hand: the customer (by e-mail) and their question."""

    email = forms.EmailField(label=_("Customer's e-mail"), max_length=254)
    subject = forms.CharField(label=_("Subject"), max_length=300)
    body = forms.CharField(
        label=_("What the customer asked"), widget=forms.Textarea(attrs={"rows": 6}), required=False
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL)

    def clean_email(self) -> Contact:
        email = self.cleaned_data["email"]
        contact = Contact.objects.filter(email__iexact=email).order_by("pk").first()
        if contact is None:
            raise forms.ValidationError(_("No contact has this e-mail address. Add the contact first."))
        return contact


class ReplyForm(VersionedForm):
    body = forms.CharField(
        label=_("Reply"), widget=forms.Textarea(attrs={"rows": 8}), max_length=services.MAX_BODY
    )
    status = forms.ChoiceField(
        label=_("Then set the status to"),
        required=False,
        choices=[("", _("Leave as it is")), *TicketStatus.choices],
        initial=TicketStatus.WAITING,
    )
    canned = forms.UUIDField(widget=forms.HiddenInput, required=False)


class NoteForm(VersionedForm):
    body = forms.CharField(
        label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 4}), max_length=services.MAX_BODY
    )


class TicketUpdateForm(VersionedForm):
    status = forms.ChoiceField(label=_("Status"), choices=TicketStatus.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=1000, help_text=_("Separated by commas.")
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = _user_choices(_("Nobody"))

    @staticmethod
    def initial_for(ticket: Ticket) -> dict:
        return {
            "version": ticket.version,
            "status": ticket.status,
            "priority": ticket.priority,
            "assignee": ticket.assignee.get_username() if ticket.assignee else "",
            "tags": ", ".join(tag.name for tag in ticket.tags.all()),
        }

    def clean_tags(self) -> list[str]:
        names = [name.strip() for name in self.cleaned_data["tags"].split(",")]
        if any(len(name) > 60 for name in names):
            raise forms.ValidationError(_("A tag is at most 60 characters."))
        return [name for name in names if name]


class LinkForm(VersionedForm):
    deal = forms.ChoiceField(label=_("Deal"), required=False)
    order = forms.ChoiceField(label=_("Order"), required=False)

    def __init__(self, *args, ticket: Ticket, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        contact = ticket.contact
        deals = contact.deals.order_by("-created_at")[:50] if contact else []
        orders = contact.orders.order_by("-ordered_at")[:50] if contact else []
        self.fields["deal"].choices = [("", _("None")), *((str(d.uuid), d.title) for d in deals)]
        self.fields["order"].choices = [("", _("None")), *((str(o.uuid), str(o)) for o in orders)]


class MergeForm(VersionedForm):
    into = forms.IntegerField(
        label=_("Merge into ticket number"),
        min_value=1,
        help_text=_("This ticket is closed and its messages move there."),
    )


class BulkForm(forms.Form):
    """The queue's bulk actions on the ticked rows."""

    tickets = forms.CharField(required=False)  # read with getlist in the view
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[
            ("assign", _("Assign to")),
            ("status", _("Set status")),
            ("priority", _("Set priority")),
            ("tag", _("Add tag")),
        ],
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=TicketStatus.choices)
    priority = forms.ChoiceField(label=_("Priority"), required=False, choices=Priority.choices)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=60)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = _user_choices(_("Nobody"))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("action") == "tag" and not (data.get("tag") or "").strip():
            self.add_error("tag", _("Name the tag to add."))
        return data


class CannedReplyForm(forms.ModelForm):
    class Meta:
        model = CannedReply
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}
        help_texts = {
            "body": _(
                "Fields filled in for each ticket: "
                "{first_name}, {full_name}, {ticket_number}, {ticket_subject}."
            )
        }


class SlaPolicyForm(forms.Form):
    """Business hours (one interval per weekday; blank: closed), holidays and targets."""

    holidays = forms.CharField(
        label=_("Holidays"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One date per line (YYYY-MM-DD). The clock stops on these days."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for day, label in enumerate(WEEKDAYS):
            self.fields[f"open_{day}"] = forms.TimeField(
                label=_("%(day)s from") % {"day": label},
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}),
            )
            self.fields[f"close_{day}"] = forms.TimeField(
                label=_("%(day)s until") % {"day": label},
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}),
            )
        for priority, label in Priority.choices:
            self.fields[f"first_{priority}"] = forms.IntegerField(
                label=_("First response, %(priority)s (minutes)") % {"priority": label},
                min_value=0,
                max_value=525_600,
            )
            self.fields[f"resolve_{priority}"] = forms.IntegerField(
                label=_("Resolution, %(priority)s (minutes)") % {"priority": label},
                min_value=0,
                max_value=525_600,
            )

    @staticmethod
    def initial_for(policy) -> dict:
        initial: dict = {"holidays": "\n".join(policy.holidays)}
        for day in range(7):
            pairs = policy.business_hours.get(str(day)) or []
            if pairs:
                initial[f"open_{day}"], initial[f"close_{day}"] = pairs[0]
        for priority in Priority.values:
            initial[f"first_{priority}"] = policy.first_response_minutes.get(priority, 0)
            initial[f"resolve_{priority}"] = policy.resolution_minutes.get(priority, 0)
        return initial

    def days(self) -> list:
        return [(label, self[f"open_{day}"], self[f"close_{day}"]) for day, label in enumerate(WEEKDAYS)]

    def targets(self) -> list:
        return [(label, self[f"first_{p}"], self[f"resolve_{p}"]) for p, label in Priority.choices]

    def clean_holidays(self) -> list[str]:
        days = []
        for line in self.cleaned_data["holidays"].split():
            try:
                days.append(date.fromisoformat(line.strip()).isoformat())
            except ValueError:
                raise forms.ValidationError(
                    _("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": line}
                ) from None
        return days

    def clean(self) -> dict:
        data = super().clean()
        for day in range(7):
            start, end = data.get(f"open_{day}"), data.get(f"close_{day}")
            if (start is None) != (end is None):
                self.add_error(f"close_{day}", _("Give both times, or neither for a closed day."))
            elif start is not None and end != time(0) and end <= start:
                self.add_error(f"close_{day}", _("The day ends before it starts."))
        return data

    def values(self) -> dict:
        data = self.cleaned_data
        hours = {
            str(day): [[data[f"open_{day}"].strftime("%H:%M"), data[f"close_{day}"].strftime("%H:%M")]]
            for day in range(7)
            if data.get(f"open_{day}") is not None and data.get(f"close_{day}") is not None
        }
        return {
            "business_hours": hours,
            "holidays": data["holidays"],
            "first_response_minutes": {p: data[f"first_{p}"] for p in Priority.values},
            "resolution_minutes": {p: data[f"resolve_{p}"] for p in Priority.values},
        }
