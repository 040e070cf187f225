"""vCard 2.1 / 3.0 / 4.0 files as rows of fixed columns, one card at a time.

The file is split into cards by hand (so each card knows its line number and one broken card
does not stop the others) and each card is parsed by vobject."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import vobject
from django.utils.translation import gettext as _

VCARD_HEADERS = (
    "UID",
    "FN",
    "N:given",
    "N:additional",
    "N:family",
    "EMAIL",
    "EMAIL (more)",
    "TEL",
    "TEL (more)",
    "ORG",
    "TITLE",
    "ADR:street",
    "ADR:locality",
    "ADR:region",
    "ADR:code",
    "ADR:country",
    "BDAY",
    "NOTE",
    "CATEGORIES",
)
# Binary properties are large (base64 photos) and never imported: dropped before parsing.
SKIPPED_PROPERTIES = ("PHOTO", "LOGO", "SOUND", "KEY")
MAX_CARD_LINES = 5000


def read_cards(lines: Iterable[str]) -> Iterator[tuple[int, list[str] | str]]:
    """Yield (line of BEGIN:VCARD, cells in VCARD_HEADERS order, or the reason it is unreadable)."""
    start, card, skipping = 0, [], False
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        upper = line.upper()
        if upper.startswith("BEGIN:VCARD"):
            start, card, skipping = number, [line], False
        elif not start:
            continue
        elif upper.startswith("END:VCARD"):
            card.append(line)
            yield start, card_cells("\r\n".join(card) + "\r\n")
            start = 0
        elif len(card) > MAX_CARD_LINES:
            yield start, _("this card is too long")
            start = 0
        else:
            skipping = _add_line(card, line, skipping)
    if start:
        yield start, _("the card has no END:VCARD line")


def _add_line(card: list[str], line: str, skipping: bool) -> bool:
    """Append ``line`` to ``card``, joining vCard 2.1 quoted-printable soft line breaks and
    dropping binary properties; returns whether we are inside a dropped property."""
    if line[:1] in (" ", "\t"):
        if not skipping:
            card.append(line)
        return skipping
    previous = card[-1]
    if previous.endswith("=") and "QUOTED-PRINTABLE" in previous.split(":", 1)[0].upper():
        card[-1] = previous[:-1] + line
        return False
    name = line.split(":", 1)[0].split(";", 1)[0].split(".")[-1].upper()
    if name in SKIPPED_PROPERTIES:
        return True
    card.append(line)
    return False


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        return " ".join(_text(v) for v in value if v).strip()
    return str(value or "").strip()


def _preferred_first(lines: list) -> list:
    """PREF-marked e-mails and phones first (vCard 2.1 PREF flag, 3.0 TYPE=pref, 4.0 PREF=1)."""

    def rank(line) -> int:
        types = [t.upper() for t in line.params.get("TYPE", [])] + [s.upper() for s in line.singletonparams]
        return 0 if "PREF" in types or "PREF" in line.params else 1

    return sorted(lines, key=rank)


def _values(card, name: str) -> list[str]:
    values = []
    for line in _preferred_first(card.contents.get(name, [])):
        text = _text(line.value)
        if name == "tel" and text.lower().startswith("tel:"):
            text = text[4:]
        if text:
            values.append(text)
    return values


def card_cells(text: str) -> list[str] | str:
    """One card's cells in VCARD_HEADERS order, or the reason it cannot be read."""
    try:
        card = vobject.readOne(text, ignoreUnreadable=True)
    except Exception:  # vobject raises ParseError, ValueError, UnicodeError… for broken cards
        return _("this card cannot be read")
    emails, phones = _values(card, "email"), _values(card, "tel")
    name = card.contents.get("n", [None])[0]
    adr = card.contents.get("adr", [None])[0]
    org = card.contents.get("org", [None])[0]
    org_value = org.value if org is not None else ""
    cells = {
        "UID": _first(card, "uid"),
        "FN": _first(card, "fn"),
        "N:given": _text(getattr(name.value, "given", "")) if name else "",
        "N:additional": _text(getattr(name.value, "additional", "")) if name else "",
        "N:family": _text(getattr(name.value, "family", "")) if name else "",
        "EMAIL": emails[0] if emails else "",
        "EMAIL (more)": ", ".join(emails[1:]),
        "TEL": phones[0] if phones else "",
        "TEL (more)": ", ".join(phones[1:]),
        "ORG": _text(org_value[0] if isinstance(org_value, list) and org_value else org_value),
        "TITLE": _first(card, "title"),
        "BDAY": _first(card, "bday"),
        "NOTE": _first(card, "note"),
        "CATEGORIES": ", ".join(_categories(card)),
    }
    for part, attr in (("street", "street"), ("locality", "city"), ("region", "region"), ("code", "code")):
        cells[f"ADR:{part}"] = _text(getattr(adr.value, attr, "")) if adr else ""
    cells["ADR:country"] = _text(getattr(adr.value, "country", "")) if adr else ""
    return [cells[h] for h in VCARD_HEADERS]


def _first(card, name: str) -> str:
    lines = card.contents.get(name)
    return _text(lines[0].value) if lines else ""


def _categories(card) -> list[str]:
    names = []
    for line in card.contents.get("categories", []):
        value = line.value if isinstance(line.value, list) else str(line.value).split(",")
        names.extend(v.strip() for v in value if v and v.strip())
    return names
