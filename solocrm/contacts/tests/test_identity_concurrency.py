"""Concurrent creators of one person, with real threads (each its own database connection): the
database's unique index on the normalised e-mail decides, and the losers get a clean 409 (API)
or join the winner (import), never a duplicate and never a 500."""

import threading

import pytest
from django.db import connection
from django.test import Client

from solocrm.contacts.importing import contacts as importing_contacts
from solocrm.contacts.importing import run_import, runner
from solocrm.contacts.models import Contact, Tag
from solocrm.users.models import ApiToken

pytestmark = pytest.mark.django_db(transaction=True)


def _together(count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads released at once; their results (or exceptions)."""
    barrier, results = threading.Barrier(count), [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as error:  # shown by the caller's assertion
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _api(owner):
    _token, raw = ApiToken.issue(owner, "load test")
    return lambda: Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_eight_api_clients_creating_one_address_get_one_201_and_seven_409s(owner):
    client = _api(owner)

    def create(i: int) -> int:
        body = {"first_name": f"Twin {i}", "email": "Same@Example.com"}
        return client().post("/api/v1/contacts", body, content_type="application/json").status_code

    statuses = _together(8, create)
    assert sorted(statuses) == [201] + [409] * 7, statuses
    assert Contact.objects.count() == 1


def test_eight_api_clients_creating_one_new_tag_all_succeed_with_one_tag(owner):
    client = _api(owner)

    def create(i: int) -> int:
        body = {"first_name": f"P{i}", "email": f"p{i}@example.com", "tags": ["Fair 2031"]}
        return client().post("/api/v1/contacts", body, content_type="application/json").status_code

    assert _together(8, create) == [201] * 8
    assert list(Tag.objects.values_list("name", flat=True)) == ["Fair 2031"]
    assert Contact.objects.filter(tags__name="Fair 2031").count() == 8


def test_two_imports_of_one_file_at_once_leave_one_contact_per_address(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "BATCH_SIZE", 250)  # many batches, so the two runs interleave
    path = tmp_path / "people.csv"
    rows = "".join(f"Person {i},p{i}@example.com,+1202555{i % 40:04d},Firm {i % 7}\n" for i in range(2000))
    path.write_text("Name,Email,Phone,Company\n" + rows, encoding="utf-8")
    reports = _together(2, lambda i: run_import("contacts", path))
    assert not any(isinstance(r, Exception) for r in reports), reports
    assert sum(r.created for r in reports) == 2000
    assert Contact.objects.count() == 2000
    assert Contact.objects.values("email").distinct().count() == 2000


def test_an_import_that_loses_a_race_for_an_address_joins_the_winner(tmp_path, monkeypatch):
    """Another writer creates the address between the batch's look-up and its insert: the unique
    index refuses the insert and the batch is matched again. Simulated by hiding the stored
    contact from the first look-up only."""
    winner = Contact.objects.create(first_name="Ada", email="ada@example.com")
    fetch = importing_contacts.ContactsKind._fetch
    calls = []

    def blind_once(self, batch):
        stored = fetch(self, batch)
        if not calls:
            stored.strong.clear()
        calls.append(1)
        return stored

    monkeypatch.setattr(importing_contacts.ContactsKind, "_fetch", blind_once)
    path = tmp_path / "people.csv"
    path.write_text("Name,Email,City\nAda Lovelace,ada@example.com,London\nBob,bob@example.com,\n")
    report = run_import("contacts", path)
    assert len(calls) == 2
    assert (report.created, report.updated) == (1, 1)
    winner.refresh_from_db()
    assert winner.city == "London"
    assert Contact.objects.count() == 2
