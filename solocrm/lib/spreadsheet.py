"""Text for CSV files people open in a spreadsheet: lists joined, dates in ISO 8601, and nothing a
spreadsheet would run as a formula (CSV injection)."""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

LIST_SEPARATOR = "; "  # the importer splits lists (e-mails, phones, tags) on ";" and ","
# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d[\d\s().-]*")  # "+14155550100", "-12.50": data, not formulas


def csv_cell(value: Any) -> str:
    """A value as CSV text: lists joined, dates in ISO 8601, and text that a spreadsheet would
    run as a formula prefixed with an apostrophe (OWASP's advice against CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(csv_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False) if value else ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text
