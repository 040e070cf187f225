"""The values an import hands back: the file-level error, row errors, the report, the preview."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


class ImportFileError(ValueError):
    """The file as a whole cannot be read; the message says what to do about it."""


@dataclass
class RowError:
    """One problem with one row: ``line`` as in the file (header = line 1, XLSX = sheet row),
    ``column`` is the file's own header name ('' when the row as a whole is wrong)."""

    line: int
    column: str
    reason: str


@dataclass
class ImportReport:
    kind: str
    format: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    rejected_path: str | None = None
    dry_run: bool = False
    # Added after the interface was agreed (defaults keep old callers working): the known export
    # the headers were recognised as ("google", "outlook", "shopify", "stripe", "vcard" or "").
    layout: str = ""
    rows: int = 0
    # Rows imported with some fields left empty (each such field's text is kept on the record as a
    # custom field named after its column) and the reasons, by line and column.
    warned: int = 0
    warnings: list[RowError] = field(default_factory=list)
    encoding: str | None = None  # the text encoding the file was read in (detected or given)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Preview:
    format: str
    encoding: str | None
    delimiter: str | None
    headers: list[str]
    mapping: dict[str, str]
    fields: list[tuple[str, str]]
    sample: list[dict[str, str]]
    errors: list[RowError]
    layout: str = ""
    warnings: list[RowError] = field(default_factory=list)  # rows imported with fields left empty
