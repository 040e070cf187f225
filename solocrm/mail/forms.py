"""Forms of the pages for writing e-mail: compose, templates, the user's signature. The work is
in mail/outgoing.py; these only read and check what was typed."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import templating
from .models import MailTemplate

MAX_FILES = 10


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            if len(data) > MAX_FILES:
                raise ValidationError(_("Attach at most %(count)d files.") % {"count": MAX_FILES})
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


def _check_merge_fields(value: str) -> str:
    templating.compile_template(value)
    return value


HELP_BODY = _(
    'Markdown: **bold**, *italic*, [link](https://…), lists with "- ". Merge fields: '
    '{{ first_name|default:"there" }}, {{ company }}, {{ my_name }}…'
)


class ComposeForm(forms.Form):
    to = forms.CharField(
        label=_("To"),
        max_length=254,
        help_text=_("The e-mail address of a contact."),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    cc = forms.CharField(
        label=_("Cc"), max_length=2000, required=False, help_text=_("Addresses separated by commas.")
    )
    subject = forms.CharField(label=_("Subject"), max_length=300)
    body = forms.CharField(
        label=_("Message"),
        max_length=100_000,
        help_text=HELP_BODY,
        widget=forms.Textarea(attrs={"rows": 14, "class": "markdown-editor", "data-markdown-toolbar": ""}),
    )
    attachments = MultipleFileField(label=_("Attachments"), required=False)
    when = forms.ChoiceField(
        label=_("Send"),
        choices=[("now", _("Now")), ("later", _("Later"))],
        initial="now",
        widget=forms.RadioSelect,
    )
    send_at = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("In your business's time zone."),
    )
    include_attachments = forms.BooleanField(
        label=_("Include the forwarded message's attachments"), required=False, initial=True
    )
    reply_to = forms.UUIDField(required=False, widget=forms.HiddenInput)
    forward = forms.UUIDField(required=False, widget=forms.HiddenInput)
    deal = forms.UUIDField(required=False, widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_cc(self) -> list[str]:
        raw = self.cleaned_data.get("cc") or ""
        return [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("when") == "later":
            when: datetime | None = data.get("send_at")
            if when is None:
                self.add_error("send_at", _("Say when to send it."))
            elif when <= timezone.now():
                self.add_error("send_at", _("That time has passed: choose a later one, or send now."))
        return data


class MailTemplateForm(forms.ModelForm):
    class Meta:
        model = MailTemplate
        fields = ["name", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 12, "class": "markdown-editor"})}
        help_texts = {"body": HELP_BODY}

    def clean_subject(self) -> str:
        value = self.cleaned_data["subject"]
        if "\r" in value or "\n" in value:
            raise ValidationError(_("The subject cannot contain a line break."))
        return _check_merge_fields(value)

    def clean_body(self) -> str:
        return _check_merge_fields(self.cleaned_data["body"])


class SignatureForm(forms.Form):
    body = forms.CharField(
        label=_("Signature"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5, "class": "markdown-editor"}),
        help_text=_("Markdown, added below every e-mail you write. Merge fields such as {{ my_name }} work."),
    )

    def clean_body(self) -> str:
        return _check_merge_fields(self.cleaned_data["body"])
