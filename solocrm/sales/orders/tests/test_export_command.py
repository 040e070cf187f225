"""`solocrm export`: CSV, JSON, JSON Lines and vCard, filtered like the lists."""

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
import vobject
from django.core.management import call_command
from django.core.management.base import CommandError

from solocrm.contacts.models import Company, Contact, Tag
from solocrm.sales.models import Order, OrderLine

pytestmark = pytest.mark.django_db

TRICKY_NOTES = 'Likes "tea", not coffee;\nsecond line, with commas\n第三行：中文'


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def people():
    company = Company.objects.create(name='星辰科技, Ltd; "Shanghai"')
    vip = Tag.objects.create(name="vip")
    ada = Contact.objects.create(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        phone="+442079460000",
        other_emails=["ada@work.example"],
        company=company,
        lifecycle_stage="repeat",
        notes=TRICKY_NOTES,
        birthday=date(1985, 12, 10),
        city="London",
        country="United Kingdom",
    )
    ada.tags.add(vip)
    wang = Contact.objects.create(
        first_name="小明", last_name="王", email="xiaoming@example.cn", lifecycle_stage="lead"
    )
    return ada, wang


def test_csv_has_a_header_of_model_field_names_and_one_row_per_contact(people):
    rows = csv_rows(export("contacts"))
    assert [r["email"] for r in rows] == ["ada@example.com", "xiaoming@example.cn"]
    assert {"first_name", "last_name", "email", "phone", "company", "tags", "lifecycle_stage"} <= set(rows[0])


def test_commas_quotes_newlines_and_chinese_survive_a_csv_round_trip(people):
    (ada,) = [r for r in csv_rows(export("contacts")) if r["last_name"] == "Lovelace"]
    assert ada["notes"] == TRICKY_NOTES
    assert ada["company"] == '星辰科技, Ltd; "Shanghai"'
    assert ada["other_emails"] == "ada@work.example"
    assert ada["tags"] == "vip"
    assert ada["birthday"] == "1985-12-10"


def test_text_a_spreadsheet_would_run_as_a_formula_is_defused(people):
    ada, _wang = people
    ada.title = '=HYPERLINK("http://evil.example","click")'
    ada.city = "@SUM(1+1)"
    ada.save()
    (row,) = [r for r in csv_rows(export("contacts")) if r["last_name"] == "Lovelace"]
    assert row["title"] == "'" + ada.title
    assert row["city"] == "'@SUM(1+1)"
    assert row["phone"] == "+442079460000", "a phone number is data, not a formula"


def test_excel_option_starts_the_file_with_a_byte_order_mark(people):
    assert export("contacts", "--excel").startswith("\ufeffuuid,")
    assert not export("contacts").startswith("\ufeff")


def test_filters_come_from_the_shared_filter_definition(people):
    assert [r["last_name"] for r in csv_rows(export("contacts", "--stage", "lead"))] == ["王"]
    assert [r["last_name"] for r in csv_rows(export("contacts", "--tag", "vip"))] == ["Lovelace"]
    assert [r["last_name"] for r in csv_rows(export("contacts", "--q", "小明"))] == ["王"]
    assert len(csv_rows(export("contacts", "--has-email"))) == 2
    assert csv_rows(export("contacts", "--no-has-email")) == []
    assert len(csv_rows(export("contacts", "--created-after", "2000-01-01"))) == 2


def test_a_bad_filter_value_is_a_clear_error(people):
    with pytest.raises(CommandError, match="created-after"):
        export("contacts", "--created-after", "2024-13-45")


def test_json_is_one_array_with_lists_as_lists(people):
    data = json.loads(export("contacts", "--format", "json"))
    assert len(data) == 2
    assert data[0]["tags"] == ["vip"]
    assert data[0]["other_emails"] == ["ada@work.example"]
    assert data[0]["notes"] == TRICKY_NOTES
    assert json.loads(export("contacts", "--format", "json", "--stage", "churned")) == []


def test_json_lines_has_one_object_per_line(people):
    lines = export("contacts", "--format", "jsonl").splitlines()
    assert [json.loads(line)["first_name"] for line in lines] == ["Ada", "小明"]


def test_vcard_is_version_4_with_escaped_values_and_folded_lines(people):
    text = export("contacts", "--format", "vcard", "--tag", "vip")
    assert text.startswith("BEGIN:VCARD\r\nVERSION:4.0\r\n")
    assert 'ORG:星辰科技\\, Ltd\\; "Shanghai"\r\n' in text
    assert 'NOTE:Likes "tea"\\, not coffee\\;\\nsecond line' in text.replace("\r\n ", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_vcard_reads_back_with_a_vcard_parser(people):
    cards = list(vobject.readComponents(export("contacts", "--format", "vcard")))
    by_email = {card.email.value: card for card in cards}
    assert by_email["ada@example.com"].note.value == TRICKY_NOTES
    assert by_email["ada@example.com"].org.value == ['星辰科技, Ltd; "Shanghai"']
    assert by_email["xiaoming@example.cn"].fn.value == "王小明"


def test_orders_cannot_be_exported_as_vcard(people):
    with pytest.raises(CommandError, match="vCard"):
        export("orders", "--format", "vcard")


@pytest.fixture
def order(people):
    ada, _wang = people
    order = Order.objects.create(contact=ada, number="SO-1", total=Decimal("48.50"), status="paid")
    OrderLine.objects.create(
        order=order, name="Mug", quantity=2, unit_price=Decimal("12.00"), total=Decimal("24.00")
    )
    OrderLine.objects.create(
        order=order, name="Tea", quantity=1, unit_price=Decimal("24.50"), total=Decimal("24.50")
    )
    Order.objects.create(number="SO-2", total=Decimal("5.00"), status="cancelled")
    return order


def test_orders_csv_has_one_row_per_order_with_a_lines_summary(order):
    rows = csv_rows(export("orders", "--status", "paid"))
    assert len(rows) == 1
    assert rows[0]["number"] == "SO-1"
    assert rows[0]["email"] == "ada@example.com"
    assert rows[0]["line_count"] == "2"
    assert rows[0]["lines"] == "2 × Mug @ 12.00; 1 × Tea @ 24.50"


def test_orders_json_nests_the_lines(order):
    data = json.loads(export("orders", "--format", "json", "--ordering", "total"))
    assert [o["number"] for o in data] == ["SO-2", "SO-1"]
    assert data[1]["lines"][0] == {
        "sku": "",
        "name": "Mug",
        "quantity": "2",
        "unit_price": "12.00",
        "total": "24.00",
    }
    assert data[0]["lines"] == [] and data[0]["contact_uuid"] == ""


def test_output_goes_to_a_file_when_asked(people, tmp_path):
    target = tmp_path / "contacts.csv"
    assert export("contacts", "--output", str(target)) == ""
    assert len(csv_rows(target.read_text(encoding="utf-8"))) == 2


def test_an_exported_csv_imports_back_into_the_same_contacts(people, tmp_path):
    target = tmp_path / "contacts.csv"
    export("contacts", "--output", str(target))
    Contact.objects.all().delete()
    report = io.StringIO()
    call_command("import", "contacts", str(target), "--json", stdout=report)
    assert json.loads(report.getvalue())["rejected"] == 0
    ada = Contact.objects.get(email="ada@example.com")
    assert (ada.first_name, ada.last_name, ada.phone) == ("Ada", "Lovelace", "+442079460000")
    assert ada.notes == TRICKY_NOTES
    assert ada.company.name == '星辰科技, Ltd; "Shanghai"'
    assert list(ada.tags.values_list("name", flat=True)) == ["vip"]
    assert ada.other_emails == ["ada@work.example"]
    assert ada.lifecycle_stage == "repeat"
    assert Contact.objects.get(email="xiaoming@example.cn").last_name == "王"


def test_an_exported_vcard_imports_back(people, tmp_path):
    target = tmp_path / "contacts.vcf"
    export("contacts", "--format", "vcard", "--output", str(target))
    Contact.objects.all().delete()
    report = io.StringIO()
    call_command("import", "contacts", str(target), "--json", stdout=report)
    assert json.loads(report.getvalue())["rejected"] == 0
    ada = Contact.objects.get(email="ada@example.com")
    assert (ada.first_name, ada.last_name, ada.notes) == ("Ada", "Lovelace", TRICKY_NOTES)
    assert Contact.objects.get(email="xiaoming@example.cn").first_name == "小明"


def test_csv_has_one_column_per_custom_field_key(people):
    ada, wang = people
    ada.custom_fields = {"Shoe size": 38, "=cmd": "=1+1", "Loyal": True}
    ada.save()
    wang.custom_fields = {"Shoe size": "42", "微信": "wx_wang"}
    wang.save()
    Contact.objects.create(first_name="Nobody", custom_fields={"Hidden": "x"}, lifecycle_stage="churned")
    rows = csv_rows(export("contacts", "--stage", "repeat"))
    assert [c for c in rows[0] if c.startswith("custom:")] == [
        "custom:=cmd",
        "custom:Loyal",
        "custom:Shoe size",
    ]
    rows = csv_rows(export("contacts", "--no-consent"))
    assert "custom:Hidden" in rows[0] and "custom_fields" not in rows[0]
    by_email = {r["email"]: r for r in rows}
    assert by_email["ada@example.com"]["custom:Shoe size"] == "38"
    assert by_email["ada@example.com"]["custom:=cmd"] == "'=1+1"  # no formula in a spreadsheet
    assert by_email["ada@example.com"]["custom:Loyal"] == "true"
    assert by_email["xiaoming@example.cn"]["custom:微信"] == "wx_wang"
    assert by_email["xiaoming@example.cn"]["custom:Loyal"] == ""
    record = json.loads(export("contacts", "--format", "json", "--stage", "lead"))[0]
    assert record["custom_fields"] == {"Shoe size": "42", "微信": "wx_wang"}
