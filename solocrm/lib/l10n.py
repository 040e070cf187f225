"""Numbers, money and dates written the way the current language writes them.

The formats themselves live in solocrm/formats/<language>/formats.py (settings.FORMAT_MODULE_PATH);
these helpers add what Django has no format name for: quantities with only their significant
decimals, money with its currency code, and the long date with the weekday. Templates reach them
through the ``formatting`` template library (solocrm/web/templatetags/formatting.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import formats
from django.utils.dateformat import format as date_format
from django.utils.translation import get_language

DASH = "—"


def _decimal(value) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def number(value, decimals: int | None = None) -> str:
    """A grouped number: 50190 -> "50,190"; ``decimals`` fixes the decimals, None keeps the
    significant ones only (2.500 -> "2.5", 2.000 -> "2"). A dash for no number."""
    parsed = _decimal(value)
    if parsed is None:
        return DASH
    if decimals is None:
        # normalize() alone would write 10 as 1E+1
        parsed = parsed.quantize(Decimal(1)) if parsed == parsed.to_integral() else parsed.normalize()
    return formats.number_format(parsed, decimals, use_l10n=True, force_grouping=True)


def quantity(value) -> str:
    """A quantity without spurious decimals: 2.500 -> "2.5", 1000.000 -> "1,000"."""
    return number(value, None)


def money(value, currency: str = "", decimals: int = 2) -> str:
    """12345.6, "EUR" -> "12,345.60 EUR": grouped by the language, with the ISO code after it.

    The code rather than a symbol: "$" and "¥" each name several currencies, and the code reads
    the same in every language (docs/decisions.md)."""
    text = number(value, decimals)
    return f"{text} {currency}" if currency and text != DASH else text


def percent(value) -> str:
    """A percentage already in percent, with its significant decimals: 12.50 -> "12.5 %"."""
    text = number(value, None)
    return f"{text} %" if text != DASH else text


def weekday_date(value: dt.date | None = None) -> str:
    """The long date with the weekday: "Monday, 7 December 2026", "2026年12月7日 星期一"."""
    from django.utils import timezone

    value = value or timezone.localdate()
    lang = get_language()
    pattern = next(
        (
            module.WEEKDAY_DATE_FORMAT
            for module in formats.get_format_modules(lang)
            if hasattr(module, "WEEKDAY_DATE_FORMAT")
        ),
        "l, " + formats.get_format("DATE_FORMAT", lang),
    )
    return date_format(value, pattern)


def significant(value) -> str | None:
    """The plain (unlocalised) number with only its significant decimals: Decimal("2.500") ->
    "2.5", for a number field's value; None for no number."""
    parsed = _decimal(value)
    if parsed is None:
        return None
    parsed = parsed.quantize(Decimal(1)) if parsed == parsed.to_integral() else parsed.normalize()
    return format(parsed, "f")


class SignificantNumberInput(forms.NumberInput):
    """A number field that shows 2.5 rather than the stored 2.500 (a quantity, a rate)."""

    def format_value(self, value):
        if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
            return significant(value)
        return super().format_value(value)
