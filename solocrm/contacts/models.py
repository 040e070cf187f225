"""Contacts, companies, tags and the timeline of interactions."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from solocrm.lib.models import PublicModel, Searchable
from solocrm.lib.normalize import validate_email_address
from solocrm.lib.search import search_text

from .choices import Channel, ImportKind, ImportStatus, InteractionKind, LifecycleStage


def _is_cjk(text: str) -> bool:
    return bool(text) and all(unicodedata.east_asian_width(ch) in "WF" for ch in text)


class Tag(PublicModel):
    """A free label on contacts and companies ("vip", "newsletter")."""

    name = models.CharField(_("name"), max_length=60)
    color = models.CharField(_("colour"), max_length=7, default="#64748b")

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class Address(models.Model):
    street = models.CharField(_("street"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=60, blank=True)

    class Meta:
        abstract = True


def contact_search_text(
    first_name: str, last_name: str, email: str, other_emails, phone: str, other_phones, company: str
) -> str:
    """What a contact is found by (lib.search): names, the full name as written, e-mails, phone
    numbers and the company's name. The importer calls this with its row values."""
    full = _full_name(first_name or "", last_name or "")
    # "伟张": a name written without spaces may be typed given name first, too.
    turned = f"{first_name}{last_name}" if full == f"{last_name}{first_name}" and first_name else ""
    return search_text(
        full,
        turned,
        first_name,
        last_name,
        company,
        emails=[e for e in (email, *(other_emails or ())) if e],
        phones=[p for p in (phone, *(other_phones or ())) if p],
    )


def _full_name(first: str, last: str) -> str:
    if _is_cjk(last) and (not first or _is_cjk(first)):
        return f"{last}{first}"
    return f"{first} {last}".strip()


class Company(PublicModel, Address, Searchable):
    """An organisation some contacts work for."""

    search_fields = ("name", "domain", "industry", "phone")

    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("web domain"), max_length=200, blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True, db_index=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="companies", verbose_name=_("tags"))
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]
        indexes = [models.Index(Lower("name"), name="company_name_ci")]

    def __str__(self) -> str:
        return self.name

    def search_document(self) -> str:
        return search_text(
            self.name, self.industry, emails=[self.domain] if self.domain else [], phones=[self.phone]
        )

    def refresh_contacts_search(self) -> int:
        """Contacts carry their company's name in their search text: after a rename, rewrite it."""
        from solocrm.lib.search_index import refresh

        return refresh(Contact.search_queryset().filter(company=self))


class EmailAddressField(models.EmailField):
    """An e-mail column validated like every import and form (lib.normalize: RFC 5321/6531, so
    'tomás@correo.example' is valid) instead of Django's ASCII-only EmailValidator."""

    default_validators = [validate_email_address]

    def formfield(self, **kwargs):
        from django import forms

        return super().formfield(**{"form_class": forms.CharField, **kwargs})


class Contact(PublicModel, Address, Searchable):
    """A person: a lead, a prospect or a customer, with everything needed to follow up."""

    search_fields = (
        "first_name",
        "last_name",
        "email",
        "other_emails",
        "phone",
        "other_phones",
        "company",
        "company_id",
    )

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    email = EmailAddressField(_("e-mail"), max_length=254, blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    # The primary phone's extension ("102" of tel:+1-418-656-9254;ext=102): E.164 has no place for it.
    phone_extension = models.CharField(_("phone extension"), max_length=10, blank=True)
    other_emails = models.JSONField(_("other e-mails"), default=list, blank=True)
    other_phones = models.JSONField(_("other phones"), default=list, blank=True)
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        verbose_name=_("company"),
    )
    title = models.CharField(_("job title"), max_length=100, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    source = models.CharField(_("acquisition source"), max_length=100, blank=True)
    channel = models.CharField(_("acquisition channel"), max_length=20, choices=Channel.choices, blank=True)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=20,
        choices=LifecycleStage.choices,
        default=LifecycleStage.LEAD,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
        db_index=False,  # mostly empty for a solo owner: not worth slowing every insert
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts", verbose_name=_("tags"))
    email_consent = models.BooleanField(_("e-mail marketing consent"), default=False)
    email_consent_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    email_consent_source = models.CharField(_("consent source"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True, db_index=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    # The contact's picture as a data: URI (a vCard's inline PHOTO) or an http(s) URL; templates
    # show it only through Contact.photo_src, which lets nothing else into an <img src>.
    photo = models.TextField(_("photo"), blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["last_name", "first_name", "id"]
        # Every index slows a million-row import down: keep only those a list, a lookup or the
        # importer's matching needs (created_at's own index also serves "newest first").
        indexes = [models.Index(fields=["last_name", "first_name", "id"], name="contact_name_order")]
        # One contact per normalised primary e-mail, enforced by the database so that concurrent
        # creators (API, forms, imports) cannot both win; see contacts/identity.py. ``email > ''``
        # rather than ``NOT email = ''`` so that SQLite's planner sees queries that say the same
        # can use this partial index.
        constraints = [
            models.UniqueConstraint(
                Lower("email"), condition=models.Q(email__gt=""), name="contact_email_ci_unique"
            )
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or self.phone or str(self.uuid)

    def search_document(self) -> str:
        company = self.company.name if self.company_id and self.company else ""
        return contact_search_text(
            self.first_name,
            self.last_name,
            self.email,
            self.other_emails,
            self.phone,
            self.other_phones,
            company,
        )

    @classmethod
    def search_queryset(cls):
        """The records search_document() reads, with the company's name in the same query."""
        return cls.objects.select_related("company")

    @property
    def photo_src(self) -> str:
        """The photo if it is an image data: URI or an http(s) URL, else ''."""
        photo = self.photo
        if photo.startswith(("data:image/", "https://", "http://")) and '"' not in photo:
            return photo
        return ""

    @property
    def full_name(self) -> str:
        """'Ada Lovelace', but '王小明' (family name first, no space) for Chinese, Japanese and
        Korean names."""
        return _full_name(self.first_name, self.last_name)

    def give_consent(self, source: str, at=None) -> None:
        from django.utils import timezone

        self.email_consent = True
        self.email_consent_at = at or timezone.now()
        self.email_consent_source = source[:200]

    def merge_into(self, survivor: Contact, actor=None) -> Contact:
        """Move everything of this contact onto ``survivor`` and delete this one."""
        from .merge import merge_contacts

        return merge_contacts(survivor, [self], actor=actor)


class Interaction(PublicModel):
    """One entry of the timeline: a note, an e-mail, a call, a form submission, a system event."""

    kind = models.CharField(
        _("kind"), max_length=20, choices=InteractionKind.choices, default=InteractionKind.NOTE
    )
    occurred_at = models.DateTimeField(_("when"), db_index=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"), blank=True)
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="interactions",
        verbose_name=_("contact"),
    )
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="interactions",
        verbose_name=_("company"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
    )
    # Calls, meetings and e-mails about a deal also show on the deal's page.
    deal = models.ForeignKey(
        "sales.Deal",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
        verbose_name=_("deal"),
    )
    external_id = models.CharField(_("external id"), max_length=100, blank=True, db_index=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "-occurred_at"], name="interaction_contact_time"),
            models.Index(fields=["company", "-occurred_at"], name="interaction_company_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject or self.body[:40]}"


class ImportJob(PublicModel):
    """One upload through the web or the API: the file, the chosen mapping, progress and report."""

    kind = models.CharField(_("what"), max_length=20, choices=ImportKind.choices)
    original_name = models.CharField(_("file name"), max_length=255)
    stored_path = models.CharField(max_length=500)
    status = models.CharField(
        _("status"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    dry_run = models.BooleanField(_("dry run"), default=False)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    # Phone region of national numbers in rows that name no country ('' = SOLOCRM_PHONE_REGION),
    # and the text encoding chosen instead of the detected one ('' = detect).
    region = models.CharField(_("phone region"), max_length=2, blank=True)
    encoding = models.CharField(_("text encoding"), max_length=40, blank=True)
    stage = models.CharField(
        _("lifecycle stage of new contacts"),
        max_length=20,
        choices=LifecycleStage.choices,
        default=LifecycleStage.PROSPECT,
        help_text=_("For rows without a stage column; leads are people who just wrote in."),
    )
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    # The background job that runs it (progress, cancel, time limit: see solocrm.jobs).
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_name}"

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 100 if self.status == ImportStatus.DONE else 0
        return min(100, round(100 * self.rows_done / self.rows_total))
