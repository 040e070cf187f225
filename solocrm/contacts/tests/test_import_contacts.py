"""Contacts import: validation per row, matching, merging, re-import, dry run, batches."""

import csv
import uuid
from pathlib import Path

import pytest

from solocrm.contacts.choices import InteractionKind
from solocrm.contacts.importing import base, run_import, runner
from solocrm.contacts.importing.contacts import ContactsKind
from solocrm.contacts.models import Company, Contact, Interaction, Tag
from solocrm.users.models import AuditLog

HEADER = "Name,Email,Phone,Company,Tags,Notes\n"


def write(tmp_path: Path, body: str, name: str = "people.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    return path


def many_rows(count: int) -> str:
    return "".join(f"Person {i},p{i}@example.com,,Firm {i % 3},t{i % 2},\n" for i in range(count))


@pytest.mark.django_db
def test_a_bad_field_is_a_warning_and_only_a_row_with_nothing_identifying_is_rejected(tmp_path):
    path = write(
        tmp_path,
        "Ada Lovelace,ada@example.com,(202) 555-0143,,,\n"
        "Bad Mail,not-an-email,,,,\n"
        '"Multi\nLine",,12,,,\n'
        ",,,Lonely Company,,\n"
        ",,pager,,vip,\n"
        "Bob,bob@example.com,,,,\n",
    )
    report = run_import("contacts", path)
    assert (report.rows, report.created, report.warned, report.rejected) == (6, 4 + 1, 2, 1)
    # the quoted field spans lines 4-5; line 6's only identifying cell is unreadable
    assert [(w.line, w.column) for w in report.warnings] == [(3, "Email"), (4, "Phone")]
    assert "not-an-email" in report.warnings[0].reason
    assert [(e.line, e.column) for e in report.errors] == [(7, "Phone"), (7, "")]
    bad = Contact.objects.get(first_name="Bad")
    assert bad.email == "" and bad.custom_fields == {"Email": "not-an-email"}  # kept, never lost
    assert Contact.objects.get(last_name="Line").custom_fields == {"Phone": "12"}
    assert Contact.objects.get(company__name="Lonely Company").full_name == ""


@pytest.mark.django_db
def test_it_writes_rejected_rows_with_their_cells_line_and_reason(tmp_path):
    report = run_import("contacts", write(tmp_path, "Ok,ok@example.com,,,,\n,bad@,,,,\n"))
    with open(report.rejected_path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Name", "Email", "Phone", "Company", "Tags", "Notes", "line", "reason"]
    assert rows[1][:2] == ["", "bad@"] and rows[1][6] == "3" and rows[1][7].startswith("Email: ")
    assert Path(report.rejected_path).parent == Path(base.settings.SOLOCRM_IMPORT_DIR)


@pytest.mark.django_db
def test_reimporting_the_same_file_creates_and_updates_nothing(tmp_path):
    path = write(
        tmp_path,
        'Ada Lovelace,ada@example.com,(202) 555-0143,Engines,"vip, math",Likes tea\n'
        "Ada L.,ADA@example.com,+1 202 555 0199,,friends,\n"  # same person again: merged
        "Grace Hopper,grace@example.com,,Navy,,\n",
    )
    first = run_import("contacts", path)
    assert (first.created, first.merged, first.updated) == (2, 1, 0)
    again = run_import("contacts", path)
    assert (again.created, again.updated, again.unchanged, again.merged) == (0, 0, 2, 1)
    assert Contact.objects.count() == 2


@pytest.mark.django_db
def test_duplicates_in_one_file_are_merged_filling_only_empty_fields(tmp_path):
    path = write(
        tmp_path,
        "Ada Lovelace,ada@example.com,,,vip,\n"
        "Ada Byron,,(202) 555-0143,Engines,math,\n"
        "A. Byron,ada.king@example.com,+12025550143,,,\n",  # joins the second through the phone
    )
    report = run_import("contacts", path)
    assert (report.created, report.merged) == (2, 1)
    ada = Contact.objects.get(email="ada@example.com")
    assert ada.full_name == "Ada Lovelace"
    byron = Contact.objects.get(phone="+12025550143")
    assert byron.email == "ada.king@example.com" and byron.full_name == "Ada Byron"  # filled, not replaced


@pytest.mark.django_db
def test_duplicates_are_merged_across_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "BATCH_SIZE", 2)
    path = write(tmp_path, "A,a@example.com,,,,\nB,b@example.com,,,,\nA again,A@EXAMPLE.COM,,,x,\n")
    report = run_import("contacts", path)
    assert (report.created, report.merged) == (2, 1)
    assert Contact.objects.count() == 2
    assert set(Contact.objects.get(email="a@example.com").tags.values_list("name", flat=True)) == {"x"}


@pytest.mark.django_db
def test_it_updates_changed_fields_of_stored_contacts_and_notes_it_on_the_timeline(tmp_path):
    stored = Contact.objects.create(
        first_name="Ada", last_name="Lovelace", email="ada@example.com", title="Countess"
    )
    path = write(tmp_path, "Ada Lovelace,ada@example.com,+442079460958,Engines,vip,\n")
    report = run_import("contacts", path, source_name="crm-export.csv")
    assert (report.created, report.updated) == (0, 1)
    stored.refresh_from_db()
    assert (stored.phone, stored.company.name, stored.title) == ("+442079460958", "Engines", "Countess")
    note = Interaction.objects.get(contact=stored)
    assert note.kind == InteractionKind.SYSTEM and "crm-export.csv" in note.subject
    assert AuditLog.objects.get(action="import.contacts").changes["updated"] == 1


@pytest.mark.django_db
def test_it_matches_by_external_id_before_email_and_keeps_a_new_email_as_other(tmp_path):
    stored = Contact.objects.create(first_name="Ada", email="old@example.com", external_id="C-1")
    path = write(tmp_path, "C-1,Ada,new@example.com\n", header="Customer ID,Name,Email\n")
    assert run_import("contacts", path).updated == 1
    stored.refresh_from_db()
    assert (stored.email, stored.other_emails) == ("old@example.com", ["new@example.com"])


@pytest.mark.django_db
def test_a_dry_run_counts_everything_and_writes_nothing(tmp_path):
    Contact.objects.create(first_name="Ada", email="ada@example.com")
    path = write(
        tmp_path, "Ada Lovelace,ada@example.com,,Engines,vip,\nNew Person,new@example.com,,,,\n,x,,,,\n"
    )
    report = run_import("contacts", path, dry_run=True)
    assert (report.dry_run, report.created, report.updated, report.rejected) == (True, 1, 1, 1)
    assert Contact.objects.count() == 1 and Contact.objects.get().last_name == ""
    assert not Company.objects.exists() and not Tag.objects.exists() and not AuditLog.objects.exists()


@pytest.mark.django_db
def test_a_crash_in_the_second_batch_leaves_only_whole_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "BATCH_SIZE", 3)
    real_write = ContactsKind.write
    calls = []

    def failing_write(self, batch):
        calls.append(len(batch))
        real_write(self, batch)
        if len(calls) == 2:
            raise RuntimeError("disk full")

    monkeypatch.setattr(ContactsKind, "write", failing_write)
    with pytest.raises(RuntimeError):
        run_import("contacts", write(tmp_path, many_rows(8)))
    assert Contact.objects.count() == 3  # the first batch; the second was rolled back entirely
    assert Contact.tags.through.objects.count() == 3


@pytest.mark.django_db
def test_it_sets_consent_with_its_source_when_the_file_says_yes(tmp_path):
    path = write(
        tmp_path, "Ada,ada@example.com,yes\nBob,bob@example.com,no\n", header="Name,Email,Accepts Marketing\n"
    )
    run_import("contacts", path, source_name="shop.csv")
    ada, bob = Contact.objects.get(email="ada@example.com"), Contact.objects.get(email="bob@example.com")
    assert ada.email_consent and ada.email_consent_at and ada.email_consent_source == "import: shop.csv"
    assert not bob.email_consent and bob.email_consent_at is None


@pytest.mark.django_db
def test_new_contacts_get_distinct_time_ordered_uuids_and_timestamps(tmp_path):
    run_import("contacts", write(tmp_path, many_rows(20)))
    rows = list(Contact.objects.values_list("uuid", "created_at", "updated_at"))
    assert len({key for key, _c, _u in rows}) == 20
    assert all(key.version == 7 and key.variant == uuid.RFC_4122 for key, _c, _u in rows)
    assert all(created is not None and created == updated for _k, created, updated in rows)


@pytest.mark.django_db
def test_it_links_companies_and_tags_once_each(tmp_path):
    run_import("contacts", write(tmp_path, many_rows(9)))
    assert Company.objects.count() == 3 and Tag.objects.count() == 2
    assert Contact.objects.filter(tags__name="t0").count() == 5


@pytest.mark.django_db
def test_script_in_a_name_is_stored_as_plain_text(tmp_path):
    path = write(
        tmp_path, '"<script>alert(1)</script>",x@example.com,,"<b>Co</b>",,"<img src=x onerror=alert(1)>"\n'
    )
    assert run_import("contacts", path).created == 1
    stored = Contact.objects.get()
    assert stored.first_name == "<script>alert(1)</script>"
    assert stored.company.name == "<b>Co</b>" and stored.notes == "<img src=x onerror=alert(1)>"


@pytest.mark.django_db
def test_overlong_values_are_warnings_with_the_text_kept_never_silently_cut(tmp_path):
    huge = "x" * 2_000_000
    path = write(tmp_path, f"{'A' * 150},a@example.com,,,,\nB,b@example.com,,,,{huge}\nC,c@example.com,,,,\n")
    report = run_import("contacts", path)
    assert (report.created, report.warned, report.rejected) == (3, 2, 0)
    assert [(w.line, w.column) for w in report.warnings] == [(2, "Name"), (3, "Notes")]
    assert "100" in report.warnings[0].reason and "65535" in report.warnings[1].reason
    assert Contact.objects.get(email="a@example.com").custom_fields == {"Name": "A" * 150}
    assert len(Contact.objects.get(email="b@example.com").notes) == 65535


@pytest.mark.django_db
def test_each_batch_uses_a_bounded_number_of_queries(tmp_path, monkeypatch, django_assert_max_num_queries):
    monkeypatch.setattr(runner, "BATCH_SIZE", 50)
    run_import("contacts", write(tmp_path, many_rows(50), name="first.csv"))
    path = write(tmp_path, many_rows(100), name="second.csv")  # 50 known (unchanged) + 50 new, 2 batches
    with django_assert_max_num_queries(2 * 14 + 4):
        report = run_import("contacts", path)
    assert (report.created, report.unchanged) == (50, 50)


@pytest.mark.django_db
def test_progress_is_reported_per_batch_and_at_the_end(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "BATCH_SIZE", 4)
    seen = []
    run_import(
        "contacts", write(tmp_path, many_rows(10)), progress=lambda done, total: seen.append((done, total))
    )
    assert seen[-1] == (10, 10)
    assert [done for done, _total in seen[:-1]] == [4, 8, 10]


@pytest.mark.django_db
def test_new_ids_are_read_back_right_after_deleted_contacts_left_a_gap(tmp_path):
    run_import("contacts", write(tmp_path, many_rows(30), name="first.csv"))
    Contact.objects.filter(email__in=[f"p{i}@example.com" for i in range(20, 30)]).delete()
    body = "".join(f"New {i},n{i}@example.com,,Firm {i % 3},new{i},\n" for i in range(25))
    assert run_import("contacts", write(tmp_path, body, name="second.csv")).created == 25
    for contact in Contact.objects.filter(email__startswith="n").prefetch_related("tags"):
        number = contact.email[1:].split("@")[0]
        assert [t.name for t in contact.tags.all()] == [f"new{number}"]


@pytest.mark.django_db
def test_a_key_shared_by_stored_contacts_matches_the_oldest_one(tmp_path):
    first = Contact.objects.create(first_name="Ada", phone="+12025550143")
    Contact.objects.create(first_name="Bea", phone="+12025550143")
    report = run_import("contacts", write(tmp_path, "Ada,,+12025550143,,vip,\n"))
    assert (report.created, report.updated) == (0, 1)
    assert list(first.tags.values_list("name", flat=True)) == ["vip"]


@pytest.mark.django_db(transaction=True)
def test_a_large_import_refreshes_the_planner_statistics_on_postgresql(tmp_path, monkeypatch):
    """Right after a big first import the planner must not still think the tables are empty."""
    from django.db import connection

    monkeypatch.setattr(runner, "ANALYZE_AFTER_ROWS", 50)
    analysed: list[str] = []
    real_execute = connection.cursor

    def spying_cursor(*args, **kwargs):
        cursor = real_execute(*args, **kwargs)
        execute = cursor.execute

        def record(sql, params=None):
            if sql.startswith("ANALYZE"):
                analysed.append(sql)
            return execute(sql, params)

        cursor.execute = record
        return cursor

    monkeypatch.setattr(connection, "cursor", spying_cursor)
    small = run_import("contacts", write(tmp_path, many_rows(49), name="small.csv"))
    assert small.created == 49 and analysed == []
    big = run_import("contacts", write(tmp_path, many_rows(120), name="big.csv"))
    assert big.created == 120 - 49
    if connection.vendor != "postgresql":
        assert analysed == []
        return
    assert analysed == ['ANALYZE "contacts_contact"', 'ANALYZE "contacts_contact_tags"']
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'contacts_contact'")
        assert cursor.fetchone()[0] == 120
