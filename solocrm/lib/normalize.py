"""Normalisation of what people type: e-mail addresses, phone numbers, names, money.

Every function returns the normalised value or raises ``ValueError`` with a short,
translatable reason, so importers, forms and the API report the same message."""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal

import phonenumbers
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email

_spaces = re.compile(r"\s+")
MAX_MONEY = Decimal("999999999999.99")


def normalize_email(value: str | None) -> str:
    """Lower-case and validate an e-mail address; '' stays ''.

    RFC 5321 with RFC 6531's internationalised addresses ('tomás@exämple.de', '用户@例子.广告')
    through email-validator: Django's own validator refuses non-ASCII local parts, which lost
    real customers. 'mailto:' and a display name ('"Ada" <ada@example.com>') are dropped."""
    value = (value or "").strip()
    if value.lower().startswith("mailto:"):
        value = value[7:].strip()
    value = value.strip("<>").strip()
    if not value:
        return ""
    if len(value) > 254 + 200:
        raise ValueError(_("e-mail address is too long"))
    try:
        # test_environment: the special-use ".test" domain is accepted (tests and demos use it);
        # no DNS lookup is ever made.
        checked = validate_email(
            value, check_deliverability=False, allow_display_name=True, test_environment=True
        )
    except EmailNotValidError:
        raise ValueError(_("“%(value)s” is not a valid e-mail address") % {"value": value[:80]}) from None
    address = checked.normalized.lower()
    if len(address) > 254:
        raise ValueError(_("e-mail address is too long"))
    return address


def validate_email_address(value: str) -> None:
    """A model/form validator with normalize_email's rule (RFC 5321/6531), not Django's ASCII one."""
    from django.core.exceptions import ValidationError

    try:
        normalize_email(value)
    except ValueError as error:
        raise ValidationError(str(error), code="invalid") from None


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


# One amount, strictly: an optional sign or accounting parentheses, an optional currency (a
# symbol or a three-letter code, before or after), and digits grouped by one locale's
# separators. Anything else ("1/2", "12-34", "3+4", two numbers) is refused, never guessed.
_CURRENCY = r"(?:[A-Za-z]{3}|[$€£¥￥₹₽₩₺₪₫฿₱]|[A-Za-z]{1,2}\$|R\$|元|円|Fr\.?|kr\.?|zł)"
_MONEY = re.compile(
    rf"(?P<open>\()?\s*(?P<sign1>[-+−])?\s*(?:{_CURRENCY}\s*)?(?P<sign2>[-+−])?\s*"
    r"(?P<number>\d[\d.,'’\u00a0\u202f ]*)"
    rf"\s*(?:{_CURRENCY})?\s*(?P<sign3>-)?\s*(?P<close>\))?"
)
# (thousands separator, decimal separator) of the locales people export from.
_GROUPINGS = ((",", "."), (".", ","), (" ", ","), (" ", "."), ("'", "."), ("’", "."), ("", "."), ("", ","))


def _parse_money_text(text: str) -> Decimal:
    bad = ValueError(_("“%(value)s” is not an amount of money") % {"value": text[:40]})
    match = _MONEY.fullmatch(text.strip())
    if not match or bool(match["open"]) != bool(match["close"]):
        raise bad
    signs = [s for s in (match["sign1"], match["sign2"], match["sign3"]) if s]
    if len(signs) > 1:
        raise bad
    number = re.sub(r"[\u00a0\u202f ]", " ", match["number"].strip())
    digits = next((d for d in (_locale_number(number, t, p) for t, p in _GROUPINGS) if d is not None), None)
    if digits is None:
        raise bad
    amount = Decimal(digits)
    negative = bool(match["open"]) or (signs and signs[0] in "-−")
    return -amount if negative else amount


def _locale_number(number: str, thousands: str, point: str) -> str | None:
    """'1,234.50' with (',', '.') -> '1234.50'; None when the text does not follow that locale
    (groups of three after the first, at most one decimal separator, last). The locales are
    tried in order, so '12,345' reads as twelve thousand (a grouped number) before 12.345."""
    whole, _sep, fraction = number.rpartition(point) if point in number else (number, "", "")
    if point in number and not fraction.isdigit():
        return None
    if thousands and thousands in whole:
        groups = whole.split(thousands)
        if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
            return None
        whole = "".join(groups)
    if not whole.isdigit():
        return None
    return f"{whole}.{fraction}" if fraction else whole


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
