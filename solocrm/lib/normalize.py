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
    """Collapse white space; keep the case it was typed in. "IBM", "danah boyd" and "van Gogh"
    are spelt that way on purpose, and no rule re-cases every name right."""
    return _spaces.sub(" ", unicodedata.normalize("NFC", value or "")).strip()


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


# --- search -------------------------------------------------------------------------------------

_PHONE_TOKEN = re.compile(r"\+?[\d().\-/]*\d[\d().\-/]*")
MIN_PHONE_DIGITS = 5  # fewer digits are a house number or a year, searched as a plain word


def phone_search(text: str, region: str | None) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """Split a search box into the phone numbers typed in it, in any local or international
    format ("07700 900097", "+44 7700-900097", "0044 7700 900097"), and the other words.

    Each number comes back as (what was typed, texts), where any one of the texts found in a
    stored number (E.164, "+447700900097") finds it: the digits without a trunk prefix
    ("7700900097": a part of a number, or a foreign one typed the local way), and the number in
    E.164 when that differs ("+44 (0)7700 900097")."""
    numbers: list[tuple[str, list[str]]] = []
    others: list[str] = []
    run: list[str] = []
    for token in [*text.split(), ""]:
        if token and _PHONE_TOKEN.fullmatch(token):
            run.append(token)
            continue
        if run:
            _add_phone_run(run, region, numbers, others)
            run = []
        if token:
            others.append(token)
    return numbers, others


def _add_phone_run(
    run: list[str], region: str | None, numbers: list[tuple[str, list[str]]], others: list[str]
) -> None:
    """A run of number-like words is one number ("07700 900097") when it parses as one,
    else each long enough word is a number of its own and the rest are plain words."""
    whole, possible = _phone_texts(" ".join(run), region)
    if whole and (possible or len(run) == 1):
        numbers.append((" ".join(run), whole))
        return
    for token in run:
        texts, _possible = _phone_texts(token, region)
        if texts:
            numbers.append((token, texts))
        else:
            others.append(token)


def _phone_texts(typed: str, region: str | None) -> tuple[list[str], bool]:
    """The texts to look for, and whether ``typed`` is a possible phone number as a whole."""
    digits = re.sub(r"\D", "", typed)
    if len(digits) < MIN_PHONE_DIGITS:
        return [], False
    texts = [digits.lstrip("0") or digits]
    candidate = "+" + typed.lstrip()[2:] if typed.lstrip().startswith("00") else typed
    try:
        number = phonenumbers.parse(candidate, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return texts, False
    if not phonenumbers.is_possible_number(number):
        return texts, False
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if texts[0] not in e164:  # "+44 (0)7700 900097": only the E.164 form matches
        texts.append(e164)
    return texts, True


def case_variants(word: str) -> list[str]:
    """``word`` as typed, lower-case, capitalised and upper-case, for SQLite's LIKE, which ignores
    case for ASCII letters only: "иван" must also be looked for as "Иван", but "müller" need not
    be looked for as "Müller" (only its ASCII "m" differs)."""
    variants: dict[str, str] = {}
    for variant in (word, word.lower(), word.capitalize(), word.upper()):
        like_sees = "".join(c.lower() if c.isascii() else c for c in variant)
        variants.setdefault(like_sees, variant)
    return list(variants.values())
