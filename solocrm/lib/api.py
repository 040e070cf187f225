"""The building blocks every app's REST API uses (django-ninja): input types that normalise and
validate with solocrm.lib.normalize (so an error names the field), request bodies that refuse
unknown fields, the error schema, the pagination, and references to other objects by UUID.

Roles are checked by the API's authentication (solocrm.api) from the HTTP method before the
body is even read; object lookups go through solocrm.lib.access.get_for."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.db import models
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import LimitOffsetPagination
from pydantic import AfterValidator, BeforeValidator, ConfigDict, StrictBool, field_validator
from pydantic import create_model as create_pydantic_model
from pydantic.fields import FieldInfo

from solocrm.lib import access
from solocrm.lib.business import business_settings
from solocrm.lib.filters import storable
from solocrm.lib.normalize import normalize_currency, normalize_email, normalize_name, normalize_phone
from solocrm.lib.normalize import parse_money as _parse_money

MAX_LIMIT = 500
MAX_OFFSET = 10**9  # far past any real list, and inside every database's integer type

# --- input types ------------------------------------------------------------------------------


def _money(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(_("not an amount of money"))
    if isinstance(value, str) and len(value) > 40:
        raise ValueError(_("amount is too long"))
    return _parse_money(value)


def _currency(value: str) -> str:
    return normalize_currency(value, business_settings().currency)


def _phone(value: str) -> str:
    return normalize_phone(value, business_settings().phone_region)


def _aware(value: datetime) -> datetime:
    """A time in UTC; a time without zone is taken as UTC. Far past or future is a typo."""
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(_("date is out of range")) from None
    if not 1900 <= value.year <= 2200:
        raise ValueError(_("date is out of range"))
    return value


def _sane_day(value: date) -> date:
    if not 1900 <= value.year <= 2200:
        raise ValueError(_("date is out of range"))
    return value


def _required(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError(_("this field may not be blank"))
    return value


def Text(max_length: int) -> Any:
    return Annotated[str, Field(max_length=max_length)]


def RequiredText(max_length: int) -> Any:
    return Annotated[str, Field(min_length=1, max_length=max_length), AfterValidator(_required)]


Email = Annotated[str, Field(max_length=254, examples=["ada@example.com"]), AfterValidator(normalize_email)]
Phone = Annotated[str, Field(max_length=40, examples=["+44 20 7946 0958"]), AfterValidator(_phone)]
PersonName = Annotated[str, Field(max_length=100), AfterValidator(normalize_name)]
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2), BeforeValidator(_money)]
# A blank currency means the business's own (SOLOCRM_CURRENCY).
Currency = Annotated[
    str,
    Field(max_length=10, description="ISO 4217 code; blank: the default currency"),
    AfterValidator(_currency),
]
When = Annotated[datetime, AfterValidator(_aware)]
Day = Annotated[date, AfterValidator(_sane_day)]
LongText = Text(100_000)
TagName = RequiredText(60)
CustomValue = (
    StrictBool
    | Annotated[int, Field(ge=-(2**53), le=2**53)]
    | Annotated[float, Field(allow_inf_nan=False)]
    | Annotated[str, Field(max_length=1000)]
    | None
)
CustomFields = Annotated[
    dict[Annotated[str, Field(min_length=1, max_length=60)], CustomValue], Field(max_length=50)
]


class WriteSchema(Schema):
    """Base of request bodies: unknown fields are errors (a typo must not be silently lost),
    and no text may hold what the database cannot store."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return storable(value)


def partial(schema: type[WriteSchema]) -> type[WriteSchema]:
    """The PATCH variant of ``schema``: every field optional, same types and validators.

    An omitted field is left alone; null is only accepted where the field is nullable."""
    fields: dict[str, Any] = {}
    for name, info in schema.model_fields.items():
        patch_info = FieldInfo.merge_field_infos(info, default=None, validate_default=False)
        fields[name] = (info.annotation, patch_info)
    return create_pydantic_model(schema.__name__.removesuffix("In") + "Patch", __base__=WriteSchema, **fields)


class ErrorOut(Schema):
    detail: str | list[dict[str, Any]] = Field(
        description="A message, or for 422 a list of {loc, msg, type} naming each bad field"
    )


ERRORS: dict[int, type[Schema]] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 413, 422)}


def needs(action: str):
    """Mark an endpoint that needs more than its HTTP method's role (``@needs(Action.ADMIN)``,
    placed below the router's decorator). The API checks the mark with log-in, before it reads
    the request's body, so an assistant gets the 403 it is owed rather than a 422 about a body
    it may not send at all (solocrm/api.py, ``enforce_marked_roles``)."""

    def mark(view):
        view.solocrm_action = action
        return view

    return mark


def responses(success: dict[int, Any]) -> dict[int, Any]:
    return {**success, **ERRORS}


class Pagination(LimitOffsetPagination):
    """limit/offset pages of at most MAX_LIMIT items, answered as {items, count}."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=MAX_LIMIT, description=f"Page size (at most {MAX_LIMIT})")
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)


def resolve(user, model: type[models.Model], value: uuid.UUID | None, *loc: str | int) -> Any:
    """The object a body refers to by UUID at ``loc``; an unknown one is a 422 naming it."""
    if value is None:
        return None
    try:
        return access.get_for(user, model, value)
    except Http404:
        raise NinjaValidationError(
            [
                {
                    "loc": ["body", "payload", *loc],
                    "msg": _("no %(object)s with this id") % {"object": model._meta.verbose_name},
                    "type": "value_error",
                }
            ]
        ) from None


def ref(obj: models.Model | None) -> uuid.UUID | None:
    return obj.uuid if obj is not None else None
