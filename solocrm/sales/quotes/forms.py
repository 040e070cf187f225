"""Forms of the quote builder, sending, accepting and declining a quote, and attachments."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from solocrm.lib.l10n import SignificantNumberInput
from solocrm.lib.normalize import (
    MAX_MONEY,
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
        widget=SignificantNumberInput(attrs={"step": "any", "inputmode": "decimal"}),  # 2.5, not 2.500
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
