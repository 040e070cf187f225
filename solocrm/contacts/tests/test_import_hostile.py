"""Files built to hurt the server: a workbook declaring billions of cells, zip bombs, control
bytes, formulas. Each is refused (or its rows warned about) quickly, with a clear message."""

import csv
import io
import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from solocrm.contacts.importing import ImportFileError, run_import
from solocrm.contacts.importing.readers import open_table
from solocrm.contacts.models import Contact

SHEET = "xl/worksheets/sheet1.xml"
MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def workbook_with_sheet(path: Path, sheet_xml: bytes | None = None, *, chunks=None) -> Path:
    """A real openpyxl workbook whose first sheet's XML is replaced by ``sheet_xml`` (or by the
    byte ``chunks`` streamed into the archive, for parts too big to hold in memory)."""
    book = openpyxl.Workbook()
    book.active.append(["Name", "Email"])
    template = io.BytesIO()
    book.save(template)
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != SHEET:
                target.writestr(info, source.read(info))
            elif chunks is None:
                target.writestr(SHEET, sheet_xml)
            else:
                with target.open(SHEET, "w", force_zip64=True) as part:
                    for chunk in chunks:
                        part.write(chunk)
    return path


def rows_xml(rows: str, dimension: str = "") -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<?xml version="1.0"?><worksheet {MAIN}>{dim}<sheetData>{rows}</sheetData></worksheet>'.encode()


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


HEADER = f'<row r="1">{inline("A1", "Name")}{inline("B1", "Email")}</row>'
ADA = f'<row r="2">{inline("A2", "Ada Lovelace")}{inline("B2", "ada@example.com")}</row>'


def refused_in_a_child(path: Path) -> dict:
    """Open ``path`` in a fresh Python process and report the error and the peak memory growth,
    so that what this test process allocated does not count."""
    script = """
import json, resource, sys, django
django.setup()
from solocrm.contacts.importing.readers import open_table
from solocrm.contacts.importing.report import ImportFileError
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    with open_table(sys.argv[1]) as table:
        for _ in table.rows():
            pass
    error = None
except ImportFileError as e:
    error = str(e)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"error": error, "grown_mb": grown / 1024}))
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "solocrm.settings"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return {**json.loads(done.stdout), "seconds": time.monotonic() - started}


def test_a_sheet_declaring_every_cell_of_excel_is_refused_at_once(tmp_path):
    # 16,384 columns × 1,048,576 rows declared, and a cell in the very last one
    corner = f'<row r="1048576">{inline("XFD1048576", "x")}</row>'
    path = workbook_with_sheet(tmp_path / "huge.xlsx", rows_xml(HEADER + ADA + corner, "A1:XFD1048576"))
    assert path.stat().st_size < 10_000
    outcome = refused_in_a_child(path)
    assert "SOLOCRM_XLSX_MAX_CELLS" in outcome["error"]
    assert "17,179,869,184" in outcome["error"]
    assert outcome["grown_mb"] < 300


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    # one inline cell of 300 MB, stored in a few hundred kB: openpyxl would hold it all in memory
    block = b"A" * (1 << 20)
    start = rows_xml(HEADER)[: -len(b"</sheetData></worksheet>")]
    chunks = [start, b'<row r="2"><c r="A2" t="inlineStr"><is><t>']
    chunks += [block] * 300 + [b"</t></is></c></row></sheetData></worksheet>"]
    path = workbook_with_sheet(tmp_path / "bomb.xlsx", chunks=chunks)
    assert path.stat().st_size < 1_000_000
    outcome = refused_in_a_child(path)
    assert "zip bomb" in outcome["error"] and SHEET in outcome["error"]
    assert outcome["grown_mb"] < 300


def test_the_uncompressed_size_limit_names_its_setting(tmp_path, settings):
    settings.SOLOCRM_XLSX_MAX_UNCOMPRESSED_BYTES = 1000
    path = workbook_with_sheet(tmp_path / "big.xlsx", rows_xml(HEADER + ADA, "A1:B2"))
    with pytest.raises(ImportFileError, match="SOLOCRM_XLSX_MAX_UNCOMPRESSED_MB"):
        open_table(path)


@pytest.mark.django_db
def test_cells_are_counted_as_read_when_the_sheet_declares_no_dimension(tmp_path, settings):
    settings.SOLOCRM_XLSX_MAX_CELLS = 1000
    # every row reaches column XFD: 16,384 cells each once padded
    wide = "".join(f'<row r="{n}">{inline(f"A{n}", "x")}{inline(f"XFD{n}", "y")}</row>' for n in range(2, 5))
    path = workbook_with_sheet(tmp_path / "wide.xlsx", rows_xml(HEADER + wide))
    with pytest.raises(ImportFileError, match=r"more than 1,000 cells.*SOLOCRM_XLSX_MAX_CELLS"):
        run_import("contacts", path)


@pytest.mark.django_db
def test_a_wrong_small_dimension_loses_no_cells(tmp_path):
    # declared A1:A1, yet the data reaches column B and row 3: nothing may be cut off
    carol = f'<row r="3">{inline("A3", "Carol Shaw")}{inline("B3", "carol@example.com")}</row>'
    path = workbook_with_sheet(tmp_path / "small.xlsx", rows_xml(HEADER + ADA + carol, "A1:A1"))
    report = run_import("contacts", path)
    assert report.created == 2
    assert set(Contact.objects.values_list("email", flat=True)) == {"ada@example.com", "carol@example.com"}


@pytest.mark.django_db
def test_reading_time_is_limited(tmp_path, settings):
    settings.SOLOCRM_XLSX_MAX_SECONDS = 0
    path = workbook_with_sheet(tmp_path / "slow.xlsx", rows_xml(HEADER + ADA, "A1:B2"))
    with pytest.raises(ImportFileError, match="SOLOCRM_XLSX_MAX_SECONDS"):
        run_import("contacts", path)


# --- a dry run and everyone else -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_api_reads_and_writes_while_a_dry_run_is_between_batches(tmp_path, monkeypatch, owner_client):
    """The dry run pauses after each batch until the API has answered a read and a write; if the
    run held the write lock across batches, the write would wait it out and fail ("database is
    locked") on SQLite."""
    from django.db import connection

    from solocrm.contacts.importing import runner

    monkeypatch.setattr(runner, "BATCH_SIZE", 50)
    path = tmp_path / "people.csv"
    rows = "".join(f"Person {i},p{i}@example.com,Firm {i % 7},vip\n" for i in range(300))
    again = "Person 0,p0@example.com,,\n"  # in the first batch: merged, as in a real run
    path.write_text("Name,Email,Company,Tags\n" + again + rows, encoding="utf-8")
    paused, go_on = threading.Event(), threading.Event()
    outcome: dict = {}

    def between_batches(done: int, total: int | None) -> None:
        paused.set()
        if not go_on.wait(60):
            raise TimeoutError("the API never answered")
        go_on.clear()

    def dry_run() -> None:
        try:
            outcome["report"] = run_import("contacts", path, dry_run=True, progress=between_batches)
        except Exception as error:  # handed to the test thread
            outcome["error"] = error
        finally:
            paused.set()
            connection.close()

    worker = threading.Thread(target=dry_run)
    worker.start()
    answered = 0
    while worker.is_alive() and paused.wait(60):
        paused.clear()
        if not worker.is_alive():
            break
        assert owner_client.get("/api/v1/contacts").status_code == 200
        created = owner_client.post(
            "/api/v1/contacts", {"first_name": f"Api {answered}"}, content_type="application/json"
        )
        assert created.status_code == 201, created.content
        answered += 1
        go_on.set()
    worker.join(60)
    assert "error" not in outcome, outcome.get("error")
    report = outcome["report"]
    assert answered >= 6  # after each of the six batches (and the final call)
    assert (report.created, report.merged, report.rejected) == (300, 1, 0)
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == sorted(
        f"Api {n}" for n in range(answered)
    )


# --- control bytes and formulas ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_nul_byte_deep_in_the_file_is_a_warning_on_its_row(tmp_path):
    # past the 256 kB the sniffer samples, where it used to reach PostgreSQL and break the batch
    filler = "".join(f"Person {i},p{i}@example.com\n" for i in range(12_000))
    assert len(filler) > 256 * 1024
    path = tmp_path / "nul.csv"
    path.write_text(
        "Name,Email\n" + filler + "Nul\x00 Person,nul@exa\x00mple.com\nBell\x07,bell@example.com\n"
    )
    report = run_import("contacts", path)
    assert (report.created, report.rejected, report.warned) == (12_002, 0, 2)
    nul_line = 12_002
    assert [(e.line, e.column) for e in report.warnings] == [
        (nul_line, "Name"),
        (nul_line, "Email"),
        (nul_line + 1, "Name"),
    ]
    assert "control character" in report.warnings[0].reason
    assert Contact.objects.filter(email="nul@example.com", first_name="Nul", last_name="Person").exists()
    assert Contact.objects.filter(email="bell@example.com", first_name="Bell").exists()


@pytest.mark.django_db
def test_the_rejected_rows_file_defuses_formulas(tmp_path):
    path = tmp_path / "evil.csv"
    path.write_text(
        'Phone,Email,=HYPERLINK("http://x")\n'
        "=cmd|' /C calc'!A0,not-an-email,@SUM(1)\n"
        "+cmd|' /C calc'!A0,also-bad,-2+3\n",
        encoding="utf-8",
    )
    report = run_import("contacts", path)
    # neither row keeps anything that identifies a person (no valid phone, no valid e-mail)
    assert report.rejected == 2
    text = Path(report.rejected_path).read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][2] == '\'=HYPERLINK("http://x")'
    assert lines[1][:3] == ["'=cmd|' /C calc'!A0", "not-an-email", "'@SUM(1)"]
    assert lines[2][:3] == ["'+cmd|' /C calc'!A0", "also-bad", "'-2+3"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line)


@pytest.mark.django_db
def test_a_value_the_database_refuses_stops_the_import_with_its_lines(tmp_path, monkeypatch):
    from django.db import DataError

    from solocrm.contacts.importing import runner
    from solocrm.contacts.importing.contacts import ContactsKind

    monkeypatch.setattr(runner, "BATCH_SIZE", 3)
    real_write = ContactsKind.write

    def refusing_write(self, batch):
        real_write(self, batch)
        if any(item.record["emails"] == ["p4@example.com"] for item in batch):
            raise DataError("value too long for type character varying(20)")

    monkeypatch.setattr(ContactsKind, "write", refusing_write)
    path = tmp_path / "people.csv"
    path.write_text("Name,Email\n" + "".join(f"Person {i},p{i}@example.com\n" for i in range(8)))
    with pytest.raises(
        ImportFileError, match=r"lines 5–7 could not be stored \(value too long.*before line 5"
    ):
        run_import("contacts", path)
    assert Contact.objects.count() == 3  # the first batch only


def test_a_sheet_of_nested_xml_entities_is_refused(tmp_path):
    # "billion laughs": 10 kB of XML whose entities expand to gigabytes; openpyxl refuses
    # entity declarations when defusedxml is installed (a direct dependency for this reason)
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10)
    )
    xml = f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]><worksheet {MAIN}><sheetData>'
    xml += f'<row r="1">{inline("A1", "Name")}</row><row r="2">{inline("A2", "&lol9;")}</row>'
    path = workbook_with_sheet(tmp_path / "laughs.xlsx", (xml + "</sheetData></worksheet>").encode())
    outcome = refused_in_a_child(path)
    assert "damaged" in outcome["error"]
    assert outcome["grown_mb"] < 300
