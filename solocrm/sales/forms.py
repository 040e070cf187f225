"""Task forms: the quick "add a task" on a contact's page and the tasks page."""

from __future__ import annotations

import copy
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from solocrm.contacts.choices import InteractionKind
from solocrm.contacts.models import Company, Contact
from solocrm.contacts.services import create_company
from solocrm.lib.normalize import (
    MAX_MONEY,
    normalize_currency,
    normalize_email,
    normalize_name,
    normalize_phone,
    parse_money,
)

from . import leadforms, reminders, services
from .choices import LeadFormField, LostReason, Outcome, Priority, RecurrenceUnit, StageKind, TaskKind
from .models import Deal, LeadForm, Pipeline, Product, Stage, Task
from .pipeline import MAX_STALL_DAYS, create_deal, update_deal
from .services import create_task, update_task

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


# --- products, quotes and attachments -----------------------------------------------------------


class ProductForm(forms.ModelForm):
    """A product of the catalogue; quote and order lines keep their own copy of its values."""

    class Meta:
        model = Product
        fields = ["name", "sku", "price", "currency", "description", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].required = False
        self.fields["currency"].help_text = _("Three letters (EUR, USD…); blank: %(default)s.") % {
            "default": settings.SOLOCRM_CURRENCY
        }

    def clean_price(self):
        price = self.cleaned_data["price"]
        if price is not None and not Decimal("0") <= price <= MAX_MONEY:
            raise forms.ValidationError(_("The price must be between 0 and %(max)s.") % {"max": MAX_MONEY})
        return price

    def clean_currency(self) -> str:
        try:
            return normalize_currency(self.cleaned_data["currency"], settings.SOLOCRM_CURRENCY)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class ProductFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("true", _("On sale")), ("false", _("Withdrawn"))],
    )


def _percent_field(label) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,  # blank: none
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        initial=Decimal("0"),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


class QuoteForm(forms.Form):
    """The quote's own fields; the lines come in a QuoteLineFormSet."""

    issued_on = forms.DateField(label=_("Issued on"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        help_text=_("Default: 30 days after the issue date."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    discount_percent = _percent_field(_("Discount on the quote (%)"))
    introduction = forms.CharField(
        label=_("Introduction"), required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
    )
    terms = forms.CharField(
        label=_("Terms"), required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean(self) -> dict:
        data = super().clean()
        issued, valid = data.get("issued_on"), data.get("valid_until")
        if issued and valid and valid < issued:
            self.add_error("valid_until", _("The quote cannot be valid until a day before it is issued."))
        for name in ("issued_on", "valid_until"):
            day = data.get(name)
            if day and not 1900 <= day.year <= 2200:
                self.add_error(name, _("This date is out of range."))
        return data

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        if not data.get("valid_until"):
            del data["valid_until"]  # the service's default: issued + 30 days
        return data


class QuoteLineForm(forms.Form):
    product = forms.UUIDField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Item"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 1})
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        min_value=Decimal("0.001"),
        max_value=Decimal("1000000000"),
        max_digits=13,
        decimal_places=3,
        initial=Decimal("1"),
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        min_value=0,
        max_value=MAX_MONEY,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    discount_percent = _percent_field(_("Discount (%)"))
    tax_rate = _percent_field(_("Tax (%)"))


QuoteLineFormSet = forms.formset_factory(
    QuoteLineForm, extra=0, max_num=200, absolute_max=200, validate_max=True
)


class SendQuoteForm(forms.Form):
    to = forms.EmailField(label=_("Send to"), max_length=254)
    message = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Goes above the quote's summary and the link to accept it."),
    )


class AcceptQuoteForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    agree = forms.BooleanField(label=_("I accept this quote and its terms"))


class DeclineQuoteForm(forms.Form):
    reason = forms.CharField(
        label=_("Why not? (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))


# --- lead forms and leads -----------------------------------------------------------------------


def _as_form_error(normalize, value: str, **kwargs) -> str:
    try:
        return normalize(value, **kwargs)
    except ValueError as error:
        raise forms.ValidationError(str(error)) from None


class LeadFormForm(forms.ModelForm):
    """Create or edit a lead form; the save goes through solocrm.sales.leadforms."""

    fields = forms.MultipleChoiceField(
        label=_("Fields to ask"),
        choices=LeadFormField.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Shown in this order. Ask at least for an e-mail address or a phone number."),
    )
    required_fields = forms.MultipleChoiceField(
        label=_("Required fields"),
        choices=LeadFormField.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = LeadForm
        fields = [
            "name",
            "title",
            "introduction",
            "fields",
            "required_fields",
            "submit_label",
            "thank_you",
            "consent_text",
            "source",
            "active",
            "notify_owner",
        ]
        help_texts = {
            "name": _("For you; visitors see the heading."),
            "consent_text": _(
                "When set, the form shows a checkbox with this text; a visitor who ticks it gives "
                "e-mail consent, and the exact text is kept with the submission."
            ),
            "source": _("The acquisition source new leads get, e.g. “website” or “spring fair”."),
            "thank_you": _("Shown after sending; blank: a short default thank-you."),
        }
        widgets = {
            "introduction": forms.Textarea(attrs={"rows": 3}),
            "thank_you": forms.Textarea(attrs={"rows": 3}),
            "consent_text": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, instance: LeadForm | None = None, **kwargs) -> None:
        # The form works on a copy, so the service still sees the old values and logs the change.
        self.original = instance
        super().__init__(*args, instance=copy.copy(instance) if instance is not None else None, **kwargs)

    def clean(self) -> dict:
        data = super().clean()
        if "fields" in data:
            try:
                data["fields"], data["required_fields"] = leadforms.clean_field_choice(
                    data["fields"], data.get("required_fields") or []
                )
            except leadforms.FieldChoiceError as error:
                self.add_error(error.field, str(error))
        return data

    def save(self, actor=None) -> LeadForm:  # type: ignore[override]
        values = {name: self.cleaned_data[name] for name in self._meta.fields}
        if self.original is None:
            return leadforms.create_lead_form(values, actor=actor)
        return leadforms.update_lead_form(self.original, values, actor=actor)


class LeadFilterForm(forms.Form):
    """The filter box of the leads page (validated again by leadforms.LeadFilter)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    source = forms.ChoiceField(label=_("Source"), required=False)
    waiting = forms.ChoiceField(
        label=_("Reply"),
        required=False,
        choices=[("", _("Any")), ("true", _("Waiting for a reply")), ("false", _("Replied"))],
    )

    def __init__(self, *args, sources: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", _("Any source")), *[(s, s) for s in sources]]


class LeadConvertForm(forms.Form):
    """Convert a lead: make it a customer (or a prospect) and/or open a deal."""

    to_customer = forms.TypedChoiceField(
        label=_("The contact becomes"),
        choices=[("0", _("A prospect (not bought yet)")), ("1", _("A customer"))],
        coerce=lambda value: value == "1",
        initial="0",
        widget=forms.RadioSelect,
    )
    open_deal = forms.BooleanField(label=_("Open a deal"), required=False, initial=True)
    deal_title = forms.CharField(label=_("Deal title"), required=False, max_length=200)
    amount = forms.DecimalField(
        label=_("Amount"),
        required=False,
        min_value=Decimal("0"),
        max_value=MAX_MONEY,
        max_digits=14,
        decimal_places=2,
    )
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3)

    def clean_currency(self) -> str:
        currency = self.cleaned_data.get("currency", "")
        return _as_form_error(normalize_currency, currency, default=settings.SOLOCRM_CURRENCY)

    def save(self, contact: Contact, actor=None) -> leadforms.Conversion:
        data = self.cleaned_data
        return leadforms.convert_lead(
            contact,
            to_customer=data["to_customer"],
            open_deal=data["open_deal"],
            deal_title=data["deal_title"],
            amount=data["amount"] or Decimal("0.00"),
            currency=data["currency"],
            actor=actor,
        )


# Per asked field: (form field class, widget, autocomplete hint for the visitor's browser).
_PUBLIC_WIDGETS = {
    LeadFormField.FIRST_NAME: (forms.TextInput, "given-name"),
    LeadFormField.LAST_NAME: (forms.TextInput, "family-name"),
    LeadFormField.EMAIL: (forms.EmailInput, "email"),
    LeadFormField.PHONE: (forms.TextInput, "tel"),
    LeadFormField.COMPANY: (forms.TextInput, "organization"),
    LeadFormField.JOB_TITLE: (forms.TextInput, "organization-title"),
    LeadFormField.MESSAGE: (forms.Textarea, "off"),
}
HONEYPOT = "website"


class PublicLeadForm(forms.Form):
    """What a visitor fills in: the lead form's fields, the consent checkbox when it has a
    consent text, the signed token, and a honeypot field that people never see."""

    token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)

    def __init__(self, data=None, *, lead_form: LeadForm, token: str = "", **kwargs) -> None:
        super().__init__(data, initial={"token": token}, **kwargs)
        self.lead_form = lead_form
        required = set(lead_form.required_fields)
        for name in lead_form.fields:
            self.fields[name] = self._field(LeadFormField(name), name in required)
        if lead_form.consent_text:
            self.fields["consent"] = forms.BooleanField(label=lead_form.consent_text, required=False)
        # Hidden by a CSS class (not inline style): bots fill every field they find.
        self.fields[HONEYPOT] = forms.CharField(
            label=_("Leave this field empty"),
            required=False,
            widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
        )
        self.fields["token"] = self.fields.pop("token")  # after the visible fields

    @staticmethod
    def _field(name: LeadFormField, required: bool) -> forms.Field:
        widget_class, autocomplete = _PUBLIC_WIDGETS[name]
        attrs = {"autocomplete": autocomplete}
        if name == LeadFormField.PHONE:
            attrs["type"] = "tel"
        if name == LeadFormField.MESSAGE:
            attrs["rows"] = "5"
        return forms.CharField(
            label=_("%(label)s (required)") % {"label": name.label} if required else name.label,
            required=required,
            max_length=leadforms.FIELD_MAX_LENGTHS[name],
            strip=True,
            widget=widget_class(attrs=attrs),
        )

    @property
    def is_bot(self) -> bool:
        """The honeypot was filled in: answer as if all went well, and keep nothing."""
        return bool(self.is_bound and str(self.data.get(HONEYPOT, "")).strip())

    def clean_email(self) -> str:
        return _as_form_error(normalize_email, self.cleaned_data.get("email", ""))

    def clean_phone(self) -> str:
        phone = self.cleaned_data.get("phone", "")
        return _as_form_error(normalize_phone, phone, region=settings.SOLOCRM_PHONE_REGION)

    def clean_first_name(self) -> str:
        return normalize_name(self.cleaned_data.get("first_name", ""))

    def clean_last_name(self) -> str:
        return normalize_name(self.cleaned_data.get("last_name", ""))

    def clean_company(self) -> str:
        return " ".join(self.cleaned_data.get("company", "").split())

    def clean_title(self) -> str:
        return " ".join(self.cleaned_data.get("title", "").split())

    def clean(self) -> dict:
        data = super().clean()
        reachable = {"email", "phone"} & set(self.lead_form.fields)
        if reachable and not self.errors and not any(data.get(name) for name in reachable):
            self.add_error(
                sorted(reachable)[0],
                _("Give an e-mail address or a phone number, so that we can reply."),
            )
        return data

    @property
    def consent(self) -> bool:
        return bool(self.cleaned_data.get("consent"))

    def answers(self) -> dict[str, str]:
        """The filled-in fields, normalised, in the form's order."""
        data = self.cleaned_data
        return {name: data[name] for name in self.lead_form.fields if data.get(name)}


# --- deals and pipelines (solocrm.sales.views_deals) --------------------------------------------

# Later than this is a typo (0202 for 2026, 20266…); the API refuses the same.
DATE_RANGE = (date(1900, 1, 1), date(2200, 12, 31))


def _sane_date(value: date | None) -> date | None:
    if value is not None and not DATE_RANGE[0] <= value <= DATE_RANGE[1]:
        raise forms.ValidationError(_("Give a date between the years 1900 and 2200."))
    return value


def _deal_users():
    return get_user_model().objects.filter(is_active=True).order_by("username")


def stage_choices(open_only: bool = True) -> list:
    """Stages grouped by pipeline (value: the stage's UUID), for a <select> with optgroups."""
    stages = Stage.objects.select_related("pipeline").order_by(
        "-pipeline__is_default", "pipeline__name", "position"
    )
    if open_only:
        stages = stages.filter(kind=StageKind.OPEN)
    groups: dict[str, list] = {}
    for stage in stages:
        groups.setdefault(stage.pipeline.name, []).append((str(stage.uuid), stage.name))
    if len(groups) == 1:
        return next(iter(groups.values()))
    return list(groups.items())


class DealForm(forms.Form):
    """A new deal, or the fields of an existing one (its stage changes by moving it)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    contact = forms.CharField(
        label=_("Contact"),
        required=False,
        max_length=254,
        help_text=_("The e-mail address of an existing contact (or leave blank)."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    company_name = forms.CharField(
        label=_("Company"),
        required=False,
        max_length=200,
        help_text=_("Blank: the contact's company. A new name creates the company."),
    )
    stage = forms.ChoiceField(label=_("Stage"))
    amount = forms.CharField(
        label=_("Amount"),
        max_length=40,
        initial="0",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("What the deal is worth, e.g. 1200 or 1,200.50."),
    )
    currency = forms.CharField(label=_("Currency"), required=False, max_length=10)
    expected_close = forms.DateField(
        label=_("Expected close date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    next_step = forms.CharField(label=_("Next step"), required=False, max_length=200)
    source = forms.CharField(
        label=_("Source"), required=False, max_length=100, help_text=_("Blank: the contact's source.")
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=_deal_users(), to_field_name="username", required=False
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 3})
    )
    # As in the contact form: an edit made meanwhile elsewhere is refused, not overwritten.
    loaded_version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, deal: Deal | None = None, contact: Contact | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.deal = deal
        self.fields["currency"].help_text = _("Three letters (EUR, USD…); blank: %(default)s.") % {
            "default": settings.SOLOCRM_CURRENCY
        }
        self.fields["owner"].queryset = _deal_users()
        if deal is None:
            self.fields["stage"].choices = stage_choices()
            self.fields["currency"].initial = settings.SOLOCRM_CURRENCY
            if contact is not None:
                self.fields["contact"].initial = contact.email or str(contact.uuid)
        else:
            del self.fields["stage"]
            self.initial.update(self._initial_from(deal))

    @staticmethod
    def _initial_from(deal: Deal) -> dict:
        fields = ("title", "amount", "currency", "expected_close", "next_step", "source", "notes")
        initial = {name: getattr(deal, name) for name in fields}
        initial["contact"] = (deal.contact.email or str(deal.contact.uuid)) if deal.contact else ""
        initial["company_name"] = deal.company.name if deal.company else ""
        initial["owner"] = deal.owner.username if deal.owner else None
        initial["loaded_version"] = deal.updated_at.isoformat()
        return initial

    def clean_contact(self) -> Contact | None:
        value = self.cleaned_data["contact"].strip()
        if not value:
            return None
        try:
            contact = Contact.objects.filter(uuid=uuid.UUID(value)).first()
        except ValueError:
            try:
                email = normalize_email(value)
            except ValueError as error:
                raise forms.ValidationError(str(error)) from None
            contact = Contact.objects.filter(email=email).first()
        if contact is None:
            raise forms.ValidationError(_("There is no contact with this e-mail address."))
        return contact

    def clean_stage(self) -> Stage:
        stage = (
            Stage.objects.select_related("pipeline").filter(uuid=_uuid(self.cleaned_data["stage"])).first()
        )
        if stage is None or stage.kind != StageKind.OPEN:
            raise forms.ValidationError(_("Choose an open stage."))
        return stage

    def clean_amount(self) -> Decimal:
        try:
            amount = parse_money(self.cleaned_data["amount"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        if amount < 0:
            raise forms.ValidationError(_("The amount cannot be negative."))
        return amount

    def clean_currency(self) -> str:
        try:
            return normalize_currency(self.cleaned_data["currency"], settings.SOLOCRM_CURRENCY)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_expected_close(self) -> date | None:
        return _sane_date(self.cleaned_data["expected_close"])

    def clean(self) -> dict:
        data = super().clean()
        loaded = data.get("loaded_version")
        if self.deal is not None and loaded:
            current = Deal.objects.filter(pk=self.deal.pk).values_list("updated_at", flat=True).first()
            if current is not None and current.isoformat() != loaded:
                raise forms.ValidationError(
                    _(
                        "Someone else changed this deal after you opened it. Your changes are still "
                        "in the form: copy what you need, reload the page to see theirs, and save again."
                    )
                )
        return data

    def service_data(self) -> dict:
        names = (
            "title",
            "contact",
            "amount",
            "currency",
            "expected_close",
            "next_step",
            "source",
            "owner",
            "notes",
        )
        data = {name: self.cleaned_data[name] for name in names}
        if "stage" in self.cleaned_data:
            data["stage"] = self.cleaned_data["stage"]
            data["pipeline"] = data["stage"].pipeline
        return data

    @transaction.atomic
    def save(self, actor) -> Deal:
        """Create or update the deal through solocrm.sales.pipeline (which keeps the audit log)."""
        data = self.service_data()
        data["company"] = self._company(actor, data["contact"])
        if self.deal is None:
            if data["owner"] is None:
                data.pop("owner")  # create_deal makes the creator the owner
            return create_deal(data, actor=actor)
        return update_deal(self.deal, data, actor=actor)

    def _company(self, actor, contact: Contact | None) -> Company | None:
        name = normalize_name(self.cleaned_data.get("company_name", ""))
        if not name:
            return contact.company if contact is not None else None
        company = Company.objects.filter(name__iexact=name).order_by("id").first()
        return company or create_company({"name": name}, actor=actor)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


class MoveDealForm(forms.Form):
    """Move a deal to a stage of its own pipeline: the board's drop, the card's "Move" button and
    the Won/Lost buttons of the deal page. A lost stage needs the reason."""

    stage = forms.ModelChoiceField(label=_("Move to"), queryset=Stage.objects.none(), to_field_name="uuid")
    above = forms.UUIDField(required=False, widget=forms.HiddenInput)
    below = forms.UUIDField(required=False, widget=forms.HiddenInput)
    lost_reason = forms.ChoiceField(
        label=_("Why was it lost?"), required=False, choices=[("", "—"), *LostReason.choices]
    )
    lost_note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, deal: Deal, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.deal = deal
        # Only this deal's pipeline: a stage of another pipeline is "not one of the choices".
        self.fields["stage"].queryset = Stage.objects.filter(pipeline_id=deal.pipeline_id).order_by(
            "position", "id"
        )
        if deal.stage_id:
            self.fields["stage"].initial = deal.stage.uuid

    def clean(self) -> dict:
        data = super().clean()
        stage = data.get("stage")
        if stage is not None and stage.kind == StageKind.LOST and not data.get("lost_reason"):
            self.add_error("lost_reason", _("Say why the deal was lost."))
        return data

    def neighbour(self, name: str) -> Deal | None:
        """The card dropped next to (``above``/``below``), if it is in the target column."""
        key = self.cleaned_data.get(name)
        if key is None:
            return None
        return Deal.objects.filter(uuid=key, stage=self.cleaned_data["stage"]).first()


class PipelineForm(forms.ModelForm):
    class Meta:
        model = Pipeline
        fields = ["name", "stall_days", "is_default"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stall_days"].min_value = 1
        self.fields["stall_days"].widget.attrs.update({"min": 1, "max": MAX_STALL_DAYS})
        self.fields["stall_days"].validators.append(MaxValueValidator(MAX_STALL_DAYS))
        self.fields["stall_days"].help_text = _(
            "An open deal with no activity (a move, a call, a quote) for this many days is marked stalled."
        )

    def clean_stall_days(self) -> int:
        days = self.cleaned_data["stall_days"]
        if days is None or days < 1:
            raise forms.ValidationError(_("At least one day."))
        return days


class StageForm(forms.ModelForm):
    class Meta:
        model = Stage
        fields = ["name", "probability", "kind"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["probability"].validators.append(MaxValueValidator(100))
        self.fields["probability"].widget.attrs.update({"min": 0, "max": 100})


class DealFilterForm(forms.Form):
    """Only draws the controls; DealFilter (the shared definition) does the filtering."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any")), ("open", _("Open")), ("won", _("Won")), ("lost", _("Lost"))],
    )
    stage = forms.ChoiceField(label=_("Stage"), required=False)
    ordering = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("-created", _("Newest first")),
            ("created", _("Oldest first")),
            ("close", _("Close date")),
            ("-amount", _("Largest amount")),
            ("amount", _("Smallest amount")),
            ("title", _("Title A–Z")),
            ("stage", _("Stage")),
            ("activity", _("Quietest first")),
        ],
    )
    pipeline = forms.ChoiceField(label=_("Pipeline"), required=False)
    stalled = forms.ChoiceField(
        label=_("Stalled"), required=False, choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))]
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    source = forms.CharField(label=_("Source"), required=False, max_length=100)
    close_after = forms.DateField(
        label=_("Closing from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    close_before = forms.DateField(
        label=_("Closing until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    MORE = ("pipeline", "stalled", "owner", "source", "close_after", "close_before")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [("", _("Any")), *stage_choices(open_only=False)]
        pipelines = Pipeline.objects.order_by("-is_default", "name").values_list("uuid", "name")
        self.fields["pipeline"].choices = [("", _("Any")), *((str(key), name) for key, name in pipelines)]
        users = _deal_users().values_list("username", flat=True)
        self.fields["owner"].choices = [("", _("Anybody")), *((name, name) for name in users)]

    def main_fields(self) -> list:
        return [self[name] for name in ("status", "stage", "ordering")]

    def more_fields(self) -> list:
        return [self[name] for name in self.MORE]

    def more_is_used(self) -> bool:
        return any(self.initial.get(name) for name in self.MORE)
