"""Forms of the contact and company pages and of the import screens.

Edit forms validate and normalise; the writes go through solocrm.contacts.services, which keep
the timeline and the audit log."""

from __future__ import annotations

import copy
import hashlib
import secrets
from pathlib import Path

from django import forms
from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from solocrm.lib.business import business_settings
from solocrm.lib.normalize import normalize_email, normalize_name, normalize_phone

from . import services
from .choices import Channel, ImportKind, InteractionKind, LifecycleStage
from .models import Company, Contact, ImportJob, Interaction

TAGS_HELP = _("Separate tags with commas, e.g. “vip, newsletter”.")


def _normalized(normalize, value: str, **kwargs) -> str:
    try:
        return normalize(value, **kwargs)
    except ValueError as error:
        raise forms.ValidationError(str(error)) from None


def split_tags(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


class ServiceModelForm(forms.ModelForm):
    """A ModelForm whose save goes through a service function.

    Django's ModelForm writes the cleaned values onto its instance while validating; it gets a
    copy here, so the service still sees the old values and can record what changed."""

    tags_text = forms.CharField(label=_("Tags"), required=False, max_length=600, help_text=TAGS_HELP)
    # When the record was last saved as the user opened the form: an edit made meanwhile by
    # someone else (or another tab) is refused instead of silently overwritten.
    loaded_version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, instance=None, **kwargs) -> None:
        self.original = instance
        super().__init__(*args, instance=copy.copy(instance) if instance is not None else None, **kwargs)
        if instance is not None:
            self.fields["tags_text"].initial = ", ".join(tag.name for tag in instance.tags.all())
            self.fields["loaded_version"].initial = instance.updated_at.isoformat()

    def clean_loaded_version(self) -> str:
        loaded = self.cleaned_data.get("loaded_version", "")
        if self.original is None or not loaded:
            return loaded
        model = type(self.original)
        current = model.objects.filter(pk=self.original.pk).values_list("updated_at", flat=True).first()
        if current is not None and current.isoformat() != loaded:
            # A form-wide error: the hidden field has no place on the page to show its own.
            self.add_error(
                None,
                _(
                    "Someone else changed this record after you opened it. Your changes are still "
                    "in the form: copy what you need, reload the page to see theirs, and save again."
                ),
            )
        return loaded

    def _get_validation_exclusions(self) -> set[str]:
        """Uniqueness is the service's to check (a Conflict, shown on the field it is about):
        Django would report the e-mail's expression constraint as a form-wide error, so the
        model's constraint check leaves the e-mail out."""
        return {*super()._get_validation_exclusions(), "email"}

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}
        data["tags"] = split_tags(self.cleaned_data.get("tags_text", ""))
        return data


MAX_CUSTOM_FIELDS = 50
CUSTOM_KEY_LENGTH = 60
CUSTOM_VALUE_LENGTH = 1000


def custom_field_name(key: str) -> str:
    """The form field of custom field ``key``: stable, and safe as an HTML id whatever the key."""
    return "cf_" + hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:12]


def custom_text(value) -> str:
    """A stored custom value as the text a person edits (True -> 'true', None -> '')."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ContactForm(ServiceModelForm):
    # Plain text fields: the normaliser, not Django's EmailField, decides and explains.
    email = forms.CharField(
        label=_("E-mail"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"type": "tel"}),
        help_text=_("With the country code (+44 20 7946 0958), or a local number of the default region."),
    )
    company_name = forms.CharField(
        label=_("Company"), required=False, max_length=200, help_text=_("A new name creates the company.")
    )

    field_order = ["first_name", "last_name", "email", "phone", "company_name", "title"]

    class Meta:
        model = Contact
        fields = [
            "first_name", "last_name", "email", "phone", "title", "lifecycle_stage", "channel", "source",
            "email_consent", "birthday", "street", "city", "region", "postal_code", "country", "notes",
        ]  # fmt: skip
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    new_custom_key = forms.CharField(
        label=_("New custom field"),
        required=False,
        max_length=CUSTOM_KEY_LENGTH,
        help_text=_("A name, such as “Shoe size”; give its value beside it."),
    )
    new_custom_value = forms.CharField(label=_("Value"), required=False, max_length=CUSTOM_VALUE_LENGTH)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.original is not None and self.original.company_id:
            self.fields["company_name"].initial = self.original.company.name
        # One text field per custom field the contact has (imports keep unknown columns there);
        # an emptied one is removed. They follow the standard fields, before the new one.
        self.custom = dict(self.original.custom_fields or {}) if self.original is not None else {}
        new_fields = {name: self.fields.pop(name) for name in ("new_custom_key", "new_custom_value")}
        for key in sorted(self.custom, key=str.casefold):
            self.fields[custom_field_name(key)] = forms.CharField(
                label=key,
                required=False,
                max_length=CUSTOM_VALUE_LENGTH,
                initial=custom_text(self.custom[key]),
                help_text=_("Custom field; leave empty to remove it."),
            )
        self.fields.update(new_fields)

    def custom_fields(self) -> list:
        """The bound fields of the existing custom fields, by name."""
        return [self[custom_field_name(key)] for key in sorted(self.custom, key=str.casefold)]

    def clean_new_custom_key(self) -> str:
        key = " ".join(self.cleaned_data.get("new_custom_key", "").split())
        if key and key in self.custom:
            raise forms.ValidationError(
                _("This contact already has “%(key)s”; change it above.") % {"key": key}
            )
        if key and len(self.custom) >= MAX_CUSTOM_FIELDS:
            raise forms.ValidationError(
                _("A contact has at most %(count)s custom fields.") % {"count": MAX_CUSTOM_FIELDS}
            )
        return key

    def clean_custom_fields(self, data: dict) -> dict:
        """The contact's custom fields after this form: changed values, removed empty ones, the
        new one. A value left as it was keeps its type (a number stays a number)."""
        custom = {}
        for key, old in self.custom.items():
            text = (data.get(custom_field_name(key)) or "").strip()
            if text == custom_text(old):
                custom[key] = old
            elif text:
                custom[key] = text
        key, value = data.get("new_custom_key", ""), (data.get("new_custom_value") or "").strip()
        if key and not value:
            self.add_error("new_custom_value", _("Give the value of “%(key)s”.") % {"key": key})
        elif value and not key and "new_custom_key" not in self.errors:
            self.add_error("new_custom_key", _("Give the custom field a name."))
        elif key and value:
            custom[key] = value
        return custom

    def clean_first_name(self) -> str:
        return normalize_name(self.cleaned_data["first_name"])

    def clean_last_name(self) -> str:
        return normalize_name(self.cleaned_data["last_name"])

    def clean_email(self) -> str:
        return _normalized(normalize_email, self.cleaned_data["email"])

    def clean_phone(self) -> str:
        return _normalized(
            normalize_phone, self.cleaned_data["phone"], region=business_settings().phone_region
        )

    def clean(self) -> dict:
        data = super().clean()
        data["custom_fields"] = self.clean_custom_fields(data)
        if not any(data.get(name) for name in ("first_name", "last_name", "email", "phone")):
            raise forms.ValidationError(_("Give at least a name, an e-mail address or a phone number."))
        return data

    def save(self, actor) -> Contact | None:
        """Create or update the contact; None (with a form error) when the e-mail is taken."""
        data = self.service_data()
        if self.cleaned_data["custom_fields"] != self.custom:
            data["custom_fields"] = self.cleaned_data["custom_fields"]
        try:
            with transaction.atomic():  # a refused contact must not leave a new company behind
                data["company"] = self._company(actor)
                if self.original is None:
                    return services.create_contact(data, actor=actor, via=str(_("web form")))
                return services.update_contact(self.original, data, actor=actor, via=str(_("web form")))
        except services.Conflict:
            self.add_error("email", _("Another contact already has this e-mail address."))
            return None

    def _company(self, actor) -> Company | None:
        # Matching by name (any case) is what a person typing a company name means.
        name = normalize_name(self.cleaned_data.get("company_name", ""))
        if not name:
            return None
        company = Company.objects.filter(name__iexact=name).order_by("id").first()
        return company or services.create_company({"name": name}, actor=actor)


class CompanyForm(ServiceModelForm):
    class Meta:
        model = Company
        fields = [
            "name",
            "domain",
            "phone",
            "industry",
            "street",
            "city",
            "region",
            "postal_code",
            "country",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def clean_name(self) -> str:
        return normalize_name(self.cleaned_data["name"])

    def clean_phone(self) -> str:
        return _normalized(
            normalize_phone, self.cleaned_data["phone"], region=business_settings().phone_region
        )

    def clean_domain(self) -> str:
        domain = self.cleaned_data["domain"].strip().lower()
        return domain.removeprefix("https://").removeprefix("http://").removeprefix("www.").rstrip("/")

    def save(self, actor) -> Company:
        if self.original is None:
            return services.create_company(self.service_data(), actor=actor)
        return services.update_company(self.original, self.service_data(), actor=actor)


NOTE_KINDS = [
    (kind.value, kind.label)
    for kind in (
        InteractionKind.NOTE, InteractionKind.CALL, InteractionKind.MEETING,
        InteractionKind.EMAIL_OUT, InteractionKind.EMAIL_IN, InteractionKind.CHAT,
    )
]  # fmt: skip


class NoteForm(forms.Form):
    """Log a note, a call or a meeting on a contact's timeline."""

    kind = forms.ChoiceField(label=_("Kind"), choices=NOTE_KINDS, initial=InteractionKind.NOTE)
    subject = forms.CharField(label=_("Subject"), required=False, max_length=300)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}), max_length=20000)

    def save(self, contact: Contact, actor) -> Interaction:
        return services.add_interaction(
            contact,
            kind=self.cleaned_data["kind"],
            subject=self.cleaned_data["subject"],
            body=self.cleaned_data["body"],
            actor=actor,
        )


class ContactFilterForm(forms.Form):
    """Only draws the filter controls; ContactFilter (the shared definition) does the filtering."""

    YES_NO = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    stage = forms.ChoiceField(
        label=_("Stage"), required=False, choices=[("", _("Any")), *LifecycleStage.choices]
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("Any")), *Channel.choices]
    )
    ordering = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("name", _("Name A–Z")),
            ("-name", _("Name Z–A")),
            ("-created", _("Newest first")),
            ("created", _("Oldest first")),
        ],
    )
    tag = forms.CharField(label=_("Tag"), required=False)
    company = forms.CharField(label=_("Company"), required=False)
    has_email = forms.ChoiceField(label=_("Has e-mail"), required=False, choices=YES_NO)
    consent = forms.ChoiceField(label=_("Marketing consent"), required=False, choices=YES_NO)
    created_after = forms.DateField(
        label=_("Added from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_before = forms.DateField(
        label=_("Added until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    MORE = ("tag", "company", "has_email", "consent", "created_after", "created_before")

    def main_fields(self) -> list:
        return [self[name] for name in ("stage", "channel", "ordering")]

    def more_fields(self) -> list:
        return [self[name] for name in self.MORE]

    def more_is_used(self) -> bool:
        return any(self.initial.get(name) for name in self.MORE)


# --- import ---------------------------------------------------------------------------------------

IMPORT_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".vcf", ".json"}


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportKind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV, Excel (.xlsx) or vCard; exports of Google Contacts, Outlook, Shopify or Stripe work."
        ),
    )
    stage = forms.ChoiceField(
        label=_("Lifecycle stage of new contacts"),
        choices=LifecycleStage.choices,
        initial=LifecycleStage.PROSPECT,
        required=False,  # a form posted without it (a script, an old page) gets the default
        help_text=_(
            "For contacts whose row has no stage column. Choose “Lead” only for people who just "
            "wrote in: the Today page lists new leads as waiting for a reply."
        ),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run: check the file and show the report, but change nothing"), required=False
    )
    region = forms.CharField(
        label=_("Country of phone numbers written without one"),
        help_text=_(
            "Two letters, such as DE or US. Rows with a country of their own use it. Empty: %(region)s."
        ),
        max_length=40,
        required=False,
    )
    encoding = forms.CharField(
        label=_("Text encoding"),
        help_text=_(
            "Leave empty to detect it; give one (such as shift_jis or cp1252) if names look garbled."
        ),
        max_length=40,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].help_text %= {"region": business_settings().phone_region}

    def clean_region(self) -> str:
        from solocrm.contacts.importing.report import ImportFileError
        from solocrm.contacts.importing.runner import checked_region

        value = self.cleaned_data["region"].strip()
        try:
            return checked_region(value) if value else ""
        except ImportFileError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_encoding(self) -> str:
        from solocrm.contacts.importing.report import ImportFileError
        from solocrm.contacts.importing.sniff import checked_encoding

        value = self.cleaned_data["encoding"].strip()
        try:
            return checked_encoding(value) if value else ""
        except ImportFileError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.SOLOCRM_MAX_IMPORT_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; the largest file this server accepts is %(limit)s.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload

    def save(self, actor) -> ImportJob:
        """Store the upload under a random name (never the user's) and create its job."""
        upload = self.cleaned_data["file"]
        suffix = Path(upload.name).suffix.lower()
        folder = Path(settings.SOLOCRM_IMPORT_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{secrets.token_hex(16)}{suffix if suffix in IMPORT_SUFFIXES else ''}"
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        return ImportJob.objects.create(
            kind=self.cleaned_data["kind"],
            original_name=Path(upload.name).name[:255],
            stored_path=str(path),
            dry_run=self.cleaned_data["dry_run"],
            region=self.cleaned_data["region"],
            encoding=self.cleaned_data["encoding"],
            stage=self.cleaned_data["stage"] or LifecycleStage.PROSPECT,
            created_by=actor if actor.is_authenticated else None,
        )


class ImportMappingForm(forms.Form):
    """One select per column of the file: which field it goes to, or ignore it."""

    def __init__(self, *args, headers: list[str], fields: list[tuple[str, str]], mapping: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        choices = [("", _("— ignore —")), *[(name, capfirst(label)) for name, label in fields]]
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header or _("(column %(number)s)") % {"number": index + 1},
                choices=choices,
                required=False,
                initial=mapping.get(header, ""),
            )

    def columns(self) -> list:
        return [self[f"col_{index}"] for index in range(len(self.headers))]

    def clean(self) -> dict:
        data = super().clean()
        seen: dict[str, str] = {}
        for index, header in enumerate(self.headers):
            target = data.get(f"col_{index}")
            if target and target in seen:
                self.add_error(f"col_{index}", _("Another column already goes to this field."))
            elif target:
                seen[target] = header
        return data

    @property
    def mapping(self) -> dict[str, str]:
        """header -> field for every column ("" means the column is ignored)."""
        return {header: self.cleaned_data.get(f"col_{i}", "") for i, header in enumerate(self.headers)}
