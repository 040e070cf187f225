"""Finding probable duplicate contacts."""

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from solocrm.contacts.dedupe import find_duplicate_candidates
from solocrm.contacts.models import Company, Contact, Interaction
from solocrm.sales.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    return Company.objects.create(name="Acme Trading")


def _people(candidate) -> set[str]:
    return {c.email or c.phone or c.full_name for c in candidate.contacts}


def test_two_contacts_with_the_same_email_are_candidates():
    Contact.objects.create(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    Contact.objects.create(first_name="A.", last_name="King", other_emails=["ada@example.com"])
    Contact.objects.create(first_name="Grace", last_name="Hopper", email="grace@example.com")
    (candidate,) = find_duplicate_candidates()
    assert candidate.reason == "email"
    assert candidate.score == 100
    assert {c.last_name for c in candidate.contacts} == {"Lovelace", "King"}


def test_an_extra_email_matching_someone_elses_main_address_is_found():
    Contact.objects.create(first_name="Ada", email="ada@example.com")
    Contact.objects.create(
        first_name="Countess", email="countess@example.com", other_emails=["ada@example.com"]
    )
    (candidate,) = find_duplicate_candidates()
    assert candidate.reason == "email"
    assert {c.first_name for c in candidate.contacts} == {"Ada", "Countess"}


def test_two_contacts_with_the_same_phone_are_candidates():
    Contact.objects.create(first_name="Lin", last_name="Wang", phone="+8613800138000")
    Contact.objects.create(first_name="L.", last_name="Wang", phone="+8613800138000")
    (candidate,) = find_duplicate_candidates()
    assert candidate.reason == "phone"


def test_people_sharing_a_phone_with_different_emails_or_names_are_weaker_candidates():
    """A switchboard or a family landline: listed, with its own reason, after stronger groups."""
    Contact.objects.create(first_name="Lin", last_name="Wang", phone="+8613800138000")
    Contact.objects.create(first_name="小林", last_name="王", phone="+8613800138000")
    Contact.objects.create(first_name="Ann", email="ann@acme.example", phone="+14155550199")
    Contact.objects.create(first_name="Ann", email="ann@home.example", phone="+14155550199")
    Contact.objects.create(first_name="Ada", email="ada@example.com")
    Contact.objects.create(first_name="Ada", other_emails=["ada@example.com"])
    found = find_duplicate_candidates()
    assert [c.reason for c in found] == ["email", "shared_phone", "shared_phone"]
    assert {frozenset(c.first_name for c in group.contacts) for group in found[1:]} == {
        frozenset({"Lin", "小林"}),
        frozenset({"Ann"}),
    }


def test_a_typo_in_the_name_at_the_same_company_is_a_candidate(acme):
    Contact.objects.create(first_name="Katherine", last_name="Johnson", company=acme, email="kj@acme.example")
    Contact.objects.create(first_name="Katherine", last_name="Jonson", company=acme)
    (candidate,) = find_duplicate_candidates()
    assert candidate.reason == "name"
    assert 90 <= candidate.score < 100


def test_a_typo_in_the_last_names_second_letter_is_found_by_the_second_block_key(acme):
    Contact.objects.create(first_name="Margaret", last_name="Hamilton", company=acme)
    Contact.objects.create(first_name="Margaret", last_name="Hmilton", company=acme)
    assert [c.reason for c in find_duplicate_candidates()] == ["name"]


def test_people_sharing_a_common_first_name_are_not_candidates(acme):
    for last in ("Smith", "Brown", "Taylor", "Wilson"):
        Contact.objects.create(first_name="John", last_name=last, company=acme)
    Contact.objects.create(first_name="伟", last_name="王", company=acme)
    Contact.objects.create(first_name="芳", last_name="王", company=acme)
    assert find_duplicate_candidates() == []


def test_a_long_shared_company_name_does_not_make_different_names_match():
    company = Company.objects.create(name="International Consolidated Analytical Engines Holdings")
    Contact.objects.create(first_name="Ann", last_name="Lee", company=company)
    Contact.objects.create(first_name="Amy", last_name="Lee", company=company)
    assert find_duplicate_candidates() == []


def test_the_same_name_without_a_company_is_not_enough():
    Contact.objects.create(first_name="John", last_name="Smith")
    Contact.objects.create(first_name="John", last_name="Smith")
    assert find_duplicate_candidates() == []


def test_same_name_with_different_emails_and_phones_is_taken_as_two_people(acme):
    Contact.objects.create(
        first_name="Wei", last_name="Wang", company=acme, email="a@x.example", phone="+8613800000001"
    )
    Contact.objects.create(
        first_name="Wei", last_name="Wang", company=acme, email="b@x.example", phone="+8613800000002"
    )
    assert find_duplicate_candidates() == []


def test_a_stricter_threshold_drops_weaker_name_matches(acme):
    Contact.objects.create(first_name="Katherine", last_name="Johnson", company=acme)
    Contact.objects.create(first_name="Katherine", last_name="Jonson", company=acme)
    assert find_duplicate_candidates(threshold=99) == []


def test_the_survivor_is_the_contact_with_most_activity_then_the_oldest():
    old = Contact.objects.create(first_name="Old", email="same@example.com")
    busy = Contact.objects.create(first_name="Busy", other_emails=["same@example.com"])
    Order.objects.create(contact=busy)
    Interaction.objects.create(contact=busy, occurred_at=timezone.now())
    (candidate,) = find_duplicate_candidates()
    assert candidate.survivor == busy
    assert candidate.others == [old]


def test_on_a_tie_the_oldest_contact_survives():
    first = Contact.objects.create(first_name="First", phone="+14155550101")
    Contact.objects.create(first_name="Second", phone="+14155550101")
    assert find_duplicate_candidates()[0].survivor == first


def test_a_contact_linked_by_email_and_phone_to_two_others_forms_one_group():
    Contact.objects.create(first_name="A", email="a@example.com")
    Contact.objects.create(first_name="B", other_emails=["a@example.com"], phone="+14155550102")
    Contact.objects.create(first_name="C", phone="+14155550102")
    (candidate,) = find_duplicate_candidates()
    assert {c.first_name for c in candidate.contacts} == {"A", "B", "C"}
    assert candidate.reason == "email"


def test_a_shared_mailbox_is_not_a_duplicate():
    Contact.objects.create(first_name="Shop", email="info@shop.example")
    for n in range(12):
        Contact.objects.create(first_name=f"Staff {n}", other_emails=["info@shop.example"])
    assert find_duplicate_candidates() == []


def test_limit_returns_the_strongest_groups_first(acme):
    Contact.objects.create(first_name="Katherine", last_name="Johnson", company=acme)
    Contact.objects.create(first_name="Katherine", last_name="Jonson", company=acme)
    Contact.objects.create(first_name="X", email="x@example.com")
    Contact.objects.create(first_name="Y", other_emails=["x@example.com"])
    assert [c.reason for c in find_duplicate_candidates(limit=1)] == ["email"]


def test_the_demo_data_holds_a_few_duplicates_to_find(db):
    from solocrm.web.demo import load_demo

    load_demo(contacts=400, seed=42, end=date(2025, 6, 30))
    found = find_duplicate_candidates()
    assert 2 <= len(found) <= 8
    assert {c.reason for c in found} >= {"email"}


# -- the command --------------------------------------------------------------------------------


def _dedupe(*args: str) -> str:
    out = StringIO()
    call_command("dedupe", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def pair():
    kept = Contact.objects.create(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    Order.objects.create(contact=kept)
    gone = Contact.objects.create(
        first_name="Ada", last_name="L.", other_emails=["ada@example.com"], phone="+14155550103"
    )
    return kept, gone


def test_the_command_lists_the_groups_and_changes_nothing(pair):
    out = _dedupe()
    assert "ada@example.com" in out
    assert "1" in out
    assert Contact.objects.count() == 2


def test_the_command_prints_json_for_scripts(pair):
    kept, gone = pair
    (group,) = json.loads(_dedupe("--json"))
    assert group["reason"] == "email"
    assert group["survivor"]["uuid"] == str(kept.uuid)
    assert [o["uuid"] for o in group["others"]] == [str(gone.uuid)]


def test_the_command_dry_run_shows_the_result_of_each_merge(pair):
    (group,) = json.loads(_dedupe("--apply", "--dry-run", "--json"))
    assert group["preview"]["changes"]["phone"] == "+14155550103"
    assert Contact.objects.count() == 2


def test_the_command_merges_everything_with_apply(pair):
    kept, _gone = pair
    out = _dedupe("--apply")
    assert "1" in out
    assert list(Contact.objects.all()) == [kept]
    kept.refresh_from_db()
    assert kept.phone == "+14155550103"


def test_the_command_says_so_when_there_is_nothing_to_do(db):
    assert "No duplicates" in _dedupe()


def test_apply_leaves_people_who_only_share_a_phone_apart():
    Contact.objects.create(first_name="Ann", email="ann@acme.example", phone="+14155550199")
    Contact.objects.create(first_name="Bob", email="bob@acme.example", phone="+14155550199")
    Contact.objects.create(first_name="Ada", email="ada@example.com")
    Contact.objects.create(first_name="Ada", other_emails=["ada@example.com"])
    _dedupe("--apply")
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == ["Ada", "Ann", "Bob"]
