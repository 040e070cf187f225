"""The forms strangers fill in: the help form and the CSAT answer page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from solocrm.lib.normalize import normalize_email, normalize_name

from . import services
from .models import CSAT_MAX, CSAT_MIN

HONEYPOT = "website"
LIMITS = services.FIELD_MAX_LENGTHS


class HelpForm(forms.Form):
    """Name, e-mail, subject, message and an optional order number; a signed token and a
    honeypot field that people never see (hidden by a CSS class: bots fill every field)."""

    name = forms.CharField(
        label=_("Your name"),
        max_length=LIMITS["name"],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.CharField(
        label=_("Your e-mail address"),
        max_length=LIMITS["email"],
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=LIMITS["subject"],
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    message = forms.CharField(
        label=_("Your question"),
        max_length=LIMITS["message"],
        widget=forms.Textarea(attrs={"rows": "6"}),
    )
    order_number = forms.CharField(
        label=_("Order number (optional)"),
        max_length=LIMITS["order_number"],
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)

    @property
    def is_bot(self) -> bool:
        """The honeypot was filled in: answer as if all went well, and keep nothing."""
        return bool(self.is_bound and str(self.data.get(HONEYPOT, "")).strip())

    def clean_email(self) -> str:
        try:
            return normalize_email(self.cleaned_data.get("email", ""))
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_name(self) -> str:
        return normalize_name(self.cleaned_data.get("name", ""))

    def clean_subject(self) -> str:
        return " ".join(self.cleaned_data.get("subject", "").split())

    def clean_order_number(self) -> str:
        return self.cleaned_data.get("order_number", "").strip()

    def help_request(self) -> services.HelpRequest:
        data = self.cleaned_data
        return services.HelpRequest(
            name=data["name"],
            email=data["email"],
            subject=data["subject"],
            message=data["message"],
            order_number=data["order_number"],
        )


SCORE_CHOICES = [
    (5, _("5 – Very satisfied")),
    (4, _("4 – Satisfied")),
    (3, _("3 – Neutral")),
    (2, _("2 – Dissatisfied")),
    (1, _("1 – Very dissatisfied")),
]


class CsatForm(forms.Form):
    """The one question, 1–5, with an optional comment."""

    score = forms.TypedChoiceField(
        label=_("How satisfied are you with our help?"),
        choices=SCORE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything you would like to add? (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": "3"}),
    )

    def clean_score(self) -> int:
        score = self.cleaned_data["score"]
        if not CSAT_MIN <= score <= CSAT_MAX:
            raise forms.ValidationError(_("Choose a score from 1 to 5."))
        return score
