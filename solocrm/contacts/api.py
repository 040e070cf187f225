"""REST endpoints for contacts, companies, the timeline (interactions) and imports, plus the
building blocks every app's API uses: input types that normalise and validate with
solocrm.lib.normalize (so an error names the field), the pagination, and references by UUID.

Roles are checked by the API's authentication (solocrm.api) from the HTTP method before the
body is even read; object lookups go through solocrm.lib.access.get_for. Writes go through
the services."""

import re
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import (
    field_validator,
    model_validator,
)

from solocrm.lib import access
from solocrm.lib.api import (
    CustomFields,
    Day,
    Email,
    LongText,
    Pagination,
    PersonName,
    Phone,
    RequiredText,
    TagName,
    Text,
    When,
    WriteSchema,
    partial,
    ref,
    resolve,
    responses,
)
from solocrm.lib.filters import storable
from solocrm.lib.roles import Action
from solocrm.users.models import AuditLog

from . import services
from .choices import Channel, ImportKind, InteractionKind, LifecycleStage
from .filters import CompanyFilter, ContactFilter, InteractionFilter
from .models import Company, Contact, ImportJob, Interaction

router = Router()

# --- contacts ---------------------------------------------------------------------------------


class Address(WriteSchema):
    street: Text(200) = ""
    city: Text(100) = ""
    region: Text(100) = ""
    postal_code: Text(20) = ""
    country: Text(60) = ""


class ContactIn(Address):
    first_name: PersonName = ""
    last_name: PersonName = ""
    email: Email = ""
    phone: Phone = ""
    other_emails: Annotated[list[Email], Field(max_length=20)] = []
    other_phones: Annotated[list[Phone], Field(max_length=20)] = []
    company: uuid.UUID | None = Field(None, description="Company (public id)")
    title: Text(100) = ""
    birthday: Day | None = None
    source: Text(100) = ""
    channel: Channel | None = Field(None, description="Acquisition channel")
    lifecycle_stage: LifecycleStage = LifecycleStage.LEAD
    tags: Annotated[list[TagName], Field(max_length=50)] = []
    email_consent: bool = False
    email_consent_source: Text(200) = Field("", description="Where consent was given (default: API)")
    notes: LongText = ""
    external_id: Text(100) = ""
    custom_fields: CustomFields = Field(
        {},
        description=(
            'Your own fields, e.g. {"Shoe size": 38, "VIP since": "2024"}: up to 50 keys '
            "(1-60 characters) with text (up to 1,000 characters), a number, true/false or null. "
            "Sent, it replaces all of them: to change one, send the others too. Shown and edited "
            "on the contact page, one column each in `solocrm export contacts`."
        ),
    )

    @model_validator(mode="after")
    def _identifiable(self) -> "ContactIn":
        if not (self.first_name or self.last_name or self.email or self.phone):
            raise ValueError(_("give at least a name, an e-mail address or a phone number"))
        return self


ContactPatch = partial(ContactIn)


class ContactOut(Schema):
    uuid: uuid.UUID
    first_name: str
    last_name: str
    full_name: str
    email: str
    phone: str
    other_emails: list[str]
    other_phones: list[str]
    company: uuid.UUID | None
    title: str
    birthday: date | None
    source: str
    channel: str
    lifecycle_stage: str
    tags: list[str]
    email_consent: bool
    email_consent_at: datetime | None
    email_consent_source: str
    notes: str
    external_id: str
    custom_fields: dict[str, Any] = Field(description="Your own fields (key: value)")
    street: str
    city: str
    region: str
    postal_code: str
    country: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_company(obj: Contact) -> uuid.UUID | None:
        return ref(obj.company)

    @staticmethod
    def resolve_tags(obj: Contact) -> list[str]:
        return [tag.name for tag in obj.tags.all()]


def _contact_data(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    if "company" in data:
        data["company"] = resolve(request.user, Company, data["company"], "company")
    if "channel" in data:
        data["channel"] = data["channel"] or ""
    return data


def _contacts() -> models.QuerySet:
    return Contact.objects.select_related("company").prefetch_related("tags")


@router.get("/contacts", response=responses({200: list[ContactOut]}), tags=["contacts"])
@paginate(Pagination)
def list_contacts(request: HttpRequest, filters: Query[ContactFilter]):
    """Contacts matching the filters, by name unless ``ordering`` says otherwise."""
    return filters.apply(_contacts())


@router.post("/contacts", response=responses({201: ContactOut}), tags=["contacts"])
def create_contact(request: HttpRequest, payload: ContactIn):
    """Create a contact. A second contact with the same e-mail address is a 409."""
    data = _contact_data(request, payload.model_dump())
    return Status(201, services.create_contact(data, actor=request.user, via=_("API")))


@router.get("/contacts/{uuid}", response=responses({200: ContactOut}), tags=["contacts"])
def get_contact(request: HttpRequest, uuid: str):
    return access.get_for(request.user, _contacts(), uuid)


@router.put("/contacts/{uuid}", response=responses({200: ContactOut}), tags=["contacts"])
def replace_contact(request: HttpRequest, uuid: str, payload: ContactIn):
    """Replace every field (omitted ones get their default)."""
    contact = access.get_for(request.user, _contacts(), uuid, Action.EDIT)
    data = _contact_data(request, payload.model_dump())
    return services.update_contact(contact, data, actor=request.user, via=_("API"))


@router.patch("/contacts/{uuid}", response=responses({200: ContactOut}), tags=["contacts"])
def update_contact(request: HttpRequest, uuid: str, payload: ContactPatch):
    """Change only the fields given."""
    contact = access.get_for(request.user, _contacts(), uuid, Action.EDIT)
    data = _contact_data(request, payload.model_dump(exclude_unset=True))
    return services.update_contact(contact, data, actor=request.user, via=_("API"))


@router.delete("/contacts/{uuid}", response=responses({204: None}), tags=["contacts"])
def delete_contact(request: HttpRequest, uuid: str):
    """Delete a contact with its timeline and tasks (owner only)."""
    contact = access.get_for(request.user, Contact, uuid, Action.DELETE)
    services.delete_contact(contact, actor=request.user)
    return Status(204, None)


# --- companies --------------------------------------------------------------------------------


class CompanyIn(Address):
    name: RequiredText(200)
    domain: Text(200) = ""
    phone: Phone = ""
    industry: Text(100) = ""
    notes: LongText = ""
    external_id: Text(100) = ""
    tags: Annotated[list[TagName], Field(max_length=50)] = []
    custom_fields: CustomFields = {}

    @field_validator("domain", mode="after")
    @classmethod
    def _bare_domain(cls, value: str) -> str:
        # "https://www.Example.com/about" and "example.com" are the same company's domain
        value = value.strip().lower().removeprefix("https://").removeprefix("http://")
        return value.removeprefix("www.").split("/")[0]


CompanyPatch = partial(CompanyIn)


class CompanyOut(Schema):
    uuid: uuid.UUID
    name: str
    domain: str
    phone: str
    industry: str
    notes: str
    external_id: str
    tags: list[str]
    custom_fields: dict[str, Any]
    street: str
    city: str
    region: str
    postal_code: str
    country: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_tags(obj: Company) -> list[str]:
        return [tag.name for tag in obj.tags.all()]


def _companies() -> models.QuerySet:
    return Company.objects.prefetch_related("tags")


@router.get("/companies", response=responses({200: list[CompanyOut]}), tags=["companies"])
@paginate(Pagination)
def list_companies(request: HttpRequest, filters: Query[CompanyFilter]):
    return filters.apply(_companies())


@router.post("/companies", response=responses({201: CompanyOut}), tags=["companies"])
def create_company(request: HttpRequest, payload: CompanyIn):
    return Status(201, services.create_company(payload.model_dump(), actor=request.user))


@router.get("/companies/{uuid}", response=responses({200: CompanyOut}), tags=["companies"])
def get_company(request: HttpRequest, uuid: str):
    return access.get_for(request.user, _companies(), uuid)


@router.put("/companies/{uuid}", response=responses({200: CompanyOut}), tags=["companies"])
def replace_company(request: HttpRequest, uuid: str, payload: CompanyIn):
    company = access.get_for(request.user, _companies(), uuid, Action.EDIT)
    return services.update_company(company, payload.model_dump(), actor=request.user)


@router.patch("/companies/{uuid}", response=responses({200: CompanyOut}), tags=["companies"])
def update_company(request: HttpRequest, uuid: str, payload: CompanyPatch):
    company = access.get_for(request.user, _companies(), uuid, Action.EDIT)
    return services.update_company(company, payload.model_dump(exclude_unset=True), actor=request.user)


@router.delete("/companies/{uuid}", response=responses({204: None}), tags=["companies"])
def delete_company(request: HttpRequest, uuid: str):
    """Delete a company and its timeline; its contacts stay, without a company (owner only)."""
    company = access.get_for(request.user, Company, uuid, Action.DELETE)
    services.delete_company(company, actor=request.user)
    return Status(204, None)


# --- interactions (the timeline) --------------------------------------------------------------


class InteractionIn(WriteSchema):
    contact: uuid.UUID | None = Field(None, description="Contact (public id)")
    company: uuid.UUID | None = Field(None, description="Company (public id); default: the contact's")
    kind: InteractionKind = InteractionKind.NOTE
    occurred_at: When | None = Field(None, description="Default: now")
    subject: Text(300) = ""
    body: LongText = ""
    external_id: Text(100) = ""
    data: CustomFields = {}

    @model_validator(mode="after")
    def _about_someone(self) -> "InteractionIn":
        if self.contact is None and self.company is None:
            raise ValueError(_("an interaction needs a contact or a company"))
        return self


class InteractionPatch(WriteSchema):
    """Moving an entry to another contact or company is not a thing: only its content changes."""

    kind: InteractionKind = None
    occurred_at: When = None
    subject: Text(300) = None
    body: LongText = None
    external_id: Text(100) = None
    data: CustomFields = None


class InteractionOut(Schema):
    uuid: uuid.UUID
    contact: uuid.UUID | None
    company: uuid.UUID | None
    kind: str
    occurred_at: datetime
    subject: str
    body: str
    author: str | None
    external_id: str
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_contact(obj: Interaction) -> uuid.UUID | None:
        return ref(obj.contact)

    @staticmethod
    def resolve_company(obj: Interaction) -> uuid.UUID | None:
        return ref(obj.company)

    @staticmethod
    def resolve_author(obj: Interaction) -> str | None:
        return obj.author.get_username() if obj.author else None


def _interactions() -> models.QuerySet:
    return Interaction.objects.select_related("contact", "company", "author")


@router.get("/interactions", response=responses({200: list[InteractionOut]}), tags=["interactions"])
@paginate(Pagination)
def list_interactions(request: HttpRequest, filters: Query[InteractionFilter]):
    """The timeline, newest first; filter by ``contact`` or ``company`` for one customer's."""
    return filters.apply(_interactions())


@router.post("/interactions", response=responses({201: InteractionOut}), tags=["interactions"])
def create_interaction(request: HttpRequest, payload: InteractionIn):
    """Add a note, a call, an e-mail… to the timeline of a contact and/or a company."""
    data = payload.model_dump()
    data["contact"] = resolve(request.user, Contact, data["contact"], "contact")
    data["company"] = resolve(request.user, Company, data["company"], "company")
    return Status(201, services.create_interaction(data, actor=request.user))


@router.get("/interactions/{uuid}", response=responses({200: InteractionOut}), tags=["interactions"])
def get_interaction(request: HttpRequest, uuid: str):
    return access.get_for(request.user, _interactions(), uuid)


@router.patch("/interactions/{uuid}", response=responses({200: InteractionOut}), tags=["interactions"])
def update_interaction(request: HttpRequest, uuid: str, payload: InteractionPatch):
    interaction = access.get_for(request.user, _interactions(), uuid, Action.EDIT)
    data = payload.model_dump(exclude_unset=True)
    return services.update_interaction(interaction, data, actor=request.user)


@router.delete("/interactions/{uuid}", response=responses({204: None}), tags=["interactions"])
def delete_interaction(request: HttpRequest, uuid: str):
    interaction = access.get_for(request.user, Interaction, uuid, Action.DELETE)
    services.delete_interaction(interaction, actor=request.user)
    return Status(204, None)


# --- imports ----------------------------------------------------------------------------------

_SAFE_SUFFIX = re.compile(r"\.[a-z0-9]{1,5}")


class ImportOut(Schema):
    uuid: uuid.UUID
    kind: str
    original_name: str
    status: str = Field(description="uploaded, running, done or failed")
    dry_run: bool
    stage: str = Field(description="Lifecycle stage of new contacts whose row names none")
    rows_done: int
    rows_total: int | None
    progress: int = Field(description="Percent done, 0–100")
    report: dict[str, Any] = Field(description="Created / updated / rejected counts and rejected rows")
    error: str
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_progress(obj: ImportJob) -> int:
        return obj.percent

    @staticmethod
    def resolve_report(obj: ImportJob) -> dict[str, Any]:
        # where the server keeps the rejected-rows file is none of the client's business
        return {key: value for key, value in (obj.report or {}).items() if key != "rejected_path"}


def _store_upload(upload: UploadedFile) -> Path:
    """Keep the upload under a random name (never the client's: no path tricks, no clashes);
    the suffix stays because the importer sniffs the format from it."""
    suffix = Path(upload.name or "").suffix.lower()
    folder = Path(settings.SOLOCRM_IMPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (uuid.uuid4().hex + (suffix if _SAFE_SUFFIX.fullmatch(suffix) else ""))
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


@router.post("/imports", response=responses({202: ImportOut}), tags=["imports"])
def create_import(
    request: HttpRequest,
    file: File[UploadedFile],
    kind: Form[ImportKind],
    dry_run: Form[bool] = False,
    stage: Form[LifecycleStage] = LifecycleStage.PROSPECT,
):
    """Upload a CSV, XLSX or vCard file and start importing it; poll GET /imports/{uuid}.

    With ``dry_run`` nothing is written: the report says what would happen. ``stage`` is the
    lifecycle stage of new contacts whose row has none ("lead" only for people who just wrote
    in: new leads wait for a reply on the Today page)."""
    # Imported here: the importer pulls in openpyxl and charset-normalizer, which only an upload needs.
    from solocrm.contacts.importing.jobs import start_job

    if file.size > settings.SOLOCRM_MAX_IMPORT_BYTES:
        limit = settings.SOLOCRM_MAX_IMPORT_BYTES // (1024 * 1024)
        raise HttpError(413, _("The file is larger than %(limit)s MB.") % {"limit": limit})
    path = _store_upload(file)
    job = ImportJob.objects.create(
        kind=kind,
        original_name=storable((file.name or "upload")[:255]),
        stored_path=str(path),
        dry_run=dry_run,
        stage=stage,
        created_by=request.user,
    )
    AuditLog.record(request.user, "import.create", job, summary=job.original_name)
    start_job(job)
    job.refresh_from_db()
    return Status(202, job)


@router.get("/imports", response=responses({200: list[ImportOut]}), tags=["imports"])
@paginate(Pagination)
def list_imports(request: HttpRequest):
    """Imports, newest first."""
    return ImportJob.objects.order_by("-created_at", "-id")


@router.get("/imports/{uuid}", response=responses({200: ImportOut}), tags=["imports"])
def get_import(request: HttpRequest, uuid: str):
    """Status, progress and, when done, the report of an import."""
    return access.get_for(request.user, ImportJob, uuid)
