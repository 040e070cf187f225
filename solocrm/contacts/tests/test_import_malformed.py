"""Files that cannot be imported fail as a whole with a clear message and change nothing."""

import io
import os
import zipfile

import pytest

from solocrm.contacts.importing import ImportFileError, preview, run_import, sniff
from solocrm.contacts.models import Contact


def assert_refused(path, words: str) -> None:
    with pytest.raises(ImportFileError, match=words):
        run_import("contacts", path)
    assert Contact.objects.count() == 0


@pytest.mark.django_db
def test_binary_garbage_is_refused(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(os.urandom(50_000))
    assert_refused(path, "not a spreadsheet|not text")


@pytest.mark.django_db
def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert_refused(path, "empty")


@pytest.mark.django_db
def test_a_file_of_blank_lines_is_refused(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\n\n  \n")
    assert_refused(path, "no header")


@pytest.mark.django_db
def test_a_header_without_rows_imports_nothing(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("Name,Email\n")
    report = run_import("contacts", path)
    assert (report.rows, report.created, report.rejected, report.rejected_path) == (0, 0, 0, None)


@pytest.mark.django_db
def test_a_zip_of_junk_named_xlsx_is_refused(tmp_path):
    path = tmp_path / "fake.xlsx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    path.write_bytes(buffer.getvalue())
    assert_refused(path, "not an Excel workbook")


@pytest.mark.django_db
def test_a_workbook_with_broken_parts_is_refused(tmp_path):
    path = tmp_path / "broken.xlsx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<junk")
        archive.writestr("xl/workbook.xml", "<not-xml")
    path.write_bytes(buffer.getvalue())
    assert_refused(path, "damaged")


@pytest.mark.django_db
def test_an_old_xls_file_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    assert_refused(path, "save the sheet as .xlsx")


@pytest.mark.django_db
def test_a_file_above_the_size_limit_is_refused(tmp_path, settings):
    settings.SOLOCRM_MAX_IMPORT_BYTES = 100
    path = tmp_path / "big.csv"
    path.write_text("Name,Email\n" + "Ada,ada@example.com\n" * 10)
    assert_refused(path, "larger than")


@pytest.mark.django_db
def test_a_missing_file_is_refused(tmp_path):
    assert_refused(tmp_path / "nope.csv", "cannot be opened")


@pytest.mark.django_db
def test_headers_that_name_no_contact_field_are_refused(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("Foo,Bar\n1,2\n")
    assert_refused(path, "No column was recognised")


@pytest.mark.django_db
def test_a_mapping_naming_an_unknown_column_or_field_is_refused(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text("Name,Email\nAda,ada@example.com\n")
    with pytest.raises(ImportFileError, match="does not have"):
        preview("contacts", path, mapping={"Phone": "phone"})
    with pytest.raises(ImportFileError, match="not a field"):
        run_import("contacts", path, mapping={"Name": "shoe_size"})


@pytest.mark.django_db
def test_an_unknown_kind_is_refused(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text("Name,Email\nAda,ada@example.com\n")
    with pytest.raises(ImportFileError, match="Unknown import kind"):
        run_import("invoices", path)


@pytest.mark.django_db
def test_a_row_with_more_cells_than_headers_is_rejected(tmp_path):
    path = tmp_path / "shifted.csv"
    path.write_text("Name,Email\nAda,ada@example.com\nBob,Smith,bob@example.com\n")
    report = run_import("contacts", path)
    assert (report.created, report.rejected) == (1, 1)
    assert "more cells" in report.errors[0].reason


@pytest.mark.django_db
def test_undecodable_bytes_late_in_a_gb18030_file_reject_only_their_row(tmp_path, monkeypatch):
    good = ("姓名,邮箱\n" + "".join(f"王小明{i},wang{i}@example.cn\n" for i in range(40))).encode("gb18030")
    monkeypatch.setattr(sniff, "SAMPLE_BYTES", len(good))  # the encoding is decided on the good part
    path = tmp_path / "mixed.csv"
    path.write_bytes(good + b"\xff\xfe\xfd,x@example.cn\n")
    report = run_import("contacts", path)
    assert (report.created, report.rejected) == (40, 1)
    assert report.errors[0].line == 42 and "decoded" in report.errors[0].reason


@pytest.mark.django_db
def test_a_vcf_that_is_not_a_vcard_is_refused(tmp_path):
    path = tmp_path / "cards.vcf"
    path.write_text("hello world\n")
    assert_refused(path, "not a vCard")


@pytest.mark.django_db
def test_a_broken_card_is_rejected_and_the_others_imported(tmp_path):
    path = tmp_path / "cards.vcf"
    path.write_text(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Ada\nEMAIL:ada@example.com\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:Eve\nBEGIN:VEVENT\nEND:VCARD\n"  # a stray line is ignored
        "BEGIN:VCARD\nVERSION:3.0\nFN:Bob\nTEL:+12025550143\n"
    )
    report = run_import("contacts", path)
    assert report.created == 2
    assert [(e.line, e.reason) for e in report.errors] == [(11, "the card has no END:VCARD line")]
