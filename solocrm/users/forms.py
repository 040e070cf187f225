"""Forms of the first-run set-up, the API token page and the settings page."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import BaseUserCreationForm
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from solocrm.lib.access import set_role
from solocrm.lib.business import business_settings
from solocrm.lib.normalize import normalize_currency
from solocrm.lib.roles import Role

from . import business
from .models import AuditLog, BusinessProfile
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
        field = self.fields["digest_hour"]
        field.help_text = field.help_text % {"zone": business_settings().time_zone}


WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class BusinessSettingsForm(forms.Form):
    """The settings page. A field its environment variable sets is shown disabled with "Set by
    SOLOCRM_X" (the variable wins); the SMTP password is never rendered back."""

    business_name = forms.CharField(label=_("Business name"), max_length=200, required=False)
    business_address = forms.CharField(
        label=_("Address"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG or JPEG, at most 1 MB; printed on quotes."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    currency = forms.CharField(
        label=_("Default currency"),
        max_length=3,
        help_text=_("ISO 4217 code such as EUR, USD or CNY: for products, orders and figures."),
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=())
    phone_region = forms.ChoiceField(
        label=_("Phone region"),
        choices=(),
        help_text=_("The country of phone numbers written without a country code."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=(),
        help_text=_("For users who have not chosen one in the menu, and for e-mails to the owners."),
    )
    work_days = forms.TypedMultipleChoiceField(
        label=_("Working days"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    work_start = forms.TimeField(
        label=_("Working hours from"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    work_end = forms.TimeField(label=_("to"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    smtp_host = forms.CharField(
        label=_("SMTP server"),
        max_length=255,
        required=False,
        help_text=_("Blank: e-mails are saved to the outbox folder instead of being sent."),
        widget=forms.TextInput(attrs={"placeholder": "smtp.example.com", "spellcheck": "false"}),
    )
    smtp_port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, required=False)
    smtp_security = forms.ChoiceField(label=_("Encryption"), choices=BusinessProfile.Security.choices)
    smtp_user = forms.CharField(
        label=_("User name"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    smtp_password = forms.CharField(
        label=_("Password"),
        max_length=500,
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
    )
    clear_password = forms.BooleanField(label=_("Forget the stored password"), required=False)
    from_email = forms.EmailField(label=_("From address"), required=False)

    SECTIONS = {
        "business": ("business_name", "business_address", "logo", "remove_logo"),
        "regional": (
            "currency", "time_zone", "phone_region", "language", "work_days", "work_start", "work_end",
        ),
        "mail": (
            "smtp_host", "smtp_port", "smtp_security", "smtp_user", "smtp_password", "clear_password",
            "from_email",
        ),
    }  # fmt: skip

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        effective = business_settings()
        stored = business.stored_values()
        self.password_stored = business.password_is_stored()
        self.fields["time_zone"].choices = [(z, z) for z in business.time_zone_choices()]
        self.fields["phone_region"].choices = [(r, r) for r in business.region_choices()]
        self.fields["language"].choices = [("", _("The browser's language")), *settings.LANGUAGES]
        for name in business.EDITABLE:
            value = stored.get(name)
            if name == "work_days":
                self.fields[name].initial = list(effective.work_days)
            elif name in ("language", "work_start", "work_end"):
                self.fields[name].initial = value
            else:
                self.fields[name].initial = value if value not in (None, "") else getattr(effective, name)
        for name, variable in effective.locked.items():
            field = self.fields[name]
            field.disabled, field.required = True, False
            field.initial = "" if name == "smtp_password" else getattr(effective, name)
            field.help_text = _("Set by %(variable)s.") % {"variable": variable}
            if name == "smtp_password":
                self.fields["clear_password"].disabled = True
        if self.password_stored and "smtp_password" not in effective.locked:
            self.fields["smtp_password"].help_text = _(
                "A password is stored (not shown). Type a new one to replace it, or leave it blank to"
                " keep it."
            )
        else:
            del self.fields["clear_password"]
            self.SECTIONS = {
                **self.SECTIONS,
                "mail": tuple(f for f in self.SECTIONS["mail"] if f != "clear_password"),
            }

    def section(self, name: str) -> list:
        return [self[field] for field in self.SECTIONS[name]]

    def clean_currency(self) -> str:
        try:
            return normalize_currency(self.cleaned_data["currency"], "")
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        if upload.size > business.MAX_LOGO_BYTES:
            raise forms.ValidationError(_("The logo may be at most 1 MB."))
        data = upload.read()
        try:
            business.check_logo(data)
        except business.LogoError as error:
            raise forms.ValidationError(str(error)) from None
        return data

    def clean(self):
        data = super().clean()
        start, end = data.get("work_start"), data.get("work_end")
        if start and end and end <= start:
            self.add_error("work_end", _("The working day must end after it starts."))
        return data

    def save(self, actor, only=None) -> None:
        """Store the form's values (``only``: just these fields — the API and command line change
        what they were given, and leave the rest to their defaults)."""
        data = self.cleaned_data
        values = {
            name: data.get(name)
            for name in business.EDITABLE
            if name in data and not self.fields[name].disabled and (only is None or name in only)
        }
        business.update_settings(
            values,
            actor=actor,
            password=data.get("smtp_password") or None,
            clear_password=bool(data.get("clear_password")),
            logo=data.get("logo"),
            remove_logo=bool(data.get("remove_logo")),
        )


class TestEmailForm(forms.Form):
    to = forms.EmailField(label=_("Send a test e-mail to"))


def _as_text(value) -> str | list[str]:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat(timespec="minutes")
    return str(value)


def settings_form_for(changes: dict, *, logo: bytes | None = None) -> BusinessSettingsForm:
    """A bound settings form: what is saved now, changed by ``changes`` (field -> value as the
    page would send it; work_days a list). For the command line and the API, which validate
    exactly like the page. ``logo``: the bytes of a new logo."""
    current = BusinessSettingsForm()
    data = {name: _as_text(field.initial) for name, field in current.fields.items() if name != "logo"}
    data["smtp_password"] = ""
    for flag in ("remove_logo", "clear_password"):
        data.pop(flag, None)
    data.update({name: _as_text(value) for name, value in changes.items() if isinstance(value, list | tuple)})
    data.update({name: value for name, value in changes.items() if not isinstance(value, list | tuple)})
    querydict = QueryDict(mutable=True)
    for name, value in data.items():
        if isinstance(value, list):
            querydict.setlist(name, value)
        elif isinstance(value, bool):
            if value:
                querydict[name] = "on"
        else:
            querydict[name] = "" if value is None else str(value)
    files = {}
    if logo is not None:
        files["logo"] = SimpleUploadedFile("logo", logo)
    return BusinessSettingsForm(querydict, files)
