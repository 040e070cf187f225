"""REST endpoints for quotes (with their lines, sending and the PDF) and for files attached to
deals and contacts. Roles come from the HTTP method (see solocrm.api); the work is done by
solocrm.sales.quotes and solocrm.sales.attachments."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.conf import settings
from django.db import models
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import model_validator

from solocrm.contacts.models import Contact
from solocrm.lib import access
from solocrm.lib.api import (
    Day,
    Email,
    LongText,
    Money,
    Pagination,
    Text,
    WriteSchema,
    partial,
    ref,
    resolve,
    responses,
)
from solocrm.lib.roles import Action
from solocrm.sales.choices import QuoteStatus
from solocrm.sales.deals.models import Deal
from solocrm.sales.orders.models import Product
from solocrm.sales.quotes import attachments
from solocrm.sales.quotes import services as quotes
from solocrm.sales.quotes.models import Attachment, Quote, QuoteLine
from solocrm.sales.quotes.pdf import render_pdf

router = Router()

Quantity = Annotated[Decimal, Field(gt=0, le=10**9, max_digits=13, decimal_places=3)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]

# --- quotes -----------------------------------------------------------------------------------


class QuoteLineIn(WriteSchema):
    product: uuid.UUID | None = Field(None, description="Product (public id); its name and price are copied")
    name: Text(200) = Field("", description="Default: the product's name")
    description: LongText = ""
    quantity: Quantity = Decimal("1")
    unit_price: Money | None = Field(None, description="Default: the product's price, else 0")
    discount_percent: Percent = Decimal("0")
    tax_rate: Percent = Decimal("0")

    @model_validator(mode="after")
    def _named(self) -> "QuoteLineIn":
        if not self.name.strip() and self.product is None:
            raise ValueError(_("a line needs a name or a product"))
        return self


class QuoteFields(WriteSchema):
    issued_on: Day | None = Field(None, description="Default: today")
    valid_until: Day | None = Field(None, description="Default: 30 days after issued_on")
    discount_percent: Percent = Field(Decimal("0"), description="On the subtotal, before tax")
    introduction: LongText = ""
    terms: LongText = ""
    lines: Annotated[list[QuoteLineIn], Field(max_length=quotes.MAX_LINES)] = []


class QuoteIn(QuoteFields):
    deal: uuid.UUID = Field(description="Deal (public id); the quote takes its currency and contact")


QuotePatch = partial(QuoteFields)


class QuoteLineOut(Schema):
    product: uuid.UUID | None
    position: int
    name: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    tax_rate: Decimal
    total: Decimal = Field(description="quantity × unit price less the line discount")

    @staticmethod
    def resolve_product(obj: QuoteLine) -> uuid.UUID | None:
        return ref(obj.product)


class QuoteOut(Schema):
    uuid: uuid.UUID
    number: str
    deal: uuid.UUID
    contact: uuid.UUID | None
    status: str = Field(description="draft, sent, accepted, declined or withdrawn")
    is_expired: bool = Field(
        description="A sent quote past its valid_until day: it reads “Expired”, cannot be accepted or "
        "sent again, only revised"
    )
    version: int = Field(description="Bumped by every change of the draft")
    currency: str
    issued_on: date
    valid_until: date
    discount_percent: Decimal
    introduction: str
    terms: str
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    sent_at: datetime | None
    sent_to: str
    accepted_at: datetime | None
    accepted_by: str
    declined_at: datetime | None
    lines: list[QuoteLineOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_deal(obj: Quote) -> uuid.UUID:
        return obj.deal.uuid

    @staticmethod
    def resolve_contact(obj: Quote) -> uuid.UUID | None:
        return ref(obj.contact)


class QuoteListFilter(Schema):
    deal: uuid.UUID | None = Field(None, description="Deal (public id)")
    contact: uuid.UUID | None = Field(None, description="Contact (public id)")
    status: QuoteStatus | None = None
    expired: bool | None = Field(None, description="true: only expired quotes; false: none of them")


class SendIn(WriteSchema):
    to: Email = Field("", description="Default: the quote's contact's e-mail address")
    message: Text(5000) = ""


def _quotes() -> models.QuerySet:
    lines = QuoteLine.objects.select_related("product").order_by("position", "id")
    return Quote.objects.select_related("deal", "contact").prefetch_related(Prefetch("lines", queryset=lines))


def _line_values(request: HttpRequest, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lines as the service takes them: products resolved, their name and price as defaults."""
    values = []
    for i, line in enumerate(lines):
        product = resolve(request.user, Product, line["product"], "lines", i, "product")
        if product is not None:
            line["name"] = line["name"] or product.name
            line["description"] = line["description"] or product.description
            if line["unit_price"] is None:
                line["unit_price"] = product.price
        line["product"] = product
        line["unit_price"] = line["unit_price"] if line["unit_price"] is not None else Decimal("0.00")
        values.append(line)
    return values


def _header(data: dict[str, Any]) -> dict[str, Any]:
    """Header fields for the service; an omitted or null date keeps the default / current one."""
    return {key: value for key, value in data.items() if key != "lines" and value is not None}


def _call(function, *args, **kwargs):
    """Run a quote service; a refusal because of the quote's status is a 409, a bad value 422."""
    try:
        return function(*args, **kwargs)
    except quotes.QuoteStateError as error:
        raise HttpError(409, str(error)) from None


@router.get("/quotes", response=responses({200: list[QuoteOut]}), tags=["quotes"])
@paginate(Pagination)
def list_quotes(request: HttpRequest, filters: Query[QuoteListFilter]):
    """Quotes, newest first, each with its lines; filter by deal, contact or status."""
    rows = _quotes().order_by("-issued_on", "-id")
    if filters.deal:
        rows = rows.filter(deal__uuid=filters.deal)
    if filters.contact:
        rows = rows.filter(contact__uuid=filters.contact)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.expired is not None:
        expired = models.Q(status=QuoteStatus.SENT, valid_until__lt=timezone.localdate())
        rows = rows.filter(expired) if filters.expired else rows.exclude(expired)
    return rows


@router.post("/quotes", response=responses({201: QuoteOut}), tags=["quotes"])
def create_quote(request: HttpRequest, payload: QuoteIn):
    """A draft quote on an open deal, numbered at once (Q-<year>-0001…), in the deal's currency."""
    data = payload.model_dump()
    deal = resolve(request.user, Deal, data.pop("deal"), "deal")
    lines = _line_values(request, data["lines"])
    quote = _call(quotes.create_quote, deal, _header(data), lines=lines, actor=request.user)
    return Status(201, _quotes().get(pk=quote.pk))


@router.get("/quotes/{uuid}", response=responses({200: QuoteOut}), tags=["quotes"])
def get_quote(request: HttpRequest, uuid: str):
    return access.get_for(request.user, _quotes(), uuid)


@router.patch("/quotes/{uuid}", response=responses({200: QuoteOut}), tags=["quotes"])
def update_quote(request: HttpRequest, uuid: str, payload: QuotePatch):
    """Change a draft; ``lines``, when given, replace all lines. A sent quote is a 409 (revise it)."""
    quote = access.get_for(request.user, Quote, uuid, Action.EDIT)
    data = payload.model_dump(exclude_unset=True)
    lines = None
    if data.get("lines") is not None:  # every field of a given line counts, set or defaulted
        lines = _line_values(request, [line.model_dump() for line in payload.lines])
    _call(quotes.update_quote, quote, _header(data), lines=lines, actor=request.user)
    return _quotes().get(pk=quote.pk)


@router.delete("/quotes/{uuid}", response=responses({204: None}), tags=["quotes"])
def delete_quote(request: HttpRequest, uuid: str):
    """Delete a draft (owner only); its number is not reused. Other statuses: 409."""
    quote = access.get_for(request.user, Quote, uuid, Action.DELETE)
    _call(quotes.delete_quote, quote, actor=request.user)
    return Status(204, None)


@router.post("/quotes/{uuid}/send", response=responses({200: QuoteOut, 502: None}), tags=["quotes"])
def send_quote(request: HttpRequest, uuid: str, payload: SendIn):
    """E-mail the quote with its PDF and the accept link; marks it sent (frozen from then on)."""
    quote = access.get_for(request.user, Quote.objects.select_related("contact"), uuid, Action.EDIT)
    to = payload.to or (quote.contact.email if quote.contact else "")
    if not to:
        raise HttpError(422, _("Give the address to send the quote to: its contact has none."))
    base_url = getattr(settings, "SOLOCRM_PUBLIC_URL", "") or request.build_absolute_uri("/")
    _call(quotes.send_quote, quote, to, payload.message, actor=request.user, base_url=base_url)
    return _quotes().get(pk=quote.pk)


@router.post("/quotes/{uuid}/revise", response=responses({201: QuoteOut}), tags=["quotes"])
def revise_quote(request: HttpRequest, uuid: str):
    """A new draft (new number) copying the quote; a sent original is withdrawn."""
    quote = access.get_for(request.user, Quote, uuid, Action.EDIT)
    revision = _call(quotes.revise_quote, quote, actor=request.user)
    return Status(201, _quotes().get(pk=revision.pk))


@router.post("/quotes/{uuid}/withdraw", response=responses({200: QuoteOut}), tags=["quotes"])
def withdraw_quote(request: HttpRequest, uuid: str):
    """Take back a draft or sent quote: its accept link stops working."""
    quote = access.get_for(request.user, Quote, uuid, Action.EDIT)
    _call(quotes.withdraw_quote, quote, actor=request.user)
    return _quotes().get(pk=quote.pk)


@router.get("/quotes/{uuid}/pdf", response=responses({200: None}), tags=["quotes"])
def quote_pdf(request: HttpRequest, uuid: str):
    """The quote as a PDF (application/pdf)."""
    quote = access.get_for(request.user, _quotes().select_related("deal__company"), uuid)
    response = HttpResponse(render_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{quote.number}.pdf"'
    return response


# --- attachments ------------------------------------------------------------------------------


class AttachmentOut(Schema):
    uuid: uuid.UUID
    deal: uuid.UUID | None
    contact: uuid.UUID | None
    name: str
    content_type: str
    size: int = Field(description="Bytes")
    sha256: str
    uploaded_by: str | None
    created_at: datetime

    @staticmethod
    def resolve_deal(obj: Attachment) -> uuid.UUID | None:
        return ref(obj.deal)

    @staticmethod
    def resolve_contact(obj: Attachment) -> uuid.UUID | None:
        return ref(obj.contact)

    @staticmethod
    def resolve_name(obj: Attachment) -> str:
        return obj.original_name

    @staticmethod
    def resolve_uploaded_by(obj: Attachment) -> str | None:
        return obj.uploaded_by.get_username() if obj.uploaded_by else None


class AttachmentFilter(Schema):
    deal: uuid.UUID | None = Field(None, description="Deal (public id)")
    contact: uuid.UUID | None = Field(None, description="Contact (public id)")


def _attachments() -> models.QuerySet:
    return Attachment.objects.select_related("deal", "contact", "uploaded_by")


@router.get("/attachments", response=responses({200: list[AttachmentOut]}), tags=["attachments"])
@paginate(Pagination)
def list_attachments(request: HttpRequest, filters: Query[AttachmentFilter]):
    """Files, newest first; filter by ``deal`` or ``contact``."""
    rows = _attachments().order_by("-created_at", "-id")
    if filters.deal:
        rows = rows.filter(deal__uuid=filters.deal)
    if filters.contact:
        rows = rows.filter(contact__uuid=filters.contact)
    return rows


@router.post("/attachments", response=responses({201: AttachmentOut}), tags=["attachments"])
def upload_attachment(
    request: HttpRequest,
    file: File[UploadedFile],
    deal: Form[uuid.UUID | None] = None,
    contact: Form[uuid.UUID | None] = None,
):
    """Attach a file (multipart) to one deal or one contact. Allowed: pdf, png, jpeg, gif, webp,
    txt, csv, docx, xlsx, pptx, odt, ods, doc, xls, checked by extension and content (422);
    larger than SOLOCRM_MAX_ATTACHMENT_MB: 413."""
    if (deal is None) == (contact is None):
        raise HttpError(422, _("Give either a deal or a contact."))
    target = (
        {"deal": resolve(request.user, Deal, deal, "deal")}
        if deal
        else {"contact": resolve(request.user, Contact, contact, "contact")}
    )
    try:
        attachment = attachments.store_attachment(file, actor=request.user, **target)
    except attachments.AttachmentError as error:
        raise HttpError(413 if error.too_large else 422, str(error)) from None
    return Status(201, _attachments().get(pk=attachment.pk))


@router.get("/attachments/{uuid}", response=responses({200: AttachmentOut}), tags=["attachments"])
def get_attachment(request: HttpRequest, uuid: str):
    return access.get_for(request.user, _attachments(), uuid)


@router.get("/attachments/{uuid}/download", response=responses({200: None}), tags=["attachments"])
def download_attachment(request: HttpRequest, uuid: str):
    """The file itself, as a download."""
    attachment = access.get_for(request.user, Attachment, uuid)
    return attachments.download_response(attachment)


@router.delete("/attachments/{uuid}", response=responses({204: None}), tags=["attachments"])
def delete_attachment(request: HttpRequest, uuid: str):
    """Delete a file (owner only)."""
    attachment = access.get_for(request.user, Attachment, uuid, Action.DELETE)
    attachments.delete_attachment(attachment, actor=request.user)
    return Status(204, None)
