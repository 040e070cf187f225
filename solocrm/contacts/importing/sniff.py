"""Guess what a file is before reading it: format, text encoding and CSV delimiter.

Everything is decided on the first ``SAMPLE_BYTES`` of the file so a 200 MB upload is never read
twice; the rest is decoded while streaming with an error handler that cannot fail mid-way."""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes
from django.conf import settings
from django.utils.translation import gettext as _

from .report import ImportFileError

SAMPLE_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
FALLBACK_ERRORS = "solocrm-cp1252"
# Encodings charset-normalizer may pick from; without a shortlist it sometimes names an exotic
# code page for short samples. Supersets replace their subsets (GBK -> GB18030, Latin-1 -> cp1252).
CANDIDATES = [
    "utf_8", "gb18030", "big5", "shift_jis", "euc_kr", "cp1252", "cp1251", "cp1250", "iso8859_2", "mac_roman"
]  # fmt: skip
SUPERSETS = {"gbk": "gb18030", "gb2312": "gb18030", "ascii": "utf-8", "latin_1": "cp1252"}
BINARY_MAGIC = {
    b"\xd0\xcf\x11\xe0": "xls",
    b"%PDF": "pdf",
    b"\x1f\x8b": "gzip",
    b"\x89PNG": "png",
    b"\xff\xd8\xff": "jpeg",
}


def _cp1252_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    """Decode bytes that are not valid UTF-8 as Windows-1252 (Excel's habit of mixing both),
    and bytes undefined there as Latin-1, so decoding never stops mid-file."""
    chars = []
    for byte in error.object[error.start : error.end]:
        try:
            chars.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            chars.append(chr(byte))
    return "".join(chars), error.end


codecs.register_error(FALLBACK_ERRORS, _cp1252_fallback)


@dataclass
class Sniffed:
    format: str  # "csv", "xlsx" or "vcard"
    encoding: str | None
    delimiter: str | None
    errors: str = "replace"  # codec error handler for the streaming decode


def sniff(path: Path, encoding: str | None = None) -> Sniffed:
    """Decide format, encoding (unless given) and delimiter of ``path`` or raise ImportFileError."""
    size = _checked_size(path)
    with path.open("rb") as f:
        head = f.read(SAMPLE_BYTES)
    if head.startswith(b"PK\x03\x04"):
        _check_xlsx(path)
        return Sniffed("xlsx", None, None)
    for magic, kind in BINARY_MAGIC.items():
        if head.startswith(magic):
            raise ImportFileError(_not_text_message(kind))
    encoding = (
        checked_encoding(encoding) if encoding else detect_encoding(head, complete=size <= SAMPLE_BYTES)
    )
    errors = FALLBACK_ERRORS if encoding in ("utf-8", "utf-8-sig", "cp1252") else "replace"
    text = head.decode(encoding, errors=errors)
    _check_text(text)
    if _is_vcard(text):
        if not encoding.startswith("utf") and (charset := _declared_charset(text)):
            encoding = charset  # a 2.1 card's CHARSET= names what a short sample cannot tell
        return Sniffed("vcard", encoding, None, errors)
    if path.suffix.lower() in (".vcf", ".vcard"):
        raise ImportFileError(_("This .vcf file does not start with BEGIN:VCARD; it is not a vCard file."))
    return Sniffed("csv", encoding, sniff_delimiter(text), errors)


def _is_vcard(text: str) -> bool:
    """BEGIN:VCARD on the first line, or after a few lines of preamble (Tine 2.0 writes
    "ENCODING:UTF-8" first)."""
    lines = text.lstrip("\ufeff \r\n\t")[:2000].splitlines()[:5]
    return any(line.strip().upper().startswith("BEGIN:VCARD") for line in lines)


def _declared_charset(text: str) -> str | None:
    """The one legacy CHARSET= the vCard's properties declare (Shift_JIS, Big5…), if any."""
    found = {m.lower() for m in re.findall(r";CHARSET=\"?([A-Za-z0-9_-]+)", text[:SAMPLE_BYTES], re.I)}
    found -= {"utf-8", "utf8", "us-ascii", "ascii"}
    if len(found) != 1:
        return None
    try:
        return codecs.lookup(found.pop()).name
    except LookupError:
        return None


def _checked_size(path: Path) -> int:
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ImportFileError(
            _("The file cannot be opened (%(reason)s): check the path.") % {"reason": error.strerror}
        ) from None
    if size == 0:
        raise ImportFileError(_("The file is empty."))
    limit = settings.SOLOCRM_MAX_IMPORT_BYTES
    if size > limit:
        raise ImportFileError(
            _("The file is larger than %(mb)d MB; split it or raise SOLOCRM_MAX_IMPORT_MB.")
            % {"mb": limit // (1024 * 1024)}
        )
    return size


def _check_xlsx(path: Path) -> None:
    """A zip file is only accepted when it is an Excel workbook (.xlsx)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise ImportFileError(_("The file looks like a zip archive but is damaged.")) from None
    if "xl/workbook.xml" not in {m.filename for m in members}:
        raise ImportFileError(_("This zip file is not an Excel workbook. Upload a .xlsx, .csv or .vcf file."))
    _check_expansion(members)


# A real sheet compresses 5-20 times; a zip bomb about 1,000 times. The declared sizes can be
# trusted: zipfile stops at the declared size and fails the CRC check of a member that lies.
MAX_EXPANSION = 100
# Below this a part is harmless however well it packs (a sheet of identical rows may pack 200
# times); above it, a zip bomb in one cell would cost a few times its size in memory.
EXPANSION_CHECKED_FROM = 8 * 1024 * 1024


def _check_expansion(members: list[zipfile.ZipInfo]) -> None:
    """Refuse a workbook that would unpack to more than the limit, or that contains a part
    packed like a zip bomb, before anything is unpacked."""
    limit = settings.SOLOCRM_XLSX_MAX_UNCOMPRESSED_BYTES
    if sum(m.file_size for m in members) > limit:
        raise ImportFileError(
            _(
                "The Excel file unpacks to more than %(mb)d MB (SOLOCRM_XLSX_MAX_UNCOMPRESSED_MB); "
                "save it as CSV, or split it."
            )
            % {"mb": limit // (1024 * 1024)}
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > EXPANSION_CHECKED_FROM and ratio > MAX_EXPANSION:
            raise ImportFileError(
                _(
                    "The Excel file is refused: its part %(part)s unpacks %(ratio)d times larger "
                    "than it is stored (the limit is %(limit)d times), as a zip bomb does."
                )
                % {"part": member.filename, "ratio": ratio, "limit": MAX_EXPANSION}
            )


def _not_text_message(kind: str) -> str:
    if kind == "xls":
        return _("Old Excel files (.xls) cannot be read; save the sheet as .xlsx or CSV first.")
    return _("This is not a spreadsheet (it looks like a %(kind)s file). Upload CSV, XLSX or vCard.") % {
        "kind": kind.upper()
    }


def detect_encoding(head: bytes, *, complete: bool = False) -> str:
    """The text encoding of a file starting with ``head`` (``complete``: head is the whole file)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        return _utf16_without_bom(head)
    if _is_utf8(head, complete):
        return "utf-8"
    results = list(from_bytes(head, cp_isolation=CANDIDATES))
    if not results:
        raise ImportFileError(_("The file is not text in any encoding we know. Upload CSV, XLSX or vCard."))
    # On a short file charset-normalizer often ranks Windows-1252 first even for Shift_JIS or GBK
    # bytes (both decode "without chaos"); the first candidate whose non-ASCII text is mostly
    # letters is the one a person wrote ('権兵衛', 'Müller'), not 'Œ•º‰q'.
    # charset-normalizer folds Windows-1252 into a "similar" code page it reports instead
    # (often Windows-1250): it is always a candidate of its own here.
    shares = {m.encoding: letter_share(head, m.encoding) for m in results}
    shares.setdefault("cp1252", letter_share(head, "cp1252"))
    plausible = [name for name, share in shares.items() if share >= PLAUSIBLE_LETTERS]
    if not plausible:
        name = results[0].encoding.lower()
        return SUPERSETS.get(name, name)
    # The best share wins; on a tie charset-normalizer's order, except that Windows-1252 beats
    # Windows-1250, which reads German and French the same and is the rarer of the two.
    best = max(shares[name] for name in plausible)
    tied = [name for name in plausible if shares[name] == best]
    name = "cp1252" if "cp1252" in tied and "cp1250" in tied else tied[0]
    return SUPERSETS.get(name.lower(), name.lower())


PLAUSIBLE_LETTERS = 0.8


def letter_share(head: bytes, encoding: str) -> float:
    """The share of letters among the non-ASCII characters of ``head`` decoded as ``encoding``
    (1.0 when there are none); 0.0 when it does not decode."""
    try:
        text = head.decode(encoding, errors="strict")
    except (UnicodeDecodeError, LookupError):
        try:  # the sample may end inside a multi-byte character
            text = head[:-3].decode(encoding, errors="strict")
        except (UnicodeDecodeError, LookupError):
            return 0.0
    others = [ch for ch in text if ord(ch) > 127]
    if not others:
        return 1.0
    share = sum(1 for ch in others if unicodedata.category(ch)[0] in "LM") / len(others)
    # German read as Windows-1251 is all letters too, but words like 'Ьglь' mix Latin with
    # Cyrillic, which nobody writes.
    words = [w for w in re.findall(r"[^\W\d_]+", text) if not w.isascii()]
    mixed = sum(1 for w in words if re.search("[A-Za-z]", w) and any(_non_latin(ch) for ch in w))
    return share * (1 - mixed / len(words)) if words else share


def _non_latin(ch: str) -> bool:
    return ord(ch) > 127 and ch.isalpha() and not unicodedata.name(ch, "").startswith("LATIN")


def checked_encoding(name: str) -> str:
    """The codec name Python knows for ``name`` ('Shift_JIS' -> 'shift_jis'), or ImportFileError."""
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        raise ImportFileError(_("“%(name)s” is not a text encoding we know.") % {"name": name[:40]}) from None


def _is_utf8(head: bytes, complete: bool) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # The sample may end in the middle of a multi-byte character.
        return not complete and error.start >= len(head) - 3 and error.reason == "unexpected end of data"
    return True


def _utf16_without_bom(head: bytes) -> str:
    """Text saved as UTF-16 without a byte-order mark has a NUL in every other byte for
    Latin text; anything else with NUL bytes is binary."""
    sample = head[: 4096 - 4096 % 2]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd > len(sample) * 0.3 and even < len(sample) * 0.05:
        return "utf-16-le"
    if even > len(sample) * 0.3 and odd < len(sample) * 0.05:
        return "utf-16-be"
    raise ImportFileError(_not_text_message("binary"))


def _check_text(text: str) -> None:
    """Reject binary data that happened to decode (control characters, undecodable bytes)."""
    sample = text[:20000]
    bad = sum(1 for ch in sample if (ch < " " and ch not in "\t\r\n\f") or ch == "\ufffd")
    if bad > max(3, len(sample) // 100):
        raise ImportFileError(_not_text_message("binary"))


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most, equally long, rows."""
    lines = text[: text.rfind("\n") + 1] if "\n" in text else text
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        counts = [len(r) for r in _first_rows(lines, delimiter) if any(cell.strip() for cell in r)]
        if not counts or counts[0] < 2:
            continue
        consistent = sum(1 for c in counts if c == counts[0]) / len(counts)
        score = (round(consistent, 1), counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _first_rows(text: str, delimiter: str, limit: int = 50) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass
    return rows
