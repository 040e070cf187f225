"""Parsers for one cell each: they return the clean value or raise ValueError with a short,
translatable reason. Dates in many spellings, booleans, tags, choices, and fast paths for the
e-mail and phone checks that dominate the time of a big import."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import phonenumbers
from django.core.validators import EmailValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from phonenumbers import PhoneMetadata, PhoneNumber

from solocrm.lib.business import business_settings
from solocrm.lib.normalize import normalize_email, normalize_phone

MAX_NOTES = 65_535
MAX_TAGS_PER_ROW = 50
MAX_QUANTITY = Decimal("1000000000")

# ---------------------------------------------------------------------------------- text


def text(value: str, limit: int) -> str:
    """Trimmed text, rejected (never cut) when longer than the column allows."""
    value = value.strip()
    if len(value) > limit:
        raise ValueError(_("longer than %(limit)d characters") % {"limit": limit})
    return value


def check_decoded(value: str) -> None:
    if "\ufffd" in value:
        raise ValueError(_("contains characters that could not be decoded"))


# ---------------------------------------------------------------------------------- e-mail

# Django's own e-mail patterns joined into one: a lower-cased address that matches is exactly one
# that normalize_email() would return unchanged, at a tenth of the cost. Anything else (mailto:,
# <…>, quoted local parts, IP literals, localhost) takes the full path.
_FAST_EMAIL = re.compile(
    r"[-!#$%&'*+/=?^_`{}|~0-9a-z]+(?:\.[-!#$%&'*+/=?^_`{}|~0-9a-z]+)*@"
    + EmailValidator.hostname_re
    + EmailValidator.domain_re
    + EmailValidator.tld_no_fqdn_re
    + r"\Z",
    re.IGNORECASE,
)


# Domains email-validator refuses (RFC 6761 special-use names; ".test" is allowed): the fast path
# must not accept what the full check, and with it the contact form, refuses.
_SPECIAL_USE = (".arpa", ".invalid", ".local", ".localhost", ".onion")


def email(value: str) -> str:
    candidate = value.strip().lower()
    if (
        len(candidate) <= 254
        and _FAST_EMAIL.match(candidate)
        and not candidate.endswith(_SPECIAL_USE)
        and "xn--" not in candidate  # email-validator shows an IDN domain in Unicode
    ):
        return candidate
    return normalize_email(value)


def emails(value: str) -> list[str]:
    """Several addresses in one cell, separated by commas, semicolons or spaces."""
    return [email(part) for part in re.split(r"\s*(?:[,;]|:::)\s*", value) if part.strip()]


# ---------------------------------------------------------------------------------- phone

# ASCII digits only: phonenumbers turns full-width or Arabic-Indic digits into ASCII ones, so such
# numbers must take the full path (\d would let them through unchanged).
_E164 = re.compile(r"\+([1-9][0-9]{6,14})")
_NATIONAL = re.compile(r"[0-9 \-.()/]{7,30}")
_SEPARATORS = str.maketrans("", "", " -.()/")  # what _NATIONAL allows besides digits


@lru_cache(maxsize=512)
def _metadata(country_code: int) -> PhoneMetadata | None:
    region = phonenumbers.region_code_for_country_code(country_code)
    return PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)


@lru_cache(maxsize=64)
def _region_rules(region: str) -> tuple[int, str, re.Pattern | None] | None:
    """(country code, its digits, international dialling prefix) of a region, decided once."""
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return None
    idd = metadata.international_prefix
    return metadata.country_code, str(metadata.country_code), re.compile(idd) if idd else None


@lru_cache(maxsize=512)
def _country_rules(country_code: int) -> tuple[bool, re.Pattern | None]:
    """(metadata known, trunk prefix pattern) of a country code, decided once."""
    metadata = _metadata(country_code)
    prefix = metadata.national_prefix_for_parsing if metadata else None
    return metadata is not None, re.compile(prefix) if prefix else None


@lru_cache(maxsize=4096)
def _possible_length(country_code: int, length: int) -> bool:
    # phonenumbers decides "possible" from the country's metadata and the number's length only,
    # so one answer per (country, length) holds for every number.
    return phonenumbers.is_possible_number(
        PhoneNumber(country_code=country_code, national_number=int("9" * length))
    )


def _possible_without_rewrites(country_code: int, national: str) -> bool:
    """True when phonenumbers.parse would keep ``national`` as it is (no trunk prefix or leading
    zero to strip) and the number has a possible length: then its E.164 form is plain text
    concatenation and the expensive parse can be skipped."""
    if national.startswith("0"):
        return False
    known, prefix = _country_rules(country_code)
    if not known or (prefix is not None and prefix.match(national)):
        return False
    return _possible_length(country_code, len(national))


@lru_cache(maxsize=1024)
def _leading_code(head: str) -> tuple[int, int]:
    """(country code, its length) at the start of ``head`` (the shortest known code, as
    phonenumbers reads it), (0, 0) if none."""
    for size in (1, 2, 3):
        if int(head[:size]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return int(head[:size]), size
    return 0, 0


def _country_code(digits: str) -> tuple[int, str]:
    """Split '4930123456' into (49, '30123456') the way phonenumbers does (shortest known code)."""
    code, size = _leading_code(digits[:3])
    return code, digits[size:]


def phone(value: str, region: str) -> str:
    """E.164 like lib.normalize.normalize_phone, with fast paths for the common spellings."""
    candidate = value.strip()
    if match := _E164.fullmatch(candidate):
        code, national = _country_code(match[1])
        if code and _possible_without_rewrites(code, national):
            return candidate
    elif region and _NATIONAL.fullmatch(candidate):
        fast = _national_fast(candidate, region)
        if fast:
            return fast
    return normalize_phone(value, region)


def _national_fast(candidate: str, region: str) -> str:
    rules = _region_rules(region)
    digits = candidate.translate(_SEPARATORS)
    if rules is None or not 4 <= len(digits) <= 17:
        return ""
    country_code, code, idd = rules
    if digits.startswith(code) or (idd is not None and idd.match(digits)):
        return ""
    if _possible_without_rewrites(country_code, digits):
        return f"+{code}{digits}"
    return ""


# An extension written after the number: RFC 3966's ";ext=", "x123", "ext. 5", "#12",
# German "Durchwahl"/"DW", French "poste", Chinese 分机/转.
_EXTENSION = re.compile(
    r"\s*(?:;\s*ext=|,?\s*(?:ext\.?|extn\.?|extension|x|#|durchwahl|dw\.?|poste|分机|转)\s*[:.]?\s*)"
    r"(\d{1,10})\s*\Z",
    re.IGNORECASE,
)
_MAYBE_EXTENSION = re.compile(r"[A-Za-z#;,分转]")  # cheap test before the full pattern (most numbers)
# Splits a cell holding several numbers, but not an extension or a tel: URI parameter.
_PHONE_SEPARATORS = re.compile(r"(?:[,;](?!\s*(?:ext|isub|phone-context|postd)\b))+|\s{2,}| / |:::", re.I)
MAX_EXTENSION = 10


def phone_and_extension(value: str, region: str) -> tuple[str, str]:
    """(E.164 number, extension) of a number that may be a tel: URI ('tel:+1-418-656-9254;ext=102',
    RFC 3966) or carry an extension ('+1 418 656 9254 x102', '030 123456 ext. 5')."""
    candidate = value.strip()
    if candidate[:4].lower() == "tel:":
        return _tel_uri(candidate[4:], region)
    extension = ""
    if _MAYBE_EXTENSION.search(candidate) and (match := _EXTENSION.search(candidate)):
        candidate, extension = candidate[: match.start()], match[1]
    return phone(candidate, region), extension


def _tel_uri(uri: str, region: str) -> tuple[str, str]:
    from urllib.parse import unquote

    number, *params = unquote(uri).split(";")
    extension = ""
    for param in params:
        name, _sep, text = param.partition("=")
        if name.strip().lower() == "ext":
            extension = re.sub(r"[^0-9]", "", text)[:MAX_EXTENSION]
    return phone(number, region), extension


def split_phones(value: str) -> list[str]:
    """The numbers of one cell ('030 1234, 0171 5678'), extensions kept with their number."""
    return [part.strip() for part in _PHONE_SEPARATORS.split(value) if part.strip()]


def phones(value: str, region: str) -> list[str]:
    return [phone_and_extension(part, region)[0] for part in split_phones(value)]


# Country (ISO code or a common name, English, German, French, Spanish, Chinese) -> phone region,
# so a row's national number is read in its own country rather than the default one.
_COUNTRY_NAMES = {
    "united states": "US", "usa": "US", "united states of america": "US", "vereinigte staaten": "US",
    "états-unis": "US", "etats-unis": "US", "estados unidos": "US", "美国": "US",
    "canada": "CA", "kanada": "CA", "加拿大": "CA",
    "united kingdom": "GB", "uk": "GB", "great britain": "GB", "england": "GB", "großbritannien": "GB",
    "royaume-uni": "GB", "reino unido": "GB", "英国": "GB",
    "germany": "DE", "deutschland": "DE", "allemagne": "DE", "alemania": "DE", "德国": "DE",
    "austria": "AT", "österreich": "AT", "autriche": "AT", "奥地利": "AT",
    "switzerland": "CH", "schweiz": "CH", "suisse": "CH", "suiza": "CH", "瑞士": "CH",
    "france": "FR", "frankreich": "FR", "francia": "FR", "法国": "FR",
    "spain": "ES", "españa": "ES", "espana": "ES", "spanien": "ES", "espagne": "ES", "西班牙": "ES",
    "italy": "IT", "italia": "IT", "italien": "IT", "italie": "IT", "意大利": "IT",
    "netherlands": "NL", "nederland": "NL", "niederlande": "NL", "pays-bas": "NL", "荷兰": "NL",
    "belgium": "BE", "belgien": "BE", "belgique": "BE", "比利时": "BE",
    "portugal": "PT", "葡萄牙": "PT", "ireland": "IE", "irland": "IE", "爱尔兰": "IE",
    "poland": "PL", "polska": "PL", "polen": "PL", "波兰": "PL",
    "sweden": "SE", "sverige": "SE", "schweden": "SE", "瑞典": "SE",
    "norway": "NO", "norge": "NO", "norwegen": "NO", "挪威": "NO",
    "denmark": "DK", "danmark": "DK", "dänemark": "DK", "丹麦": "DK",
    "china": "CN", "中国": "CN", "prc": "CN", "hong kong": "HK", "香港": "HK", "taiwan": "TW", "台湾": "TW",
    "japan": "JP", "日本": "JP", "south korea": "KR", "korea": "KR", "韩国": "KR",
    "india": "IN", "印度": "IN", "australia": "AU", "australien": "AU", "澳大利亚": "AU",
    "new zealand": "NZ", "新西兰": "NZ", "singapore": "SG", "新加坡": "SG",
    "mexico": "MX", "méxico": "MX", "墨西哥": "MX", "brazil": "BR", "brasil": "BR", "巴西": "BR",
    "argentina": "AR", "阿根廷": "AR", "russia": "RU", "россия": "RU", "俄罗斯": "RU",
}  # fmt: skip


def region_of_country(value: str) -> str:
    """The phone region of a country cell ('DE', 'Deutschland', '德国'), '' when unknown."""
    key = " ".join(value.strip().lower().replace(".", "").split())
    if len(key) == 2 and key.upper() in phonenumbers.SUPPORTED_REGIONS:
        return key.upper()
    return _COUNTRY_NAMES.get(key, "")


# ---------------------------------------------------------------------------------- dates

_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?")
_CJK_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_SHORT_DATE = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})(?:[T ].*)?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SERIAL = re.compile(r"\d{1,5}(?:\.\d+)?")
_YEARLESS = re.compile(r"--(\d{2})-?(\d{2})")
_ZERO_DATE = re.compile(r"[0/.\-: ]*")  # Outlook writes "0/0/00" for "no birthday"
_NAMED_FORMATS = (
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
)
EXCEL_EPOCH = dt.date(1899, 12, 30)
MONTH_FIRST_REGIONS = {"US", "PH", "FM", "MH", "PW"}


def is_empty_date(value: str) -> bool:
    return not value.strip() or bool(_ZERO_DATE.fullmatch(value.strip()))


def parse_date(value: str, *, region: str = "US", years: tuple[int, int] = (1900, 2100)) -> dt.date:
    """ISO, Chinese (2024年3月5日), dotted European, US/EU slashes (day first unless the
    region writes month first, or a part > 12 decides), month names, Excel serial numbers."""
    value = value.strip()
    try:
        day = _date_parts(value, region)
    except (ValueError, OverflowError):
        day = None
    if day is None:
        raise ValueError(_("“%(value)s” is not a date") % {"value": value[:40]})
    if not years[0] <= day.year <= years[1]:
        raise ValueError(_("the date %(value)s is out of range") % {"value": day.isoformat()})
    return day


def _date_parts(value: str, region: str) -> dt.date | None:
    if m := _ISO_DATE.fullmatch(value) or _CJK_DATE.fullmatch(value):
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    if m := _SHORT_DATE.fullmatch(value):
        return _short_date(int(m[1]), int(m[3]), m[4], m[2] == "." or region not in MONTH_FIRST_REGIONS)
    if m := _COMPACT.fullmatch(value):
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    if _SERIAL.fullmatch(value) and 0 < float(value) < 100_000:
        return EXCEL_EPOCH + dt.timedelta(days=int(float(value)))
    for fmt in _NAMED_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def _short_date(first: int, second: int, year_text: str, day_first: bool) -> dt.date:
    year = int(year_text)
    if len(year_text) == 2:
        year += 2000 if year + 2000 <= dt.date.today().year else 1900
    if first > 12:
        day_first = True
    elif second > 12:
        day_first = False
    day, month = (first, second) if day_first else (second, first)
    return dt.date(year, month, day)


def parse_birthday(value: str, region: str) -> tuple[dt.date | None, str]:
    """A birthday, or for a birthday without year (Google's '--03-05') the 'MM-DD' text."""
    if m := _YEARLESS.fullmatch(value.strip()):
        dt.date(2000, int(m[1]), int(m[2]))  # validates month and day (2000 is a leap year)
        return None, f"{m[1]}-{m[2]}"
    return parse_date(value, region=region, years=(1880, dt.date.today().year)), ""


def parse_datetime(value: str, *, region: str = "US") -> dt.datetime:
    """A moment: ISO 8601 (with or without offset), or any date form above plus a time."""
    value = value.strip()
    moment = None
    try:
        moment = dt.datetime.fromisoformat(value.replace(" UTC", "Z"))
    except ValueError:
        date_text, _sep, time_text = value.partition(" ")
        try:
            day = parse_date(date_text, region=region, years=(1970, 2100))
        except ValueError:
            raise ValueError(_("“%(value)s” is not a date and time") % {"value": value[:40]}) from None
        clock = dt.time()
        if time_text:
            try:
                clock = dt.time.fromisoformat(time_text.strip().zfill(5))
            except ValueError:
                raise ValueError(_("“%(value)s” is not a date and time") % {"value": value[:40]}) from None
        moment = dt.datetime.combine(day, clock)
    if not 1970 <= moment.year <= 2100:
        raise ValueError(_("the date %(value)s is out of range") % {"value": moment.date().isoformat()})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, business_settings().zone)
    return moment


# ---------------------------------------------------------------------------------- other

_TRUE = {
    "1",
    "y",
    "yes",
    "true",
    "t",
    "x",
    "✓",
    "✔",
    "on",
    "subscribed",
    "opted in",
    "optin",
    "granted",
    "ja",
    "oui",
    "si",
    "是",
    "同意",
    "已订阅",
    "已同意",
}
_FALSE = {
    "0",
    "n",
    "no",
    "false",
    "f",
    "off",
    "-",
    "unsubscribed",
    "not subscribed",
    "opted out",
    "nein",
    "non",
    "否",
    "不同意",
    "未订阅",
    "未同意",
}


def parse_bool(value: str) -> bool:
    key = value.strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(_("“%(value)s” is neither yes nor no") % {"value": value[:20]})


_TAG_SEPARATORS = re.compile(r"\s*(?::::|[,;|])\s*")


def parse_tags(value: str) -> list[str]:
    """Tags separated by commas, semicolons, '|' or Google's ' ::: '; Google's system labels
    ('* myContacts') are dropped, '* starred' becomes 'starred'."""
    names: dict[str, str] = {}
    # Commas alone (the usual case) split the same with str.split: the regex only also eats the
    # white space next to a separator, which strip() removes anyway.
    parts = _TAG_SEPARATORS.split(value) if ";" in value or "|" in value or ":" in value else value.split(",")
    for part in parts:
        name = part.strip()
        if name.startswith("* "):
            name = "" if name[2:].lower() in ("mycontacts", "my contacts") else name[2:].strip()
        if not name:
            continue
        if len(name) > 60:
            raise ValueError(_("the tag “%(name)s…” is longer than 60 characters") % {"name": name[:20]})
        names.setdefault(name.lower(), name)
    if len(names) > MAX_TAGS_PER_ROW:
        raise ValueError(_("more than %(n)d tags") % {"n": MAX_TAGS_PER_ROW})
    return list(names.values())


def choice_parser(choices: type[models.TextChoices], synonyms: dict[str, str]):
    """A parser accepting a choice's value, its English or translated label, or a synonym."""

    def parse(value: str) -> str:
        key = value.strip().lower()
        lookup = {c.value: c.value for c in choices} | synonyms
        lookup |= {str(c.label).lower(): c.value for c in choices}
        if key in lookup:
            return lookup[key]
        allowed = ", ".join(c.value for c in choices)
        raise ValueError(
            _("“%(value)s” is not one of: %(allowed)s") % {"value": value[:30], "allowed": allowed}
        )

    return parse


def parse_quantity(value: str) -> Decimal:
    try:
        amount = Decimal(value.strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(_("“%(value)s” is not a quantity") % {"value": value[:20]}) from None
    if not amount.is_finite() or not 0 < amount < MAX_QUANTITY:
        raise ValueError(_("the quantity is out of range"))
    return amount.quantize(Decimal("0.001"))


def web_domain(value: str) -> str:
    """'https://www.Example.com/about' -> 'example.com'."""
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value.strip().lower()).split("/")[0].split(":")[0]
    host = host.removeprefix("www.")
    if not re.fullmatch(r"[a-z0-9\u00a1-\uffff-]+(\.[a-z0-9\u00a1-\uffff-]+)+", host) or len(host) > 200:
        raise ValueError(_("“%(value)s” is not a web address") % {"value": value[:40]})
    return host
