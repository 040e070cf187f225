"""Forms of deals and pipelines: a deal, moving it, pipelines and stages, the deals filter."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from solocrm.contacts.models import Company, Contact
from solocrm.contacts.services import create_company
from solocrm.lib.business import business_settings
from solocrm.lib.normalize import (
    normalize_currency,
    normalize_email,
    normalize_name,
    parse_money,
)
from solocrm.sales.choices import (
    LostReason,
    StageKind,
)
from solocrm.sales.deals.models import Deal, Pipeline, Stage
from solocrm.sales.deals.services import MAX_STALL_DAYS, create_deal, update_deal

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
            "default": business_settings().currency
        }
        self.fields["owner"].queryset = _deal_users()
        if deal is None:
            self.fields["stage"].choices = stage_choices()
            self.fields["currency"].initial = business_settings().currency
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
            return normalize_currency(self.cleaned_data["currency"], business_settings().currency)
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
