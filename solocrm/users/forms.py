"""Forms of the first-run set-up and the API token page."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import BaseUserCreationForm
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from solocrm.lib.access import set_role
from solocrm.lib.roles import Role

from .models import AuditLog
from .setup import check_setup_token, consume_setup_token


class SetupForm(BaseUserCreationForm):
    """Creates the owner account; only valid with the one-time token `solocrm serve` printed."""

    token = forms.CharField(
        label=_("Set-up token"),
        help_text=_("Printed in the console by “solocrm serve”."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True, "spellcheck": "false"}),
    )
    load_demo = forms.BooleanField(
        label=_("Load demo data (about 2,000 customers)"),
        required=False,
        help_text=_("Made-up customers, orders and notes to try solocrm with. Leave it off for real work."),
    )

    field_order = ["token", "username", "email", "password1", "password2", "load_demo"]

    class Meta(BaseUserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].label = _("E-mail address")
        self.fields["username"].widget.attrs.pop("autofocus", None)
        # BaseUserCreationForm offers "usable password" choices meant for the admin; not here.
        self.fields.pop("usable_password", None)

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip()
        if not check_setup_token(token):
            raise forms.ValidationError(_("This is not the set-up token. Copy it from the console."))
        return token

    @transaction.atomic
    def save(self, commit: bool = True):
        user = super().save(commit=False)
        user.is_staff = True  # the owner runs the admin too
        user.save()
        set_role(user, Role.OWNER)
        AuditLog.record(user, "user.setup", user, summary=user.get_username())
        consume_setup_token()
        return user


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “shop sync” or “laptop script”."),
    )


DIGEST_HOURS = [("", _("Off: no digest e-mail"))] + [(str(h), f"{h:02d}:00") for h in range(24)]


class PreferencesForm(forms.Form):
    """The user's reminders: the hour of the daily digest e-mail, or none."""

    digest_hour = forms.TypedChoiceField(
        label=_("Daily digest e-mail"),
        choices=DIGEST_HOURS,
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("Your overdue and due-today tasks, sent at this hour (%(zone)s) when there are any."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from django.conf import settings

        field = self.fields["digest_hour"]
        field.help_text = field.help_text % {"zone": settings.TIME_ZONE}
