"""Issue 11 item 3: files written by other tools. Each fixture reproduces one case of the
contact-file corpus (Android's vCard library, ez-vcard, Radicale, Roundcube, Thunderbird, Tine 2.0,
vobject, KContacts), written here rather than copied."""

import base64
from pathlib import Path

import pytest

from solocrm.contacts.importing import preview, run_import
from solocrm.contacts.importing.readers import open_table
from solocrm.contacts.importing.report import ImportFileError
from solocrm.contacts.models import Contact

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(60))


def write(tmp_path: Path, name: str, data: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def only() -> Contact:
    return Contact.objects.get()


# ---------------------------------------------------------------------------------- vCard 2.1


@pytest.mark.django_db
def test_21_quoted_printable_with_soft_breaks_unindented_continuations_and_charset(tmp_path):
    card = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\n"
        "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;;\r\n"
        "NOTE;ENCODING=QUOTED-PRINTABLE:First line=0D=0A=\r\n"
        "second line, # not a comment=\r\n"
        " and more\r\n"
        "# a comment line is ignored\r\n"
        "EMAIL;PREF;INTERNET:juergen@example.de\r\n"
        "END:VCARD\r\n"
    )
    report = run_import("contacts", write(tmp_path, "qp.vcf", card))
    assert (report.created, report.warned) == (1, 0)
    person = only()
    assert (person.first_name, person.last_name) == ("Jürgen", "Müller")
    assert person.notes == "First line\r\nsecond line, # not a comment and more"


@pytest.mark.django_db
def test_21_bare_parameters_and_a_base64_photo_without_the_blank_line(tmp_path):
    data = base64.b64encode(JPEG_HEAD).decode()
    card = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe;John\r\nFN:John Doe\r\nORG:Acme Solutions\r\n"
        "TEL;CELL;PREF:+96123456789\r\n"
        f"PHOTO;ENCODING=BASE64;TYPE=JPEG:{data[:40]}\r\n{data[40:80]}\r\n  {data[80:]}\r\n"
        "X-BLACKBERRY-PIN;X-CUSTOM=1:\r\nEND:VCARD\r\n"
    )
    run_import("contacts", write(tmp_path, "bb.vcf", card))
    person = only()
    assert (person.full_name, person.phone, person.company.name) == (
        "John Doe",
        "+96123456789",
        "Acme Solutions",
    )
    assert person.photo == f"data:image/jpeg;base64,{data}"


@pytest.mark.django_db
def test_21_only_knows_the_backslash_semicolon_escape(tmp_path):
    card = "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Bar\\;Baz;Foo\\n\r\nTEL:+12025550143\r\nEND:VCARD\r\n"
    run_import("contacts", write(tmp_path, "bs.vcf", card))
    assert (only().first_name, only().last_name) == ("Foo\\n", "Bar;Baz")


@pytest.mark.django_db
def test_nested_agent_cards_are_people_of_their_own(tmp_path):
    card = (
        "BEGIN:VCARD\nVERSION:2.1\nN:Parent\nTEL:+12025550143\nAGENT:\n"
        "BEGIN:VCARD\nVERSION:2.1\nN:Assistant\nEMAIL:assistant@example.com\nEND:VCARD\n"
        "EMAIL:parent@example.com\nEND:VCARD\n"
    )
    report = run_import("contacts", write(tmp_path, "agent.vcf", card))
    assert (report.created, report.rejected) == (2, 0)
    parent = Contact.objects.get(last_name="Parent")
    assert (parent.email, parent.phone) == ("parent@example.com", "+12025550143")
    assert Contact.objects.get(last_name="Assistant").email == "assistant@example.com"


@pytest.mark.django_db
def test_a_21_card_in_shift_jis_with_a_charset_parameter(tmp_path):
    card = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=SHIFT_JIS:安藤;ロイド;;;\r\n"
        "TEL;PREF:+81312345678\r\nEND:VCARD\r\n"
    )
    report = run_import("contacts", write(tmp_path, "sjis.vcf", card, "shift_jis"))
    assert (report.encoding, report.created) == ("shift_jis", 1)
    assert (only().last_name, only().first_name) == ("安藤", "ロイド")


# ------------------------------------------------------------------------------ 3.0 and 4.0


@pytest.mark.django_db
def test_40_altid_sort_as_caret_escapes_and_a_birthday_without_a_year(tmp_path):
    card = (
        "BEGIN:VCARD\r\nVERSION:4.0\r\n"
        "FN;ALTID=1;LANGUAGE=ja:山田太郎\r\nFN;ALTID=1;LANGUAGE=en:Taro Yamada\r\n"
        'N;ALTID=1;SORT-AS="Yamada,Taro":山田;太郎;;;\r\n'
        "ADR;LABEL=\"Chuo 1-1^nTokyo ^'HQ^'\":;;Chuo 1-1;Tokyo;;100-0001;Japan\r\n"
        "BDAY:--0415\r\nEMAIL:taro@example.jp\r\nEND:VCARD\r\n"
    )
    run_import("contacts", write(tmp_path, "v4.vcf", card))
    person = only()
    assert (person.last_name, person.first_name, person.city) == ("山田", "太郎", "Tokyo")
    assert person.birthday is None and person.custom_fields == {"birthday": "04-15"}


@pytest.mark.django_db
def test_apple_and_cardbook_write_the_year_1604_for_no_year(tmp_path):
    card = (
        "BEGIN:VCARD\nVERSION:3.0\nFN:No Year\nN:Year;No;;;\n"
        "BDAY;X-APPLE-OMIT-YEAR=1604:1604-01-31\nEND:VCARD\n"
    )
    report = run_import("contacts", write(tmp_path, "apple.vcf", card))
    assert (report.created, report.warned) == (1, 0)
    assert only().custom_fields == {"birthday": "01-31"}


@pytest.mark.django_db
def test_ios_cr_cr_lf_item_groups_and_gmail_escaped_colons(tmp_path):
    card = (
        "BEGIN:VCARD\r\r\nVERSION:3.0\r\r\nN:Smith;Bob;;;\r\r\nFN:Bob Smith\r\r\n"
        "item1.EMAIL;type=INTERNET;type=pref:bob@smithauto.example\r\r\n"
        "item1.X-ABLabel:_$!<Other>!$_\r\r\nitem2.URL:http\\://www.smithauto.example\r\r\n"
        "TEL;type=WORK:(650) 555-1212\r\r\nEND:VCARD\r\r\n"
    )
    run_import("contacts", write(tmp_path, "ios.vcf", card))
    assert (only().email, only().phone) == ("bob@smithauto.example", "+16505551212")


@pytest.mark.django_db
def test_a_card_without_n_or_fn_is_named_after_its_org_else_its_address(tmp_path):
    cards = (
        "BEGIN:VCARD\nVERSION:3.0\nORG:Viagenie Inc.\nTEL:+14186569254\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nEMAIL:john.doe@example.com\nEND:VCARD\n"
    )
    report = run_import("contacts", write(tmp_path, "nameless.vcf", cards))
    assert (report.created, report.rejected) == (2, 0)
    assert Contact.objects.get(phone="+14186569254").last_name == "Viagenie Inc."
    assert Contact.objects.get(email="john.doe@example.com").full_name == "John Doe"


@pytest.mark.django_db
def test_a_preamble_before_begin_vcard_and_a_data_uri_photo(tmp_path):
    png = base64.b64encode(PNG).decode()
    card = (
        "ENCODING:UTF-8\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ann Lee\r\n"
        f"PHOTO:data:image/png;base64,{png}\r\nEND:VCARD\r\n"
    )
    run_import("contacts", write(tmp_path, "tine.vcf", card))
    assert only().photo == f"data:image/png;base64,{png}" and only().photo_src == only().photo


@pytest.mark.django_db
def test_a_photo_that_is_no_picture_is_a_warning(tmp_path):
    card = (
        "BEGIN:VCARD\nVERSION:2.1\nN:Broken;Photo\nTEL:+12025550143\n"
        "PHOTO;ENCODING=BASE64;JPEG:ASDF==\nEND:VCARD\n"
    )
    report = run_import("contacts", write(tmp_path, "broken.vcf", card))
    assert (report.created, report.warned) == (1, 1)
    assert only().photo == "" and only().custom_fields == {"PHOTO": "ASDF=="}


# ---------------------------------------------------------------------------------- encodings

LEGACY = [
    ("shift_jis", "名無し,権兵衛,gonbe@example.jp\n", "名無し"),
    ("gb18030", "王,小明,xm@example.cn\n", "王"),
    ("big5", "陳,大文,tm@example.tw\n", "陳"),
    ("euc_kr", "김,민준,mj@example.kr\n", "김"),
    ("iso8859_2", "Wiśniewski,Łukasz,lw@example.pl\n", "Wiśniewski"),
    ("cp1251", "Иванов,Пётр,petr@example.ru\n", "Иванов"),
    ("cp1252", "Müller,Jürgen,jm@example.de\n", "Müller"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("encoding", "row", "family"), LEGACY)
def test_legacy_encodings_are_detected(tmp_path, encoding, row, family):
    text = "Last name,First name,E-mail\n" + row * 3
    report = run_import("contacts", write(tmp_path, "legacy.csv", text, encoding))
    assert report.created == 1
    assert only().last_name == family


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_or_without_a_byte_order_mark(tmp_path, encoding):
    path = write(tmp_path, "u16.csv", "Name,E-mail\nZoë Ångström,zoe@example.se\n", encoding)
    run_import("contacts", path)
    assert only().first_name == "Zoë"


@pytest.mark.django_db
def test_the_encoding_can_be_given_and_is_reported(tmp_path):
    path = write(tmp_path, "latin2.csv", "Name,E-mail\nŁukasz Żółw,lz@example.pl\n", "iso8859_2")
    report = run_import("contacts", path, encoding="ISO-8859-2")
    assert report.encoding == "iso8859-2" and only().first_name == "Łukasz"
    assert preview("contacts", path, encoding="latin2").encoding == "iso8859-2"
    with pytest.raises(ImportFileError, match="not a text encoding"):
        run_import("contacts", path, encoding="klingon-8")


# ---------------------------------------------------------------------------------- CSV


@pytest.mark.django_db
def test_a_csv_without_a_header_row_keeps_its_first_record(tmp_path):
    path = write(
        tmp_path, "noheader.csv", "John Doe,John,Doe,john@doe.example\nJane Doe,Jane,Doe,jane@doe.example\n"
    )
    with open_table(path) as table:
        assert table.headers == ["Column 1", "Column 2", "Column 3", "Column 4"]
        assert table.guessed_mapping == {
            "Column 1": "",
            "Column 2": "first_name",
            "Column 3": "last_name",
            "Column 4": "email",
        }
    report = run_import("contacts", path)
    assert (report.created, report.rejected) == (2, 0)
    assert set(Contact.objects.values_list("first_name", "last_name", "email")) == {
        ("John", "Doe", "john@doe.example"),
        ("Jane", "Doe", "jane@doe.example"),
    }


OUTLOOK = {
    "de": "Anrede,Vorname,Weitere Vornamen,Nachname,Firma,Position,Straße geschäftlich,Ort geschäftlich,"
    "Postleitzahl geschäftlich,Land/Region geschäftlich,Telefon geschäftlich,Mobiltelefon,Geburtstag,"
    "E-Mail-Adresse,Kategorien,Notizen\n"
    "Herr,Max,,Muster,Muster GmbH,Vertrieb,Hauptstr. 1,Berlin,10115,Deutschland,030 1234567,0171 2345678,"
    "1.2.1980,max@muster.example,Kunden,Netter Kunde\n",
    "fr": "Titre,Prénom,Nom,Société,Rue (bureau),Ville (bureau),Code postal (bureau),Pays/Région (bureau),"
    "Téléphone (bureau),Tél. mobile,Anniversaire,Adresse de messagerie,Catégories,Notes\n"
    "M.,Max,Muster,Muster GmbH,Hauptstr. 1,Berlin,10115,Deutschland,030 1234567,0171 2345678,1/2/1980,"
    "max@muster.example,Kunden,Netter Kunde\n",
    "es": "Tratamiento,Nombre,Apellidos,Organización,Puesto,Calle del trabajo,Ciudad de trabajo,"
    "Código postal del trabajo,País o región del trabajo,Teléfono del trabajo,Teléfono móvil,Cumpleaños,"
    "Dirección de correo electrónico,Categorías,Notas\n"
    "Sr.,Max,Muster,Muster GmbH,Vertrieb,Hauptstr. 1,Berlin,10115,Deutschland,030 1234567,0171 2345678,"
    "1/2/1980,max@muster.example,Kunden,Netter Kunde\n",
    "zh": "名,姓,公司,职务,商务地址 街道,商务地址 市/县,商务地址 邮政编码,商务地址 国家/地区,"
    "商务电话,移动电话,生日,电子邮件地址,类别,附注\n"
    "Max,Muster,Muster GmbH,Vertrieb,Hauptstr. 1,Berlin,10115,Deutschland,030 1234567,0171 2345678,"
    "1980-02-01,max@muster.example,Kunden,Netter Kunde\n",
}


@pytest.mark.django_db
@pytest.mark.parametrize("language", sorted(OUTLOOK))
def test_outlook_exports_with_localised_headers(tmp_path, settings, language):
    settings.SOLOCRM_PHONE_REGION = "US"
    # dates are day first in the French and Spanish exports: the import's region says so; the
    # phones are national numbers read in the row's country (Deutschland), not in France
    path = write(tmp_path, f"outlook-{language}.csv", OUTLOOK[language])
    report = run_import("contacts", path, region="FR" if language in ("fr", "es") else None)
    assert (report.layout, report.created, report.warned) == ("outlook", 1, 0)
    max_ = only()
    assert (max_.first_name, max_.last_name, max_.email) == ("Max", "Muster", "max@muster.example")
    assert (max_.phone, max_.other_phones) == ("+491712345678", ["+49301234567"])
    assert (max_.company.name, max_.street, max_.city, max_.postal_code) == (
        "Muster GmbH",
        "Hauptstr. 1",
        "Berlin",
        "10115",
    )
    assert str(max_.birthday) == "1980-02-01" and max_.notes == "Netter Kunde"
    assert list(max_.tags.values_list("name", flat=True)) == ["Kunden"]
