"""The identity rules (contacts/identity.py) and the importer, the API and the database using them."""

import pytest
from django.db import IntegrityError, transaction

from solocrm.contacts import identity
from solocrm.contacts.dedupe import find_duplicate_candidates
from solocrm.contacts.importing import run_import
from solocrm.contacts.models import Contact, Tag
from solocrm.contacts.services import Conflict, create_contact, get_or_create_tag, update_contact

HEADER = "First Name,Last Name,Email,Phone,External ID\n"


def write(tmp_path, body: str, name: str = "people.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def switchboard_file(tmp_path, offices: int = 4, per_office: int = 30):
    rows = "".join(
        f"Person{o}x{i},Office{o},p{o}x{i}@firm{o}.example,+1202555{o:04d},\n"
        for o in range(offices)
        for i in range(per_office)
    )
    return write(tmp_path, rows)


# -- the rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("Ada@Example.COM", "ada@example.com"),
        ("ada@example.com.", "ada@example.com"),
        ("ada@xn--bcher-kva.de", "ada@bücher.de"),
        ("Ada@BÜCHER.de", "ada@bücher.de"),
        ("ada@xn--zz.de", "ada@xn--zz.de"),  # broken punycode is kept as it is
    ],
)
def test_email_keys_ignore_case_and_the_spelling_of_the_domain(address, key):
    assert identity.email_key(address) == key


@pytest.mark.parametrize(
    ("a", "b", "conflict"),
    [
        (("Ada", "Lovelace"), ("ada", "LOVELACE"), False),
        (("A.", "Lovelace"), ("Ada", "Lovelace"), False),
        (("Ada", ""), ("", "Lovelace"), False),
        (("Ann", "Lee"), ("Ann Marie", "Lee"), False),
        (("Ann", "Lee"), ("Bob", "Lee"), True),
        (("Ada", "Byron"), ("Ada", "King"), True),
    ],
)
def test_names_conflict_only_when_both_sides_name_someone_else(a, b, conflict):
    assert identity.names_conflict(*a, *b) is conflict


def test_a_phone_joins_only_when_emails_and_names_agree():
    ann = identity.Person(("ann@acme.example",), "Ann", "Lee")
    assert identity.may_join_by_phone(identity.Person((), "Ann", "Lee"), ann)
    assert identity.may_join_by_phone(identity.Person(("ann@acme.example",), "", ""), ann)
    assert not identity.may_join_by_phone(identity.Person(("bob@acme.example",), "Ann", "Lee"), ann)
    assert not identity.may_join_by_phone(identity.Person((), "Bob", "Lee"), ann)


def test_among_several_fitting_people_on_one_phone_the_same_names_then_the_oldest_win():
    known = [
        ("ann", identity.Person(("ann@acme.example",), "Ann", "Lee")),
        ("bob", identity.Person(("bob@acme.example",), "Bob", "Lee")),
        ("bob2", identity.Person((), "Bob", "Lee")),
    ]
    assert identity.choose_by_phone(identity.Person((), "", "Lee"), known) == "ann"
    assert identity.choose_by_phone(identity.Person((), "Bob", "Lee"), known) == "bob2"
    assert identity.choose_by_phone(identity.Person(("bob@acme.example",), "B.", ""), known) == "bob"
    assert identity.choose_by_phone(identity.Person((), "Carl", "Lee"), known) is None


@pytest.mark.django_db
def test_find_contact_matches_other_emails_and_refuses_a_phone_with_another_email():
    ada = Contact.objects.create(first_name="Ada", email="ada@example.com", other_emails=["ada@work.example"])
    Contact.objects.create(first_name="Ann", email="ann@acme.example", phone="+12025550100")
    assert identity.find_contact(email="ADA@work.example.") == (ada, identity.EMAIL)
    assert identity.find_contact(email="bob@acme.example", phone="+12025550100", first_name="Bob") == (
        None,
        "",
    )
    found, reason = identity.find_contact(phone="+12025550100", first_name="Ann")
    assert (found.first_name, reason) == ("Ann", identity.PHONE)


# -- imports --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_people_sharing_a_switchboard_number_are_kept_apart_and_listed_as_candidates(tmp_path):
    report = run_import("contacts", switchboard_file(tmp_path, offices=4, per_office=3))
    assert (report.created, report.merged) == (12, 0)
    assert Contact.objects.count() == 12
    assert all(c.other_emails == [] for c in Contact.objects.all())
    found = find_duplicate_candidates()
    assert sorted(len(c.contacts) for c in found) == [3, 3, 3, 3]
    assert {c.reason for c in found} == {"shared_phone"}


@pytest.mark.django_db
def test_three_thousand_people_thirty_per_office_number_keep_their_names_and_emails(tmp_path):
    """The issue's case: 3,000 people on 100 switchboard numbers were imported as 100 contacts."""
    path = switchboard_file(tmp_path, offices=100, per_office=30)
    report = run_import("contacts", path)
    assert (report.created, report.merged, report.rejected) == (3000, 0, 0)
    assert not Contact.objects.exclude(other_emails=[]).exists()
    assert Contact.objects.filter(first_name="Person73x17", email="p73x17@firm73.example").exists()
    again = run_import("contacts", path)  # and a re-run changes nothing
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3000)


@pytest.mark.django_db
def test_a_phone_only_row_joins_the_one_person_whose_name_fits(tmp_path):
    path = write(
        tmp_path,
        "Ann,Lee,ann@acme.example,+12025550100,\n"
        "Bob,Stone,bob@acme.example,+12025550100,\n"
        "Bob,Stone,,+12025550100,\n"  # Bob again, without his e-mail: joins Bob
        "Carl,Young,,+12025550100,\n"  # a third person on the line: kept apart
        "Ann,Lee,ann@home.example,+12025550100,\n",  # another Ann Lee, another address: kept apart
    )
    report = run_import("contacts", path)
    assert (report.created, report.merged) == (4, 1)
    assert Contact.objects.filter(phone="+12025550100").count() == 4
    again = run_import("contacts", path)
    assert (again.created, again.updated) == (0, 0)


@pytest.mark.django_db
def test_a_phone_joins_a_stored_contact_only_when_nothing_disagrees(tmp_path):
    Contact.objects.create(first_name="Ann", last_name="Lee", phone="+12025550100")
    Contact.objects.create(first_name="Dan", last_name="Ho", email="dan@acme.example", phone="+12025550111")
    path = write(
        tmp_path,
        "Ann,Lee,ann@acme.example,+12025550100,\n"  # no address stored: Ann gets hers
        "Eve,Ho,eve@acme.example,+12025550111,\n",  # another address: a new contact
    )
    report = run_import("contacts", path)
    assert (report.created, report.updated) == (1, 1)
    assert Contact.objects.get(first_name="Ann").email == "ann@acme.example"
    assert Contact.objects.filter(phone="+12025550111").count() == 2


@pytest.mark.django_db
def test_rows_join_contacts_by_other_email_and_external_id_and_normalised_domain(tmp_path):
    ada = Contact.objects.create(first_name="Ada", email="ada@example.com", other_emails=["ada@bücher.de"])
    grace = Contact.objects.create(first_name="Grace", external_id="G-1")
    path = write(
        tmp_path,
        "Ada,Lovelace,Ada@xn--bcher-kva.de,,\n"
        "Grace,Hopper,grace@navy.example,,G-1\n"
        "Mary,Curie,MARY@Example.COM,,\n",
    )
    report = run_import("contacts", path)
    assert (report.created, report.updated) == (1, 2)
    ada.refresh_from_db()
    grace.refresh_from_db()
    assert ada.last_name == "Lovelace" and grace.email == "grace@navy.example"
    assert Contact.objects.filter(email="mary@example.com").exists()


@pytest.mark.django_db
def test_an_address_of_another_contact_never_becomes_a_primary_one(tmp_path):
    Contact.objects.create(first_name="Ada", email="ada@example.com")
    grace = Contact.objects.create(first_name="Grace", external_id="G-1")
    path = write(tmp_path, "Grace,Hopper,ada@example.com,,G-1\n")  # joined by id, address is Ada's
    report = run_import("contacts", path)
    assert report.updated == 1
    grace.refresh_from_db()
    assert (grace.email, grace.other_emails) == ("", ["ada@example.com"])
    assert [c.reason for c in find_duplicate_candidates()] == ["email"]


# -- the database --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_database_refuses_a_second_contact_with_the_same_address_in_any_case():
    Contact.objects.create(email="ada@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(email="ADA@example.com")
    Contact.objects.create(email="")  # contacts without an address are many
    Contact.objects.create(email="")


@pytest.mark.django_db
def test_services_answer_a_conflict_in_any_spelling_of_the_address():
    ada = create_contact({"first_name": "Ada", "email": "Ada@Example.com"})
    assert ada.email == "ada@example.com"
    with pytest.raises(Conflict):
        create_contact({"first_name": "Ada", "email": "ada@EXAMPLE.com."})
    grace = create_contact({"first_name": "Grace", "email": "grace@example.com"})
    with pytest.raises(Conflict):
        update_contact(grace, {"email": "ADA@example.com"})


@pytest.mark.django_db
def test_a_tag_is_found_in_any_case_and_created_once():
    assert get_or_create_tag("VIP") == get_or_create_tag("vip")
    assert Tag.objects.count() == 1


# -- the migration on an upgraded database ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_address_of_contacts_that_shared_one():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before = [("contacts", "0007_importjob_job")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("contacts", "Contact")
    first = old.objects.create(uuid="0" * 32, first_name="First", email="ada@example.com")
    second = old.objects.create(
        uuid="1" * 32, first_name="Second", email="ADA@example.com", other_emails=["a@x.example"]
    )
    third = old.objects.create(uuid="2" * 32, first_name="Third", email="ada@xn--bcher-kva.de")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert Contact.objects.get(pk=first.pk).email == "ada@example.com"
    moved = Contact.objects.get(pk=second.pk)
    assert (moved.email, moved.other_emails) == ("", ["ada@example.com", "a@x.example"])
    assert moved.interactions.get().data["moved_email"] == "ADA@example.com"
    assert Contact.objects.get(pk=third.pk).email == "ada@bücher.de"
    assert [c.reason for c in find_duplicate_candidates()] == ["email"]


@pytest.mark.django_db
def test_a_re_import_changes_nothing_when_a_person_comes_back_in_a_later_batch(tmp_path, monkeypatch):
    from solocrm.contacts.importing import runner

    monkeypatch.setattr(runner, "BATCH_SIZE", 1)
    path = write(tmp_path, "Katherine,Li,,+13030000168,\nKatherine,Li,k@x.example,+13030000168,\n")
    first = run_import("contacts", path)
    assert (first.created, first.merged) == (1, 1)
    again = run_import("contacts", path)
    assert (again.created, again.updated, again.unchanged, again.merged) == (0, 0, 1, 1)
