"""REST endpoints for lead forms with their submissions, the leads list, speed-to-lead and
converting a lead (see solocrm.contacts.api for the shared input types and how roles are
checked: GET view, POST/PATCH edit, DELETE delete).

Visitors do not use this API: they send the public web form (``/f/<uuid>/``), which needs no
token and is protected by its signed form token, a honeypot and a rate limit instead."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from solocrm.contacts.models import Contact
from solocrm.lib import access
from solocrm.lib.api import (
    Currency,
    Money,
    Pagination,
    RequiredText,
    Text,
    WriteSchema,
    partial,
    ref,
    responses,
)
from solocrm.lib.roles import Action
from solocrm.sales.choices import LeadFormField
from solocrm.sales.leadforms import services as leadforms
from solocrm.sales.leadforms.models import (
    FormSubmission,
    LeadForm,
    default_form_fields,
    default_required_fields,
)

router = Router()

# --- lead forms -------------------------------------------------------------------------------


class LeadFormIn(WriteSchema):
    name: RequiredText(100) = Field(description="For you; visitors see the title")
    title: Text(200) = Field("", description="The form's heading")
    introduction: Text(5000) = ""
    fields: list[LeadFormField] = Field(
        [LeadFormField(n) for n in default_form_fields()],
        max_length=len(LeadFormField),
        description="Fields to ask",
    )
    required_fields: list[LeadFormField] = Field(
        [LeadFormField(n) for n in default_required_fields()],
        max_length=len(LeadFormField),
        description="Of those, required",
    )
    submit_label: Text(60) = Field("", description="Button text; blank: “Send”")
    thank_you: Text(5000) = Field("", description="Shown after sending; blank: a default")
    consent_text: Text(5000) = Field(
        "", description="Text of the e-mail consent checkbox; blank: no checkbox"
    )
    source: Text(100) = Field("", description="Acquisition source of new leads")
    active: bool = Field(True, description="Accepting submissions")
    notify_owner: bool = Field(True, description="E-mail the owners each submission")


LeadFormPatch = partial(LeadFormIn)


class LeadFormOut(Schema):
    uuid: uuid.UUID
    name: str
    title: str
    introduction: str
    fields: list[str]
    required_fields: list[str]
    submit_label: str
    thank_you: str
    consent_text: str
    source: str
    active: bool
    notify_owner: bool
    submission_count: int = Field(description="Submissions stored")
    hosted_url: str = Field(description="The form's own page")
    embed_url: str = Field(description="The page for an <iframe>")
    embed_snippet: str = Field(description="The <iframe> tag to paste into a website")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_submission_count(obj: LeadForm) -> int:
        count = getattr(obj, "submission_count", None)
        return obj.submissions.count() if count is None else count

    @staticmethod
    def resolve_hosted_url(obj: LeadForm, context: dict[str, Any]) -> str:
        return leadforms.hosted_url(obj, context["request"])

    @staticmethod
    def resolve_embed_url(obj: LeadForm, context: dict[str, Any]) -> str:
        return leadforms.embed_url(obj, context["request"])

    @staticmethod
    def resolve_embed_snippet(obj: LeadForm, context: dict[str, Any]) -> str:
        return leadforms.embed_snippet(obj, context["request"])


class SubmissionOut(Schema):
    uuid: uuid.UUID
    created_at: datetime
    contact: uuid.UUID | None = Field(description="The contact it created or updated (public id)")
    data: dict[str, str] = Field(description="The answers, normalised, by field")
    consent_given: bool
    consent_text: str = Field(description="The exact consent text the visitor ticked")
    page_url: str = Field(description="The page the form was shown on (its Referer), when known")

    @staticmethod
    def resolve_contact(obj: FormSubmission) -> uuid.UUID | None:
        return ref(obj.contact)


def _form_data(payload: WriteSchema, exclude_unset: bool = False) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=exclude_unset)
    for key in ("fields", "required_fields"):
        if key in data:
            data[key] = [str(LeadFormField(name)) for name in data[key]]
    return data


@router.get("/forms", response=responses({200: list[LeadFormOut]}), tags=["forms"])
@paginate(Pagination)
def list_forms(request: HttpRequest):
    """Every lead form with its number of submissions, by name."""
    return leadforms.lead_forms()


@router.post("/forms", response=responses({201: LeadFormOut}), tags=["forms"])
def create_form(request: HttpRequest, payload: LeadFormIn):
    """Create a lead form. It must ask for an e-mail or a phone; required fields must be asked."""
    form = leadforms.create_lead_form(_form_data(payload), actor=request.user)
    return Status(201, form)


@router.get("/forms/{uuid}", response=responses({200: LeadFormOut}), tags=["forms"])
def get_form(request: HttpRequest, uuid: str):
    return access.get_for(request.user, leadforms.lead_forms(), uuid)


@router.patch("/forms/{uuid}", response=responses({200: LeadFormOut}), tags=["forms"])
def update_form(request: HttpRequest, uuid: str, payload: LeadFormPatch):
    """Change the fields given (``{"active": false}`` closes the form)."""
    form = access.get_for(request.user, leadforms.lead_forms(), uuid, Action.EDIT)
    return leadforms.update_lead_form(form, _form_data(payload, exclude_unset=True), actor=request.user)


@router.delete("/forms/{uuid}", response=responses({204: None}), tags=["forms"])
def delete_form(request: HttpRequest, uuid: str):
    """Delete a form and its stored submissions; the contacts stay (owner only)."""
    form = access.get_for(request.user, LeadForm, uuid, Action.DELETE)
    leadforms.delete_lead_form(form, actor=request.user)
    return Status(204, None)


@router.get("/forms/{uuid}/submissions", response=responses({200: list[SubmissionOut]}), tags=["forms"])
@paginate(Pagination)
def list_submissions(request: HttpRequest, uuid: str):
    """The form's submissions, newest first, as they were sent."""
    return leadforms.submissions_of(access.get_for(request.user, LeadForm, uuid))


# --- leads ------------------------------------------------------------------------------------


class LeadOut(Schema):
    uuid: uuid.UUID
    name: str
    email: str
    phone: str
    company: str | None
    source: str
    lifecycle_stage: str
    arrived_at: datetime = Field(description="First form submission, else when the contact was created")
    first_response_at: datetime | None = Field(description="First e-mail sent, call or meeting since")
    response_seconds: float | None = Field(description="Time to the first response, in seconds")

    @staticmethod
    def resolve_name(obj: Contact) -> str:
        return str(obj)

    @staticmethod
    def resolve_company(obj: Contact) -> str | None:
        return obj.company.name if obj.company else None

    @staticmethod
    def resolve_response_seconds(obj: Contact) -> float | None:
        if obj.first_response_at is None:
            return None
        return (obj.first_response_at - obj.arrived_at).total_seconds()


class SpeedOut(Schema):
    days: int
    leads: int = Field(description="Leads that arrived in the window")
    replied: int = Field(description="Of those, how many got a first response")
    waiting: int
    median_seconds: float | None
    average_seconds: float | None


class ConvertIn(WriteSchema):
    to_customer: bool = Field(False, description="true: a customer; false: a prospect")
    open_deal: bool = Field(False, description="Open a deal for the contact, with its source")
    deal_title: Text(200) = Field("", description="Blank: “Deal with <name>”")
    amount: Money = Decimal("0.00")
    currency: Currency = Field("", validate_default=True)


class ConvertOut(Schema):
    contact: uuid.UUID
    lifecycle_stage: str
    deal: uuid.UUID | None


@router.get("/leads", response=responses({200: list[LeadOut]}), tags=["leads"])
@paginate(Pagination)
def list_leads(request: HttpRequest, filters: Query[leadforms.LeadFilter]):
    """Contacts in the lead stage, newest first, with when they arrived and their first reply
    (``waiting=true``: not replied to yet)."""
    return filters.apply(leadforms.leads())


@router.get("/leads/speed", response=responses({200: SpeedOut}), tags=["leads"])
def lead_speed(request: HttpRequest, days: int = Query(30, ge=1, le=3660)):
    """Speed-to-lead over the leads that arrived in the last ``days`` days."""
    stats = leadforms.speed_to_lead(days)
    return {
        "days": stats.days,
        "leads": stats.leads,
        "replied": stats.replied,
        "waiting": stats.waiting,
        "median_seconds": stats.median.total_seconds() if stats.median is not None else None,
        "average_seconds": stats.average.total_seconds() if stats.average is not None else None,
    }


@router.post("/leads/{uuid}/convert", response=responses({200: ConvertOut}), tags=["leads"])
def convert_lead(request: HttpRequest, uuid: str, payload: ConvertIn):
    """Make a lead a prospect or a customer and/or open a deal; 409 when it is no longer a lead."""
    contact = access.get_for(request.user, Contact, uuid, Action.EDIT)
    data = payload.model_dump()
    conversion = leadforms.convert_lead(contact, actor=request.user, **data)
    return {
        "contact": conversion.contact.uuid,
        "lifecycle_stage": conversion.contact.lifecycle_stage,
        "deal": ref(conversion.deal),
    }
