"""Issue 11 item 2: one bad field is a warning, never the loss of the whole person."""

from pathlib import Path

import pytest

from solocrm.contacts.importing import preview, run_import
from solocrm.contacts.importing import values as v
from solocrm.contacts.importing.report import ImportFileError
from solocrm.contacts.models import Contact

# The shape of RFC 6350's own example (section 8), which was rejected for its tel: URI.
RFC6350_LIKE = """BEGIN:VCARD\r
VERSION:4.0\r
FN:Simon Perreault\r
N:Perreault;Simon;;;ing. jr,M.Sc.\r
BDAY:--0203\r
GENDER:M\r
LANG;PREF=1:fr\r
ORG;TYPE=work:Viagenie\r
ADR;TYPE=work:;Suite D2-630;2875 Laurier;Quebec;QC;G1V 2M2;Canada\r
TEL;VALUE=uri;TYPE="work,voice";PREF=1:tel:+1-418-656-9254;ext=102\r
TEL;VALUE=uri;TYPE="work,cell,voice,video,text":tel:+1-418-262-6501\r
EMAIL;TYPE=work:simon.perreault@viagenie.example\r
TZ:-0500\r
END:VCARD\r
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


@pytest.mark.django_db
def test_a_tel_uri_with_an_extension_is_imported_with_the_extension(tmp_path):
    report = run_import("contacts", write(tmp_path, "simon.vcf", RFC6350_LIKE))
    assert (report.created, report.warned, report.rejected) == (1, 0, 0)
    simon = Contact.objects.get()
    assert (simon.phone, simon.phone_extension) == ("+14186569254", "102")
    assert simon.other_phones == ["+14182626501"]
    assert (simon.first_name, simon.last_name, simon.company.name) == ("Simon", "Perreault", "Viagenie")
    assert simon.custom_fields == {"birthday": "02-03"}  # a birthday without a year


@pytest.mark.django_db
def test_an_accented_local_part_is_a_valid_address_under_rfc_6531(tmp_path):
    path = write(
        tmp_path, "people.csv", "Name,Email,Phone\nTomás García,tomás@correo.example,+34 612 345 678\n"
    )
    report = run_import("contacts", path)
    assert (report.created, report.warned, report.rejected) == (1, 0, 0)
    tomas = Contact.objects.get()
    assert (tomas.email, tomas.phone, tomas.first_name) == ("tomás@correo.example", "+34612345678", "Tomás")
    assert v.email("用户@例子.广告") == "用户@例子.广告"


@pytest.mark.django_db
def test_a_phone_cell_that_is_no_number_is_kept_as_text_with_a_warning(tmp_path):
    path = write(
        tmp_path,
        "gmail.csv",
        "Name,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value\n"
        "Ann Smith,ann@example.com,Mobile,+1 202 555 0143\n"
        "Bo Chen,bo@example.com,Pager,pager\n",
    )
    report = run_import("contacts", path)
    assert (report.created, report.warned, report.rejected) == (2, 1, 0)
    [warning] = report.warnings
    assert (warning.line, warning.column) == (3, "Phone 1 - Value")
    assert "pager" in warning.reason
    bo = Contact.objects.get(email="bo@example.com")
    assert (bo.first_name, bo.phone) == ("Bo", "")
    assert bo.custom_fields == {"Phone 1 - Value": "pager"}


@pytest.mark.django_db
def test_one_bad_number_of_several_spares_the_others(tmp_path):
    card = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Muster;Max;;;\r\nFN:Max Muster\r\n"
        "TEL;TYPE=CELL:+49 MOBIL\r\nTEL;TYPE=WORK:+49 30 1234567\r\nEMAIL:max@example.de\r\nEND:VCARD\r\n"
    )
    report = run_import("contacts", write(tmp_path, "iphone.vcf", card))
    assert (report.created, report.warned) == (1, 1)
    assert [(w.line, w.column) for w in report.warnings] == [(1, "TEL")]
    stored = Contact.objects.get()
    assert stored.phone == "+49301234567" and stored.custom_fields == {"TEL": "+49 MOBIL"}


@pytest.mark.django_db
def test_extensions_in_the_usual_spellings_are_kept(tmp_path):
    assert v.phone_and_extension("+1 418 656 9254 x123", "US") == ("+14186569254", "123")
    assert v.phone_and_extension("030 1234567 ext. 5", "DE") == ("+49301234567", "5")
    assert v.phone_and_extension("tel:+33-1-23-45-67-89", "US") == ("+33123456789", "")
    assert v.split_phones("tel:+1-418-656-9254;ext=102, 030 1234") == [
        "tel:+1-418-656-9254;ext=102",
        "030 1234",
    ]
    path = write(tmp_path, "p.csv", "Name,Phone\nAda,+1 202 555 0143 ext. 7\n")
    run_import("contacts", path)
    assert Contact.objects.values_list("phone", "phone_extension").get() == ("+12025550143", "7")


@pytest.mark.django_db
def test_national_numbers_are_read_in_the_rows_country_else_the_chosen_region(tmp_path, settings):
    settings.SOLOCRM_PHONE_REGION = "US"
    path = write(
        tmp_path,
        "p.csv",
        "Name,Phone,Country\nHans,030 1234567,Deutschland\nMarie,01 23 45 67 89,FR\n"
        "Nobody Known,030 7654321,\n",
    )
    report = run_import("contacts", path, region="DE")
    assert (report.created, report.warned) == (3, 0)
    phones = dict(Contact.objects.values_list("first_name", "phone"))
    assert phones == {"Hans": "+49301234567", "Marie": "+33123456789", "Nobody": "+49307654321"}
    with pytest.raises(ImportFileError):
        run_import("contacts", path, region="Atlantis")


@pytest.mark.django_db
def test_the_preview_lists_warnings_apart_from_rejections(tmp_path):
    path = write(tmp_path, "p.csv", "Name,Email\nAda,not-an-address\n,also-not-one\n")
    shown = preview("contacts", path)
    assert [(w.line, w.column) for w in shown.warnings] == [(2, "Email")]
    assert [(e.line, e.column) for e in shown.errors] == [(3, "Email"), (3, "")]
    assert "raw" not in shown.sample[0] and "warnings" not in shown.sample[0]


@pytest.mark.django_db
def test_the_contact_page_shows_the_extension_and_an_inline_photo_only(owner_client):
    pixel = "data:image/png;base64,iVBORw0KGgo="
    inline = Contact.objects.create(first_name="In", phone="+14186569254", phone_extension="102", photo=pixel)
    linked = Contact.objects.create(first_name="Out", photo="https://tracker.example/p.jpg")
    page = owner_client.get(f"/contacts/{inline.uuid}/").content.decode()
    assert "tel:+14186569254;ext=102" in page and "ext. 102" in page and f'src="{pixel}"' in page
    assert "tracker.example" not in owner_client.get(f"/contacts/{linked.uuid}/").content.decode()


@pytest.mark.django_db
def test_an_imported_international_address_can_be_edited_in_the_form():
    from solocrm.contacts.forms import ContactForm

    tomas = Contact.objects.create(first_name="Tomás", email="tomás@correo.example")
    tomas.full_clean()  # the model's own validation agrees with the importer
    form = ContactForm(
        data={"first_name": "Tomás", "email": "tomás@correo.example", "lifecycle_stage": "lead"},
        instance=tomas,
    )
    assert form.is_valid(), form.errors
    bad = ContactForm(data={"first_name": "X", "email": "x@host.invalid", "lifecycle_stage": "lead"})
    assert not bad.is_valid() and "email" in bad.errors
