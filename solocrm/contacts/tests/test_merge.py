"""Merging duplicate contacts."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from solocrm.contacts.merge import merge_contacts, preview_merge, reverse_relations
from solocrm.contacts.models import Company, Contact, Interaction, Tag
from solocrm.sales.models import Order, Task
from solocrm.users.models import AuditLog

pytestmark = pytest.mark.django_db

EARLY = datetime(2023, 1, 5, 9, 0, tzinfo=UTC)
LATE = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def tags():
    return {name: Tag.objects.create(name=name) for name in ("vip", "newsletter", "wholesale")}


@pytest.fixture
def survivor(tags):
    contact = Contact.objects.create(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        other_emails=["ada@work.example"],
        custom_fields={"size": "M", "language": "en"},
        notes="Met at the fair.",
        lifecycle_stage="lead",
    )
    contact.give_consent("Checkout opt-in", at=LATE)
    contact.save()
    contact.tags.add(tags["vip"], tags["newsletter"])
    Interaction.objects.create(contact=contact, occurred_at=timezone.now(), subject="First call")
    return contact


@pytest.fixture
def duplicate(tags):
    company = Company.objects.create(name="Analytical Engines Ltd")
    contact = Contact.objects.create(
        first_name="Ada",
        last_name="Lovelace",
        email="ada.lovelace@gmail.example",
        phone="+442079460000",
        company=company,
        title="Mathematician",
        custom_fields={"size": "L", "birthday_card": True},
        notes="Prefers e-mail.",
        lifecycle_stage="repeat",
    )
    contact.give_consent("Newsletter sign-up form", at=EARLY)
    contact.save()
    contact.tags.add(tags["newsletter"], tags["wholesale"])
    Interaction.objects.create(contact=contact, occurred_at=timezone.now(), subject="Order question")
    Order.objects.create(contact=contact, number="SO-1", total=Decimal("12.00"))
    Order.objects.create(contact=contact, number="SO-2", total=Decimal("30.00"))
    Task.objects.create(title="Send the invoice", contact=contact)
    return contact


def test_every_related_row_moves_to_the_survivor(survivor, duplicate):
    merge_contacts(survivor, [duplicate])
    assert Order.objects.filter(contact=survivor).count() == 2
    assert Task.objects.filter(contact=survivor).count() == 1
    subjects = set(Interaction.objects.filter(contact=survivor).values_list("subject", flat=True))
    assert {"First call", "Order question"} <= subjects


def test_relations_are_discovered_from_the_model_so_new_apps_are_covered():
    names = {rel.get_accessor_name() for rel in reverse_relations()}
    assert {"orders", "interactions", "tasks"} <= names


def test_tags_are_united_without_repeats(survivor, duplicate):
    merged = merge_contacts(survivor, [duplicate])
    assert sorted(merged.tags.values_list("name", flat=True)) == ["newsletter", "vip", "wholesale"]


def test_the_others_are_deleted(survivor, duplicate):
    merge_contacts(survivor, [duplicate])
    assert not Contact.objects.filter(pk=duplicate.pk).exists()
    assert Contact.objects.count() == 1


def test_empty_fields_are_filled_and_the_survivors_own_values_kept(survivor, duplicate):
    merged = merge_contacts(survivor, [duplicate])
    assert merged.company.name == "Analytical Engines Ltd"
    assert merged.title == "Mathematician"
    assert merged.phone == "+442079460000"
    assert merged.email == "ada@example.com"
    assert merged.notes == "Met at the fair.\n\nPrefers e-mail."


def test_the_others_addresses_are_kept_as_extra_addresses(survivor, duplicate):
    merged = merge_contacts(survivor, [duplicate])
    assert merged.other_emails == ["ada@work.example", "ada.lovelace@gmail.example"]


def test_custom_fields_are_combined_and_the_survivor_wins_a_conflict(survivor, duplicate):
    merged = merge_contacts(survivor, [duplicate])
    assert merged.custom_fields == {"size": "M", "language": "en", "birthday_card": True}


def test_the_earliest_consent_evidence_is_kept(survivor, duplicate):
    merged = merge_contacts(survivor, [duplicate])
    assert merged.email_consent
    assert merged.email_consent_at == EARLY
    assert merged.email_consent_source == "Newsletter sign-up form"


def test_a_lead_merged_with_a_repeat_customer_is_a_repeat_customer(survivor, duplicate):
    assert merge_contacts(survivor, [duplicate]).lifecycle_stage == "repeat"


def test_the_timeline_says_what_was_merged(survivor, duplicate, owner):
    merge_contacts(survivor, [duplicate], actor=owner)
    entry = Interaction.objects.get(contact=survivor, kind="system")
    assert "Ada Lovelace" in entry.subject
    assert "ada.lovelace@gmail.example" in entry.body
    assert entry.data["moved"] == {"orders": 2, "interactions": 1, "tasks": 1, "tags": 2}
    assert entry.author == owner


def test_an_audit_log_entry_names_the_actor_and_the_merged_contacts(survivor, duplicate, owner):
    merge_contacts(survivor, [duplicate], actor=owner)
    log = AuditLog.objects.get(action="contact.merge")
    assert log.actor == owner
    assert log.object_uuid == survivor.uuid
    assert log.changes["merged"][0]["uuid"] == str(duplicate.uuid)


def test_merge_into_on_the_model_does_the_same(survivor, duplicate):
    duplicate.merge_into(survivor)
    assert Order.objects.filter(contact=survivor).count() == 2
    assert not Contact.objects.filter(pk=duplicate.pk).exists()


def test_merging_a_contact_into_itself_changes_nothing(survivor):
    merge_contacts(survivor, [survivor])
    assert Contact.objects.filter(pk=survivor.pk).exists()
    assert not AuditLog.objects.filter(action="contact.merge").exists()


def test_the_preview_describes_the_result_and_writes_nothing(survivor, duplicate):
    before = (Contact.objects.count(), Interaction.objects.count(), AuditLog.objects.count())
    preview = preview_merge(survivor, [duplicate])
    assert (Contact.objects.count(), Interaction.objects.count(), AuditLog.objects.count()) == before
    assert Order.objects.filter(contact=duplicate).count() == 2
    fields = {f["field"]: f for f in preview["fields"]}
    assert fields["title"]["before"] == "" and fields["title"]["after"] == "Mathematician"
    assert fields["title"]["changed"] and not fields["email"]["changed"]
    assert "search_text" not in fields  # derived, and nothing a person should read
    assert preview["moved"] == {"orders": 2, "interactions": 1, "tasks": 1, "tags": 2}
    assert preview["tags"] == ["newsletter", "vip", "wholesale"]
    survivor.refresh_from_db()
    assert survivor.title == ""
