"""The mail account form of the settings pages and the conversations filter box (the forms for
writing e-mail are in forms.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Direction, MailAccount

PASSWORD_HELP = _("Stored encrypted and never shown again. Leave blank to keep the stored one.")


class MailAccountForm(forms.ModelForm):
    """Add or change a mail account. Passwords are write-only: never rendered back; blank on an
    existing account keeps the stored one."""

    imap_password = forms.CharField(
        label=_("IMAP password or app password"),
        required=False,
        max_length=500,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    smtp_password = forms.CharField(
        label=_("SMTP password or app password"),
        required=False,
        max_length=500,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    folders = forms.MultipleChoiceField(
        label=_("Folders to read"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: the inbox and the folder the server marks as Sent."),
    )

    class Meta:
        model = MailAccount
        fields = [
            "name", "email",
            "imap_host", "imap_port", "imap_security", "imap_user",
            "smtp_host", "smtp_port", "smtp_security", "smtp_user",
            "is_support", "create_contacts_from_new_senders", "active", "poll_minutes",
        ]  # fmt: skip
        help_texts = {
            "is_support": _(
                "A shared support address: mail from people who are not contacts yet is kept, and "
                "each new sender becomes a contact (robots and no-reply senders never do)."
            ),
            "create_contacts_from_new_senders": _(
                "The same for this mailbox. Off: mail from people who are not contacts is never "
                "stored — not even its subject."
            ),
            "active": _("Off: solocrm stops reading this mailbox (the stored mail stays)."),
            "poll_minutes": _("When the server cannot tell solocrm about new mail at once (IMAP IDLE)."),
            "imap_user": _("Usually the e-mail address."),
            "smtp_host": _("For sending from this address. Blank: this mailbox is only read."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account = self.instance
        if account.pk is None:
            del self.fields["folders"]  # the server's folders are listed after the first test
        else:
            self.fields["folders"].choices = [(f, f) for f in services.known_folders(account)]
            chosen = account.folders or (
                services.default_folders(account) if services.folders_listed(account) else []
            )
            self.initial.setdefault("folders", list(chosen))
        self.fields["poll_minutes"].min_value = 1
        self.fields["poll_minutes"].widget.attrs.update(min=1, max=60)
        if account.pk is None:
            self.fields["imap_password"].required = True
            self.fields["imap_password"].help_text = _("Stored encrypted and never shown again.")
            self.fields["smtp_password"].help_text = _("Stored encrypted and never shown again.")
            self.initial.setdefault("poll_minutes", 1)
        else:
            for name in ("imap_password", "smtp_password"):
                self.fields[name].help_text = PASSWORD_HELP
        for name in ("imap_password", "smtp_password"):
            self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}_helptext"

    def clean_poll_minutes(self) -> int:
        value = self.cleaned_data["poll_minutes"]
        if not 1 <= value <= 60:
            raise forms.ValidationError(_("Between 1 and 60 minutes."))
        return value

    def changes(self) -> dict[str, Any]:
        """The cleaned values for services.create_account / update_account."""
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["imap_password"] = self.cleaned_data["imap_password"]
        data["smtp_password"] = self.cleaned_data["smtp_password"]
        if "folders" in self.fields:
            data["folders"] = list(self.cleaned_data["folders"])
        return data


class ThreadFilterForm(forms.Form):
    """The filter box of the Mail page (validated again by filters.ThreadFilter)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    account = forms.ChoiceField(label=_("Account"), required=False)
    direction = forms.ChoiceField(
        label=_("Direction"), required=False, choices=[("", _("Any")), *Direction.choices]
    )
    contact = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, accounts: list[MailAccount], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [("", _("All accounts")), *[(str(a.uuid), a.name) for a in accounts]]
