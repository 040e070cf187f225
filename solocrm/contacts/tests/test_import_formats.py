"""Every file format, encoding and known export layout goes in with the right values."""

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from solocrm.contacts.importing import preview, run_import
from solocrm.contacts.models import Contact

FIXTURES = Path(__file__).parent / "fixtures"


def contact(email: str) -> Contact:
    return Contact.objects.get(email=email)


def tag_names(c: Contact) -> set[str]:
    return set(c.tags.values_list("name", flat=True))


@pytest.mark.django_db
def test_it_reads_the_current_google_contacts_export():
    report = run_import("contacts", FIXTURES / "google_contacts.csv")
    assert (report.layout, report.created, report.rejected) == ("google", 3, 0)
    grace = contact("grace@navy.example")
    assert (grace.first_name, grace.last_name) == ("Grace Brewster", "Hopper")
    assert grace.other_emails == ["grace.hopper@home.example"]
    assert (grace.company.name, grace.title, grace.city) == ("Navy Labs", "Rear Admiral", "Arlington")
    assert grace.birthday == dt.date(1906, 12, 9)
    assert tag_names(grace) == {"Friends", "VIP"}  # "* myContacts" is Google's own label, dropped
    linus = contact("linus@chem.example")
    assert linus.phone == "+14155550132" and linus.other_phones == ["+14155550199"]
    assert linus.birthday is None and linus.custom_fields == {"birthday": "02-28"}  # no year given
    assert contact("hedy@example.org").notes == "Multi-line note\nsecond line"


@pytest.mark.django_db
def test_it_reads_the_legacy_google_export_with_group_membership_and_multi_value_cells():
    report = run_import("contacts", FIXTURES / "google_contacts_legacy.csv")
    assert (report.layout, report.created, report.rejected) == ("google", 2, 0)
    alan = contact("alan@bletchley.example")
    assert alan.other_emails == ["alan.turing@home.example", "at@kings.example"]
    assert (alan.company.name, alan.title, alan.phone) == ("Bletchley Park", "Cryptanalyst", "+442079460011")
    assert tag_names(alan) == {"Bletchley"}


@pytest.mark.django_db
def test_it_reads_an_outlook_export_in_windows_1252():
    report = run_import("contacts", FIXTURES / "outlook_contacts.csv")
    assert (report.layout, report.created, report.rejected) == ("outlook", 2, 0)
    jurgen = contact("juergen.mueller@example.de")
    assert (jurgen.first_name, jurgen.last_name) == ("Jürgen", "Müller")
    assert jurgen.title == "Geschäftsführer"  # "Job Title", not Outlook's "Title" (Dr.)
    assert (jurgen.company.name, jurgen.street, jurgen.city) == (
        "Müller & Söhne GmbH",
        "Friedrichstraße 12",
        "Berlin",
    )
    assert jurgen.birthday == dt.date(1985, 3, 5)
    assert tag_names(jurgen) == {"Customers", "VIP"}
    zoe = contact("zoe@bronte.example")
    assert zoe.birthday is None  # Outlook's "0/0/00"
    assert zoe.phone == "+12125550147" and zoe.other_emails == ["zoe.b@example.com"]


@pytest.mark.django_db
def test_it_reads_gb18030_with_chinese_headers():
    report = run_import("contacts", FIXTURES / "contacts_gb18030.csv")
    assert (report.created, report.rejected) == (3, 0)
    wang = contact("xiaoming@example.cn")
    assert (wang.last_name, wang.first_name, wang.phone) == ("王", "小明", "+13812345678")
    assert (wang.company.name, wang.title, wang.city) == ("北京星辰科技有限公司", "总经理", "北京")
    assert wang.birthday == dt.date(1988, 5, 6)
    assert wang.channel == "event" and wang.source == "展会"
    assert tag_names(wang) == {"VIP", "老客户"}
    assert contact("lina@example.cn").notes == "𠀀 扩展汉字"  # a 4-byte GB18030 character


@pytest.mark.django_db
def test_it_reads_excel_unicode_text_in_utf16_with_tabs():
    assert preview("contacts", FIXTURES / "contacts_utf16.txt").delimiter == "\t"
    report = run_import("contacts", FIXTURES / "contacts_utf16.txt")
    assert (report.created, report.rejected) == (2, 0)
    assert contact("emilie@example.fr").last_name == "du Châtelet"
    assert contact("hc@example.dk").phone == "+4533123456"


@pytest.mark.django_db
def test_it_reads_a_semicolon_csv_with_a_byte_order_mark_and_european_dates():
    found = preview("contacts", FIXTURES / "contacts_semicolon.csv")
    assert (found.encoding, found.delimiter, found.headers[0]) == ("utf-8-sig", ";", "Vorname")
    report = run_import("contacts", FIXTURES / "contacts_semicolon.csv")
    assert (report.created, report.rejected) == (2, 0)
    kathe = contact("kaethe@example.de")
    assert kathe.birthday == dt.date(1967, 7, 8)  # dotted dates are day first
    assert kathe.email_consent and kathe.email_consent_source == "import: contacts_semicolon.csv"
    assert not contact("max.planck@example.de").email_consent


@pytest.mark.django_db
def test_it_reads_xlsx_made_with_openpyxl(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([])  # the header is the first non-empty row
    sheet.append(["Name", "Email", "Mobile", "Birthday", "Date of birth"])
    sheet.append(["Ada Lovelace", "ada@example.com", 12025550143, dt.datetime(1990, 3, 5), None])
    sheet.append(["Bad Row", "nope", None, None, None])
    sheet.append(["Serial Date", "serial@example.com", None, None, 32937])
    path = tmp_path / "people.xlsx"
    book.save(path)
    report = run_import("contacts", path)
    assert (report.format, report.created, report.warned, report.rejected) == ("xlsx", 3, 1, 0)
    assert [(w.line, w.column) for w in report.warnings] == [(4, "Email")]  # the sheet's row number
    ada = contact("ada@example.com")
    assert ada.phone == "+12025550143" and ada.birthday == dt.date(1990, 3, 5)
    assert contact("serial@example.com").birthday == dt.date(1990, 3, 5)  # Excel serial 32937


@pytest.mark.django_db
def test_it_reads_vcard_3_with_several_emails_phones_and_folded_lines():
    report = run_import("contacts", FIXTURES / "contacts_v3.vcf")
    assert (report.format, report.created, report.warned, report.rejected) == ("vcard", 3, 1, 0)
    assert [(w.line, w.column) for w in report.warnings] == [(25, "EMAIL")]  # the BEGIN:VCARD line
    kate = contact("katherine@nasa.example")  # the PREF address comes first
    assert kate.other_emails == ["kj@home.example"]
    assert (kate.phone, kate.other_phones) == ("+17575550100", ["+17575550101"])
    assert (kate.first_name, kate.last_name, kate.title) == ("Katherine Coleman", "Johnson", "Mathematician")
    assert (kate.company.name, kate.street, kate.city, kate.postal_code) == (
        "NASA Langley",
        "1 NASA Dr",
        "Hampton",
        "23666",
    )
    assert kate.birthday == dt.date(1918, 8, 26)
    assert kate.notes == "Calculated trajectories for Friendship 7"
    assert tag_names(kate) == {"space", "math"}
    assert Contact.objects.get(last_name="Vaughan").phone == "+17575550102"


@pytest.mark.django_db
def test_it_reads_vcard_4_with_uri_phones_and_compact_birthdays():
    report = run_import("contacts", FIXTURES / "contacts_v4.vcf")
    assert (report.created, report.rejected) == (1, 0)
    rosalind = contact("rosalind@kings.example")
    assert rosalind.phone == "+442079460959" and rosalind.birthday == dt.date(1920, 7, 25)
    assert rosalind.company.name == "King's College London"


@pytest.mark.django_db
def test_it_reads_vcard_2_1_quoted_printable_with_soft_line_breaks():
    report = run_import("contacts", FIXTURES / "contacts_v21.vcf")
    assert report.created == 1
    jurgen = contact("juergen@example.de")
    assert (jurgen.first_name, jurgen.last_name, jurgen.phone) == ("Jürgen", "Müller", "+491701234567")


@pytest.mark.django_db
def test_preview_shows_the_detected_mapping_and_normalised_sample():
    found = preview("contacts", FIXTURES / "google_contacts.csv", rows=2)
    assert (found.format, found.encoding, found.delimiter, found.layout) == ("csv", "utf-8", ",", "google")
    assert found.mapping["E-mail 1 - Value"] == "email"
    assert found.mapping["Address 1 - Formatted"] == ""
    assert ("email", "e-mail") in found.fields
    assert len(found.sample) == 2
    assert found.sample[0]["email"] == "grace@navy.example"
    assert found.sample[0]["phone"] == "+12025550191"
    assert Contact.objects.count() == 0


@pytest.mark.django_db
def test_preview_applies_a_mapping_chosen_by_hand(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("Who,Reach me at\nAda,ada@example.com\n")
    found = preview("contacts", path, mapping={"Who": "full_name", "Reach me at": "email"})
    assert (found.sample[0]["first_name"], found.sample[0]["email"]) == ("Ada", "ada@example.com")
    report = run_import("contacts", path, mapping={"Who": "first_name", "reach me at": "email"})
    assert report.created == 1 and contact("ada@example.com").first_name == "Ada"
