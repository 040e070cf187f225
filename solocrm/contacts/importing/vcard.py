"""vCard 2.1 / 3.0 / 4.0 files as rows of fixed columns, one card at a time.

A tolerant reader of our own rather than vobject: real exports break the RFCs in ways a strict
parser refuses card by card (BlackBerry and Lotus Notes 2.1 with bare parameters and unfolded
base64, quoted-printable soft breaks with unindented continuation lines, per-property CHARSET,
nested AGENT cards, iOS's CR CR LF, "LABEL,TYPE=HOME" typos). The rules followed are those of
RFC 2425/2426 (3.0), RFC 6350 (4.0), RFC 6868 (caret escapes) and the vCard 2.1 specification,
plus what Android's vCard library does for files that follow none of them:

* folded lines are joined (one leading space or tab removed; for base64, all white space);
* a quoted-printable value ending in "=" continues on the next line, indented or not;
* a line without ":" continues the previous one (2.1 base64 PHOTO without the blank line, an
  ADR continued after a backslash); a line starting with "#" is a comment;
* 2.1 only knows the escape "\\;"; 3.0/4.0 also "\\n", "\\,", "\\\\" (and "\\:" written by Gmail);
* a card nested in another (2.1 AGENT) is a person of its own, read after its parent's lines.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

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
    "PHOTO",
)
MAX_CARD_LINES = 5000
MAX_PHOTO_BYTES = 1024 * 1024
# Bare 2.1 parameters that name an encoding rather than a type ("EMAIL;QUOTED-PRINTABLE:…").
ENCODINGS = {"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"}
# Apple and CardBook write a birthday without a year with this year.
NO_YEAR = "1604"
IMAGE_MAGIC = {b"\xff\xd8\xff": "jpeg", b"\x89PNG": "png", b"GIF8": "gif", b"RIFF": "webp", b"BM": "bmp"}


@dataclass
class Property:
    name: str
    params: dict[str, list[str]] = field(default_factory=dict)
    value: str = ""  # as written (still escaped), or decoded quoted-printable text
    binary: bytes | None = None  # base64-encoded values

    def param(self, key: str) -> str:
        values = self.params.get(key)
        return values[0] if values else ""

    @property
    def types(self) -> set[str]:
        return {t.upper() for t in self.params.get("TYPE", [])}

    @property
    def preferred(self) -> bool:
        return "PREF" in self.types or "PREF" in self.params


# ------------------------------------------------------------------------------ cards


def read_cards(lines: Iterable[str]) -> Iterator[tuple[int, list[str] | str]]:
    """Yield (line of BEGIN:VCARD, cells in VCARD_HEADERS order, or the reason it is unreadable).
    Nested cards are yielded after the card that holds them."""
    stack: list[tuple[int, list[str]]] = []  # (first line, physical lines) of the open cards
    finished: list[tuple[int, list[str]]] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n").rstrip("\r")
        upper = line.lstrip().upper()
        if upper.startswith("BEGIN:VCARD"):
            stack.append((number, []))
            continue
        if not stack:
            continue
        if upper.startswith("END:VCARD"):
            finished.append(stack.pop())
            if not stack:  # the outermost card is done: parents first, then the cards inside
                finished.sort(key=lambda card: card[0])
                for start, body in finished:
                    yield start, card_cells(body)
                finished = []
            continue
        body = stack[-1][1]
        if len(body) >= MAX_CARD_LINES:
            yield stack[0][0], _("this card is too long")
            stack, finished = [], []
            continue
        body.append(line)
    if stack:
        yield stack[0][0], _("the card has no END:VCARD line")


def logical_lines(physical: list[str]) -> list[str]:
    """Unfold the card's physical lines into one line per property."""
    out: list[str] = []
    for line in physical:
        if not line.strip():
            if out and out[-1].endswith("=") and _is_quoted_printable(out[-1]):
                out[-1] = out[-1][:-1]  # a soft break before a blank line ends the value
            continue
        if out and out[-1].endswith("=") and _is_quoted_printable(out[-1]):
            out[-1] = out[-1][:-1] + line  # a soft line break: the next line is content
        elif out and line[0] in " \t":
            out[-1] += line.strip() if _is_base64(out[-1]) else line[1:]
        elif line.startswith("#"):
            continue
        elif out and ":" not in line:
            out[-1] += line.strip() if _is_base64(out[-1]) else "\n" + line
        else:
            out.append(line)
    return out


def _head(line: str) -> str:
    return line.split(":", 1)[0].upper()


def _is_quoted_printable(line: str) -> bool:
    return "QUOTED-PRINTABLE" in _head(line)


def _is_base64(line: str) -> bool:
    head = _head(line)
    return "BASE64" in head or "ENCODING=B" in head


def parse_property(line: str) -> Property | None:
    """'item1.EMAIL;TYPE=work,pref:a@b.example' -> Property('EMAIL', {'TYPE': ['work', 'pref']}, …)."""
    colon = _unquoted_index(line, ":")
    if colon < 0:
        return None
    head, value = line[:colon], line[colon + 1 :]
    parts = _split_unquoted(head, ";")
    name = parts[0].strip().split(".")[-1].upper()
    if not re.fullmatch(r"[A-Z0-9-]+", name):
        return None  # "LABEL,TYPE=HOME" and other typos: not a property we could trust
    prop = Property(name)
    for part in parts[1:]:
        key, sep, text = part.partition("=")
        key = key.strip().upper()
        if not sep:  # 2.1 bare parameter
            key, text = ("ENCODING", key) if key in ENCODINGS else ("TYPE", key)
        values = [_caret(v.strip().strip('"')) for v in _split_unquoted(text, ",")]
        prop.params.setdefault(key, []).extend(v for v in values if v)
    encoding = prop.param("ENCODING").upper()
    if encoding == "QUOTED-PRINTABLE":
        prop.value = _from_quoted_printable(value, prop.param("CHARSET"))
    elif encoding in ("B", "BASE64"):
        prop.binary = _from_base64(value)
        prop.value = value
    else:
        prop.value = value
    return prop


def _unquoted_index(text: str, char: str) -> int:
    quoted = False
    for index, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch == char and not quoted:
            return index
    return -1


def _split_unquoted(text: str, sep: str) -> list[str]:
    parts, quoted, current = [], False, []
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _caret(value: str) -> str:
    """RFC 6868 parameter escapes: ^n newline, ^' double quote, ^^ caret."""
    if "^" not in value:
        return value
    return re.sub(r"\^(['n^])", lambda m: {"'": '"', "n": "\n", "^": "^"}[m[1]], value)


def _from_quoted_printable(value: str, charset: str) -> str:
    data = quopri.decodestring(value.encode("utf-8", "surrogateescape"))
    if charset:
        try:
            # a value cut inside a multi-byte character loses only that character
            return data.decode(charset, errors="replace").rstrip("\ufffd")
        except LookupError:
            pass
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


def _from_base64(value: str) -> bytes | None:
    text = re.sub(r"\s+", "", value)
    if len(text) % 4 == 1:  # one stray character (seen in Android exports): never valid base64
        text = text[:-1]
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


# ------------------------------------------------------------------------------ values


def unescape(value: str, version: str) -> str:
    """Text value escapes: 2.1 knows only '\\;'; 3.0 and 4.0 also \\n, \\, and \\\\."""
    if "\\" not in value:
        return value
    if version == "2.1":
        return value.replace("\\;", ";")
    return re.sub(r"\\([nN,;:\\])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def components(value: str, version: str) -> list[str]:
    """A structured value (N, ADR, ORG) split at its unescaped semicolons."""
    return [unescape(part, version).strip() for part in re.split(r"(?<!\\);", value)]


def card_cells(physical: list[str]) -> list[str] | str:
    """One card's cells in VCARD_HEADERS order, or the reason it cannot be read."""
    props = [p for p in map(parse_property, logical_lines(physical)) if p is not None]
    if not props:
        return _("this card is empty")
    by_name: dict[str, list[Property]] = {}
    for prop in props:
        by_name.setdefault(prop.name, []).append(prop)
    version = (by_name.get("VERSION") or [Property("VERSION", value="3.0")])[0].value.strip()

    def first(name: str) -> str:
        found = by_name.get(name)
        return unescape(found[0].value, version).strip() if found else ""

    n = components(by_name["N"][0].value, version) + [""] * 5 if "N" in by_name else [""] * 5
    adr = components(by_name["ADR"][0].value, version) + [""] * 7 if "ADR" in by_name else [""] * 7
    org = components(by_name["ORG"][0].value, version)[0] if "ORG" in by_name else ""
    emails = _many(by_name.get("EMAIL", []), version)
    phones = _many(by_name.get("TEL", []), version)
    cells = {
        "UID": first("UID"),
        "FN": first("FN"),
        "N:given": n[1],
        "N:additional": n[2],
        "N:family": n[0],
        "EMAIL": emails[0] if emails else "",
        "EMAIL (more)": ", ".join(emails[1:]),
        "TEL": phones[0] if phones else "",
        "TEL (more)": ", ".join(phones[1:]),
        "ORG": org,
        "TITLE": first("TITLE"),
        "ADR:street": " ".join(part for part in (adr[1], adr[2]) if part).strip(),
        "ADR:locality": adr[3],
        "ADR:region": adr[4],
        "ADR:code": adr[5],
        "ADR:country": adr[6],
        "BDAY": _birthday(by_name.get("BDAY", [None])[0]),
        "NOTE": first("NOTE"),
        "CATEGORIES": ", ".join(_categories(by_name.get("CATEGORIES", []), version)),
        "PHOTO": _photo(by_name.get("PHOTO", [None])[0]),
    }
    if not any(n) and _is_contact_detail(cells["FN"], emails, phones):
        cells["FN"] = ""  # FN is mandatory, so exporters fill it with the address or number
    if "N" not in by_name and "FN" not in by_name:
        _name_from_org_or_email(cells, emails)
    return [cells[h] for h in VCARD_HEADERS]


def _many(props: list[Property], version: str) -> list[str]:
    """E-mails or phones, PREF-marked first, each value once (a cell holds them joined by ', ',
    so a comma inside one value would split it: those become spaces)."""
    values = []
    for prop in sorted(props, key=lambda p: not p.preferred):
        text = unescape(prop.value, version).strip().replace(",", " ")
        if text and text not in values:
            values.append(text)
    return values


def _birthday(prop: Property | None) -> str:
    """BDAY as parse_birthday reads it: '--MM-DD' for a birthday without a year (4.0's '--0203',
    Apple's and CardBook's year 1604), the date part of a date-time."""
    if prop is None:
        return ""
    value = prop.value.strip()
    omit = prop.param("X-APPLE-OMIT-YEAR")
    if m := re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})(?:T.*)?", value):
        if m[1] == NO_YEAR or m[1] == omit:
            return f"--{m[2]}-{m[3]}"
        return f"{m[1]}-{m[2]}-{m[3]}"
    return value


def _categories(props: list[Property], version: str) -> list[str]:
    names: list[str] = []
    for prop in props:
        names.extend(unescape(v, version).strip() for v in re.split(r"(?<!\\),", prop.value) if v.strip())
    return names


def _photo(prop: Property | None) -> str:
    """An inline photo as a data: URI, a linked one as its URL; a broken one as its text (so the
    import warns instead of storing a picture that cannot be shown)."""
    if prop is None:
        return ""
    if prop.binary is not None or prop.param("ENCODING").upper() in ("B", "BASE64"):
        data = prop.binary
        if not data or len(data) > MAX_PHOTO_BYTES:
            return prop.value.strip()[:200]
        kind = next((k for magic, k in IMAGE_MAGIC.items() if data.startswith(magic)), "")
        if not kind:
            return prop.value.strip()[:200]
        return f"data:image/{kind};base64,{base64.b64encode(data).decode('ascii')}"
    return re.sub(r"\s+", "", prop.value) if prop.value.strip().startswith("data:") else prop.value.strip()


def _is_contact_detail(name: str, emails: list[str], phones: list[str]) -> bool:
    bare = {re.sub(r"^(tel|mailto):", "", v, flags=re.I).split(";")[0] for v in (*emails, *phones)}
    return bool(name) and name in bare


def _name_from_org_or_email(cells: dict[str, str], emails: list[str]) -> None:
    """A card without N or FN (an organisation's card, a bare address) is named after its ORG,
    else after its e-mail address's local part ('john.doe@…' -> 'John Doe')."""
    if cells["ORG"]:
        cells["N:family"] = cells["ORG"]
    elif emails:
        local = emails[0].split("<")[-1].split("@")[0]
        name = " ".join(re.split(r"[._+-]+", local)).strip()
        # a name made from an address was never typed as a name: "john doe" reads as "John Doe"
        cells["FN"] = name.title() if name.islower() else name
