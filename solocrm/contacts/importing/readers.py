"""Stream rows out of CSV, XLSX and vCard files as (line number, list of cell texts).

Every reader keeps only the current row in memory. Line numbers are what a user sees when they
open the file: the header is line 1 in a CSV, the sheet row number in XLSX, the BEGIN:VCARD line
in a vCard file."""

from __future__ import annotations

import csv
import datetime as dt
import time
import unicodedata
from collections.abc import Iterator
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _

from .mapping import guess_headerless, looks_like_data
from .report import ImportFileError
from .sniff import Sniffed, sniff
from .vcard import VCARD_HEADERS, read_cards

# Fields bigger than any column we store are rejected row by row; this only stops one unclosed
# quote from swallowing the whole file into memory.
MAX_FIELD_CHARS = 16 * 1024 * 1024
csv.field_size_limit(MAX_FIELD_CHARS)
HEADERLESS_SAMPLE = 20  # rows a file without a header row is judged by


class Table:
    """One opened file: its headers and an iterator over its data rows."""

    format = ""
    layout = ""

    def __init__(self, path: Path, sniffed: Sniffed) -> None:
        self.path = path
        self.encoding = sniffed.encoding
        self.delimiter = sniffed.delimiter
        self.headers: list[str] = []
        # header -> field for a file whose first row is data (the headers are then "Column n")
        self.guessed_mapping: dict[str, str] = {}

    def rows(self) -> Iterator[tuple[int, list[str] | str]]:
        """Data rows as (line, cells); cells is a str (the reason) when the row cannot be read."""
        raise NotImplementedError

    def total_hint(self) -> int | None:
        """A cheap estimate of the number of data rows, for progress bars."""
        return None

    def close(self) -> None:
        """Release the file."""

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_table(path: Path, encoding: str | None = None) -> Table:
    """Sniff ``path`` (in ``encoding`` when given) and open the matching reader, headers read."""
    path = Path(path)
    sniffed = sniff(path, encoding=encoding)
    reader = {"csv": CsvTable, "xlsx": XlsxTable, "vcard": VcardTable}[sniffed.format]
    table = reader(path, sniffed)
    if not table.headers:
        table.close()
        raise ImportFileError(_("The file has no header row (it contains only empty lines)."))
    return table


def clean_headers(cells: list[str]) -> list[str]:
    """Trim header names, name blank ones and make duplicates unique ("Phone", "Phone (2)")."""
    headers: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(cells, start=1):
        name = unicodedata.normalize("NFC", cell).strip().lstrip("\ufeff").strip() or _("Column %(n)d") % {
            "n": index
        }
        count = seen.get(name.casefold(), 0) + 1
        seen[name.casefold()] = count
        headers.append(name if count == 1 else f"{name} ({count})")
    while headers and headers[-1].startswith(_("Column %(n)d") % {"n": len(headers)}):
        headers.pop()  # trailing empty header cells (a stray delimiter at the end of line 1)
    return headers


def _encoded(encoding: str | None, text: str) -> bytes:
    """``text`` as bytes in ``encoding`` without a byte-order mark."""
    encoding = encoding or "utf-8"
    return ("a" + text).encode(encoding)[len("a".encode(encoding)) :]


class CsvTable(Table):
    format = "csv"

    def __init__(self, path: Path, sniffed: Sniffed) -> None:
        super().__init__(path, sniffed)
        self._file: IO[str] = path.open(encoding=sniffed.encoding, errors=sniffed.errors, newline="")
        self._reader = csv.reader(self._file, delimiter=sniffed.delimiter or ",")
        self._last_line = 0
        self._ahead: list[tuple[int, list[str]]] = []
        raw = self._raw_rows()
        for line, row in raw:
            self.header_line = line
            self.headers = clean_headers(row)
            if looks_like_data(row):
                self._headerless(line, row, raw)
            break

    def _headerless(self, line: int, row: list[str], raw: Iterator[tuple[int, list[str]]]) -> None:
        """The first row is a record: name the columns "Column n" and guess their fields from
        the first rows, which are then read again as data."""
        self.header_line = 0
        self.headers = clean_headers([""] * len(row))
        self.headers += [_("Column %(n)d") % {"n": n} for n in range(len(self.headers) + 1, len(row) + 1)]
        self._ahead = [(line, row), *islice(raw, HEADERLESS_SAMPLE - 1)]
        self.guessed_mapping = guess_headerless(self.headers, [r for _line, r in self._ahead])

    def _raw_rows(self) -> Iterator[tuple[int, list[str]]]:
        while True:
            try:
                row = next(self._reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise ImportFileError(
                    _("Line %(line)d cannot be read (%(error)s); the rows before it were imported.")
                    % {"line": self._last_line + 1, "error": error}
                ) from None
            start, self._last_line = self._last_line + 1, self._reader.line_num
            if any(cell.strip() for cell in row):
                yield start, row

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        ahead, self._ahead = self._ahead, []
        yield from ahead
        yield from self._raw_rows()

    def total_hint(self) -> int | None:
        newline = _encoded(self.encoding, "\n")
        count = 0
        with self.path.open("rb") as f:
            while block := f.read(1 << 20):
                count += block.count(newline)
        return max(count - 1, 0)

    def close(self) -> None:
        self._file.close()


def xlsx_text(value: object) -> str:
    """The text a cell shows: whole numbers without '.0' (phone numbers, ids), dates in ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, int | Decimal):
        return str(value)
    return str(value)


class XlsxTable(Table):
    """The first sheet of a workbook, read in openpyxl's streaming (read-only) mode.

    A workbook is a zip of XML, so a small file can describe an enormous sheet: sniff refuses
    parts that unpack too far, and this reader refuses a sheet that declares or holds more cells
    than SOLOCRM_XLSX_MAX_CELLS or takes longer than SOLOCRM_XLSX_MAX_SECONDS to read. The
    declared dimension is not trusted for anything else: a wrong one would pad every row to its
    width, or cut off the cells outside it."""

    format = "xlsx"

    def __init__(self, path: Path, sniffed: Sniffed) -> None:
        from openpyxl import load_workbook

        super().__init__(path, sniffed)
        self.max_cells = settings.SOLOCRM_XLSX_MAX_CELLS
        self.max_seconds = settings.SOLOCRM_XLSX_MAX_SECONDS
        self._cells = 0
        self._seconds = 0.0
        self._declared_rows: int | None = None
        self._book = None
        try:
            self._book = load_workbook(path, read_only=True, data_only=True)
            self._sheet = self._book.worksheets[0]
            self._check_dimension()
            self._rows = self._numbered_rows()
            for line, row in self._rows:
                self.header_line = line
                self.headers = clean_headers(row)
                break
        except ImportFileError:
            self.close()
            raise
        except Exception:  # openpyxl raises many kinds (KeyError, lxml, zip errors) for broken files
            self.close()
            raise ImportFileError(_("The Excel file is damaged or not a real .xlsx workbook.")) from None

    def _check_dimension(self) -> None:
        sheet = self._sheet
        if sheet.max_row and sheet.max_column:
            declared = sheet.max_row * sheet.max_column
            if declared > self.max_cells:
                raise ImportFileError(self._too_many_cells(declared))
            self._declared_rows = sheet.max_row
        sheet.reset_dimensions()

    def _too_many_cells(self, cells: int) -> str:
        return _(
            "The sheet has more than %(limit)s cells (it spans %(cells)s); the limit is "
            "SOLOCRM_XLSX_MAX_CELLS. Delete the empty rows and columns, or save it as CSV."
        ) % {"limit": f"{self.max_cells:,}", "cells": f"{cells:,}"}

    def _numbered_rows(self) -> Iterator[tuple[int, list[str]]]:
        values_by_row = self._sheet.iter_rows(min_row=1, values_only=True)
        line = 0
        while True:
            started = time.monotonic()
            values = next(values_by_row, None)
            if values is None:
                return
            line += 1
            self._cells += len(values)
            if self._cells > self.max_cells:
                raise ImportFileError(self._too_many_cells(self._cells))
            row = ["" if v is None else xlsx_text(v) for v in values]
            self._seconds += time.monotonic() - started
            if self._seconds > self.max_seconds:
                raise ImportFileError(
                    _(
                        "Reading the Excel file took longer than %(seconds)d seconds "
                        "(SOLOCRM_XLSX_MAX_SECONDS) and was stopped at line %(line)d; save it as CSV."
                    )
                    % {"seconds": self.max_seconds, "line": line}
                )
            if any(cell.strip() for cell in row):
                yield line, row

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        try:
            yield from self._rows
        except ImportFileError:
            raise
        except Exception as error:
            raise ImportFileError(_("The Excel file is damaged: %(error)s") % {"error": error}) from None

    def total_hint(self) -> int | None:
        return max(self._declared_rows - self.header_line, 0) if self._declared_rows else None

    def close(self) -> None:
        if self._book is not None:
            self._book.close()


class VcardTable(Table):
    """Each card becomes one row with the fixed VCARD_HEADERS columns."""

    format = "vcard"
    layout = "vcard"

    def __init__(self, path: Path, sniffed: Sniffed) -> None:
        super().__init__(path, sniffed)
        self._file: IO[str] = path.open(encoding=sniffed.encoding, errors=sniffed.errors, newline="")
        self.headers = list(VCARD_HEADERS)
        self.header_line = 0

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        return read_cards(self._file)

    def total_hint(self) -> int | None:
        count = 0
        marker = _encoded(self.encoding, "BEGIN:VCARD")
        with self.path.open("rb") as f:
            while block := f.read(1 << 20):
                count += block.upper().count(marker)
        return count

    def close(self) -> None:
        self._file.close()
