"""Normalisation of what people type: e-mail addresses, phone numbers, names, money.

Every function returns the normalised value or raises ``ValueError`` with a short,
translatable reason, so importers, forms and the API report the same message."""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext as _

_email_validator = EmailValidator()
_spaces = re.compile(r"\s+")
MAX_MONEY = Decimal("999999999999.99")


def normalize_email(value: str | None) -> str:
    """Lower-case and validate an e-mail address; '' stays ''."""
    value = (value or "").strip().strip("<>").strip()
    if not value:
        return ""
    if value.lower().startswith("mailto:"):
        value = value[7:]
    value = value.lower()
    if len(value) > 254:
        raise ValueError(_("e-mail address is too long"))
    try:
        _email_validator(value)
    except ValidationError:
        raise ValueError(_("“%(value)s” is not a valid e-mail address") % {"value": value[:80]}) from None
    return value


def normalize_phone(value: str | None, region: str | None = None) -> str:
    """Return the number in E.164 (+4930123456); numbers without a country code take ``region``."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > 40:
        raise ValueError(_("phone number is too long"))
    if value.startswith("00"):
        value = "+" + value[2:]
    try:
        number = phonenumbers.parse(value, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        raise ValueError(_("“%(value)s” is not a phone number") % {"value": value}) from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError(_("“%(value)s” is not a possible phone number") % {"value": value})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_name(value: str | None) -> str:
    """Collapse white space and fix ALL-CAPS or all-lower-case Latin names ("ada LOVELACE")."""
    value = _spaces.sub(" ", unicodedata.normalize("NFC", value or "")).strip()
    if value and value.isascii() and (value.isupper() or value.islower()):
        value = " ".join(part[:1].upper() + part[1:].lower() for part in value.split(" "))
    return value


def split_full_name(value: str) -> tuple[str, str]:
    """'Ada Lovelace' -> ('Ada', 'Lovelace'); 'Lovelace, Ada' -> ('Ada', 'Lovelace');
    a CJK name without spaces ('王小明') -> ('小明', '王')."""
    value = normalize_name(value)
    if "," in value:
        last, _sep, first = value.partition(",")
        return first.strip(), last.strip()
    if " " in value:
        first, _sep, last = value.rpartition(" ")
        return first, last
    if value and unicodedata.east_asian_width(value[0]) == "W" and len(value) >= 2:
        return value[1:], value[0]
    return value, ""


def parse_money(value: str | float | int | Decimal | None) -> Decimal:
    """Parse '1,234.50', '1.234,50', '$12', '¥ 88' to a Decimal with two places."""
    if value is None or value == "":
        return Decimal("0.00")
    if isinstance(value, Decimal | int | float):
        amount = Decimal(str(value))
    else:
        amount = _parse_money_text(value)
    if not amount.is_finite() or abs(amount) > MAX_MONEY:
        raise ValueError(_("amount is out of range"))
    return amount.quantize(Decimal("0.01"))


def _parse_money_text(text: str) -> Decimal:
    core = re.sub(r"^\s*[A-Za-z]{1,3}\.?|[A-Za-z]{1,3}\s*$", "", text.strip())
    if re.search(r"[A-Za-z]", core):  # "1e400", "12abc": not money, even if digits remain
        raise ValueError(_("“%(value)s” is not an amount of money") % {"value": text[:40]})
    cleaned = re.sub(r"[^\d,.\-]", "", text.strip())
    negative = cleaned.startswith("-") or text.strip().startswith("(")
    cleaned = cleaned.replace("-", "")
    if "," in cleaned and "." in cleaned:
        # whichever separator comes last is the decimal point
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif "," in cleaned:
        head, _sep, tail = cleaned.rpartition(",")
        cleaned = f"{head.replace(',', '')}.{tail}" if len(tail) != 3 else cleaned.replace(",", "")
    try:
        amount = Decimal(cleaned or "x")
    except InvalidOperation:
        raise ValueError(_("“%(value)s” is not an amount of money") % {"value": text[:40]}) from None
    return -amount if negative else amount


def normalize_currency(value: str | None, default: str) -> str:
    value = (value or "").strip().upper()
    if not value:
        return default
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError(_("“%(value)s” is not a three-letter currency code") % {"value": value[:10]})
    return value


def finite_number(value: object) -> float | None:
    """A finite float, or None for a missing or unusable value (stored reports may hold nulls,
    NaN or text; a page shows a dash for those instead of failing)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
