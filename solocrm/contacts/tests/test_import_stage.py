"""The lifecycle stage of imported contacts: from a column, else the stage chosen for the import
(prospect unless told otherwise), so that an import does not flood Today with "new leads"."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from solocrm.contacts.importing import ImportFileError, run_import
from solocrm.contacts.importing.jobs import run_job
from solocrm.contacts.models import Contact, ImportJob
from solocrm.sales.leadforms.services import leads_waiting_for_reply

pytestmark = pytest.mark.django_db

PEOPLE = "Name,Email,Stage\nAda Lovelace,ada@example.com,\nGrace Hopper,grace@example.com,customer\n"


def write(tmp_path: Path, text: str = PEOPLE) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    return path


def stages() -> dict[str, str]:
    return dict(Contact.objects.values_list("email", "lifecycle_stage"))


def test_imported_people_are_prospects_unless_their_row_says_otherwise(tmp_path):
    run_import("contacts", write(tmp_path))
    assert stages() == {"ada@example.com": "prospect", "grace@example.com": "customer"}
    assert leads_waiting_for_reply() == []  # nobody imported waits for a reply on Today


def test_an_import_of_leads_puts_them_on_today(tmp_path):
    run_import("contacts", write(tmp_path), stage="lead")
    assert stages() == {"ada@example.com": "lead", "grace@example.com": "customer"}
    assert [c.email for c in leads_waiting_for_reply()] == ["ada@example.com"]


def test_the_default_stage_never_changes_a_stored_contact(tmp_path):
    Contact.objects.create(first_name="Ada", email="ada@example.com", lifecycle_stage="repeat")
    run_import("contacts", write(tmp_path), stage="lead")
    assert stages()["ada@example.com"] == "repeat"


def test_an_unknown_stage_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="Unknown lifecycle stage “vip”"):
        run_import("contacts", write(tmp_path), stage="vip")
    assert not Contact.objects.exists()


def test_the_command_takes_a_stage(tmp_path):
    call_command("import", "contacts", str(write(tmp_path)), "--stage", "dormant", stdout=io.StringIO())
    assert stages() == {"ada@example.com": "dormant", "grace@example.com": "customer"}


def test_the_upload_form_keeps_the_chosen_stage(owner_client):
    upload = SimpleUploadedFile("people.csv", PEOPLE.encode(), "text/csv")
    page = owner_client.get("/contacts/import/").content.decode()
    assert 'name="stage"' in page and '<option value="prospect" selected>' in page
    owner_client.post("/contacts/import/", {"kind": "contacts", "file": upload, "stage": "lead"})
    job = ImportJob.objects.get()
    assert job.stage == "lead"
    run_job(job)
    assert stages() == {"ada@example.com": "lead", "grace@example.com": "customer"}


def test_the_api_takes_a_stage_and_defaults_to_prospect(owner_client):
    for name, fields, expected in (("a.csv", {}, "prospect"), ("b.csv", {"stage": "lead"}, "lead")):
        text = PEOPLE.replace("ada@", f"ada-{expected}@")
        data = {"file": SimpleUploadedFile(name, text.encode(), "text/csv"), "kind": "contacts", **fields}
        response = owner_client.post("/api/v1/imports", data)
        assert response.status_code == 202, response.content
        assert response.json()["stage"] == expected
        assert stages()[f"ada-{expected}@example.com"] == expected
    bad = {"file": SimpleUploadedFile("c.csv", PEOPLE.encode(), "text/csv"), "kind": "contacts", "stage": "x"}
    assert owner_client.post("/api/v1/imports", bad).status_code == 422
