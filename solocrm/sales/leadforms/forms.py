"""Forms of lead forms: the owner's settings, the leads list, converting a lead, and the public
form visitors fill in."""

from __future__ import annotations

import copy
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from solocrm.contacts.models import Contact
from solocrm.lib.business import business_settings
from solocrm.lib.normalize import (
    MAX_MONEY,
    normalize_currency,
    normalize_email,
    normalize_name,
    normalize_phone,
)
from solocrm.sales.choices import (
    LeadFormField,
)
from solocrm.sales.leadforms import services as leadforms
from solocrm.sales.leadforms.models import LeadForm


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
        return _as_form_error(normalize_currency, currency, default=business_settings().currency)

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
        return _as_form_error(normalize_phone, phone, region=business_settings().phone_region)

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
