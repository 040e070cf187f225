"""The audit log's hash chain: `solocrm audit verify` passes on the log as written and names the
first entry changed or following one removed; log-ins and log-outs are in it."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import call_command

from solocrm.contacts.models import Contact
from solocrm.users import audit
from solocrm.users.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries(owner):
    ada = Contact.objects.create(first_name="Ada", email="ada@example.com")
    return [
        AuditLog.record(owner, "create", ada, "Ada Lovelace", {"email": "ada@example.com"}),
        AuditLog.record(owner, "update", ada, "Ada", {"city": ["", "London"]}),
        AuditLog.record(None, "import", None, "customers.csv: 120 rows"),
        AuditLog.record(owner, "delete", ada, "Ada Lovelace"),
    ]


def test_each_entry_carries_the_hash_of_the_one_before(entries):
    assert entries[0].prev_hash == ""
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.entry_hash and len(after.entry_hash) == 64
    assert audit.verify() == (4, None)
    assert entries[0].actor_name == "olivia"


def test_verify_passes_then_names_an_edited_entry(entries, capsys):
    call_command("audit", "verify")
    assert "4 entries checked" in capsys.readouterr().out
    AuditLog.objects.filter(pk=entries[1].pk).update(summary="nothing to see")
    with pytest.raises(SystemExit) as stop:
        call_command("audit", "verify")
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert f"entry {entries[1].pk}:" in err and "changed after it was written" in err


def test_verify_names_the_entry_after_a_deleted_one(entries):
    AuditLog.objects.filter(pk=entries[2].pk).delete()
    checked, broken = audit.verify()
    assert checked == 2 and broken.entry_id == entries[3].pk
    assert "changed or removed" in broken.reason


def test_a_changed_date_or_actor_breaks_the_chain_too(entries, assistant):
    AuditLog.objects.filter(pk=entries[0].pk).update(actor=assistant)
    assert audit.verify()[1].entry_id == entries[0].pk


def test_log_ins_failed_log_ins_and_log_outs_are_recorded(client, owner):
    client.post("/accounts/login/", {"username": "olivia", "password": "wrong"})
    client.post("/accounts/login/", {"username": "olivia", "password": "correct-horse-9"})
    client.post("/accounts/logout/")
    actions = list(AuditLog.objects.order_by("pk").values_list("action", "actor_name"))
    assert actions == [("login_failed", ""), ("login", "olivia"), ("logout", "olivia")]
    failed = AuditLog.objects.get(action="login_failed")
    assert "'olivia'" in failed.summary and "wrong" not in failed.summary
    assert audit.verify()[1] is None


def test_audit_list_filters_by_user_and_action(entries, capsys):
    call_command("audit", "list", "--action", "delete", "--json")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and '"action": "delete"' in lines[0]


def test_the_owner_reads_filters_and_exports_the_log_and_nobody_else_may(client, entries, owner, assistant):
    client.force_login(assistant)
    assert client.get("/settings/audit/").status_code == 403
    assert client.get("/api/v1/audit").status_code == 403
    client.force_login(owner)
    page = client.get("/settings/audit/", {"action": "update"})
    assert page.status_code == 200
    assert b"Ada" in page.content and b"customers.csv" not in page.content
    api = client.get("/api/v1/audit", {"action": "import"}).json()
    assert [item["summary"] for item in api["items"]] == ["customers.csv: 120 rows"]
    exported = b"".join(client.get("/settings/audit/", {"format": "csv"}).streaming_content).decode()
    assert exported.startswith("id,at,user,action") and exported.count("\n") == 1 + 4 + 1  # its own entry too
    assert AuditLog.objects.filter(action="export").exists()  # the export itself is in the log
    assert audit.verify()[1] is None


def test_a_bad_date_in_the_filters_is_ignored_not_a_500(client, owner, entries):
    client.force_login(owner)
    assert client.get("/settings/audit/", {"since": "yesterday", "page": "x"}).status_code == 200
    assert client.get("/api/v1/audit", {"since": "yesterday"}).status_code == 422
