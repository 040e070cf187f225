"""POST /api/v1/imports (multipart upload) and GET /api/v1/imports/{uuid}."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from solocrm.contacts.models import Contact, ImportJob

pytest.importorskip("solocrm.contacts.importing")

URL = "/api/v1/imports"
CSV = b"First name,Last name,E-mail\nAda,Lovelace,ada@example.com\n,,not-an-email\n"


def _upload(client, content: bytes = CSV, name: str = "people.csv", **fields):
    data = {"file": SimpleUploadedFile(name, content, content_type="text/csv"), "kind": "contacts", **fields}
    return client.post(URL, data)


def test_an_upload_is_stored_under_a_random_name_and_imported(owner_client, owner, settings):
    response = _upload(owner_client, name="../../etc/people.csv")
    assert response.status_code == 202, response.content
    body = response.json()
    job = ImportJob.objects.get(uuid=body["uuid"])
    assert job.created_by == owner
    assert job.stored_path.startswith(str(settings.SOLOCRM_IMPORT_DIR))
    assert "people" not in job.stored_path and job.stored_path.endswith(".csv")
    assert body["status"] == "done", body
    assert body["report"]["created"] == 1
    assert body["report"]["rejected"] == 1
    assert "rejected_path" not in body["report"]
    assert Contact.objects.filter(email="ada@example.com").exists()


def test_the_job_is_polled_by_uuid(owner_client):
    job_id = _upload(owner_client).json()["uuid"]
    body = owner_client.get(f"{URL}/{job_id}").json()
    assert (body["status"], body["progress"], body["rows_done"]) == ("done", 100, 2)
    assert owner_client.get(URL).json()["count"] == 1


def test_a_dry_run_writes_nothing(owner_client):
    body = _upload(owner_client, dry_run="true").json()
    assert body["dry_run"] is True
    assert body["report"]["created"] == 1
    assert not Contact.objects.exists()


def test_a_file_that_cannot_be_read_fails_the_job_with_a_reason(owner_client):
    body = _upload(owner_client, content=b"\x00\x01\x02" * 100, name="junk.xlsx").json()
    assert body["status"] == "failed"
    assert body["error"]


def test_a_file_over_the_limit_is_a_413(owner_client, settings):
    settings.SOLOCRM_MAX_IMPORT_BYTES = 10
    response = _upload(owner_client)
    assert response.status_code == 413
    assert not ImportJob.objects.exists()


def test_an_unknown_kind_is_a_422(owner_client):
    response = _upload(owner_client, kind="spaceships")
    assert response.status_code == 422
    assert any("kind" in error["loc"] for error in response.json()["detail"])


def test_a_missing_file_is_a_422(owner_client):
    assert owner_client.post(URL, {"kind": "contacts"}).status_code == 422


def test_a_viewer_may_not_import_but_may_watch(viewer_client, owner):
    job = ImportJob.objects.create(
        kind="contacts", original_name="x.csv", stored_path="/nowhere", created_by=owner
    )
    assert _upload(viewer_client).status_code == 403
    assert viewer_client.get(f"{URL}/{job.uuid}").status_code == 200


def test_the_assistant_may_import(assistant_client):
    assert _upload(assistant_client).status_code == 202


def test_a_stranger_gets_401(client, db):
    assert _upload(client).status_code == 401
    assert client.get(URL).status_code == 401
