"""Export to vCard and import again: the same people with the same fields (issue 11)."""

import base64
import datetime as dt
import io

import pytest
from django.core.management import call_command

from solocrm.contacts.importing import run_import
from solocrm.contacts.models import Company, Contact, Tag

pytestmark = pytest.mark.django_db

# The smallest valid PNG (1x1 pixel): a photo must come back byte for byte.
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()
VCARD_FIELDS = (
    "first_name", "last_name", "email", "other_emails", "phone", "phone_extension", "other_phones",
    "title", "street", "city", "region", "postal_code", "country", "birthday", "notes", "photo",
)  # fmt: skip


def snapshot() -> dict[str, dict]:
    people = {}
    for contact in Contact.objects.select_related("company").prefetch_related("tags"):
        values = {f: getattr(contact, f) for f in VCARD_FIELDS}
        values["company"] = contact.company.name if contact.company else ""
        values["tags"] = sorted(t.name for t in contact.tags.all())
        values["no_year_birthday"] = contact.custom_fields.get("birthday", "")
        people[contact.email or contact.phone] = values
    return people


def test_export_to_vcard_and_import_again_gives_the_same_people_and_fields(tmp_path):
    acme = Company.objects.create(name='Acme; "Widgets", Inc.')
    vip, odd = Tag.objects.create(name="vip"), Tag.objects.create(name="Trade fair 2026 (Köln)")
    simon = Contact.objects.create(
        first_name="Simon",
        last_name="Perreault",
        email="simon@viagenie.example",
        other_emails=["simon@home.example", "tomás@correo.example"],
        phone="+14186569254",
        phone_extension="102",
        other_phones=["+14182626501"],
        company=acme,
        title="Chief; Engineer",
        street="2875 Laurier, Suite D2-630",
        city="Quebec",
        region="QC",
        postal_code="G1V 2M2",
        country="Canada",
        birthday=dt.date(1970, 2, 3),
        notes='Likes "tea";\nsecond line, with \\ backslash',
        photo=f"data:image/png;base64,{PIXEL}",
    )
    simon.tags.set([vip, odd])
    Contact.objects.create(
        first_name="小明", last_name="王", email="xiaoming@example.cn", custom_fields={"birthday": "03-05"}
    )
    Contact.objects.create(phone="+4930123456", photo="https://example.com/p.jpg")  # FN is the number
    before = snapshot()
    target = tmp_path / "everyone.vcf"
    call_command("export", "contacts", "--format", "vcard", "--output", str(target), stdout=io.StringIO())
    Contact.objects.all().delete()
    Company.objects.all().delete()
    Tag.objects.all().delete()

    report = run_import("contacts", target)

    assert (report.created, report.warned, report.rejected) == (3, 0, 0)
    assert snapshot() == before
