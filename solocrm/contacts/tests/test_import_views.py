"""The import screens: upload, preview with the column mapping, progress, report, rejected rows."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from solocrm.contacts.models import Contact, ImportJob

pytestmark = pytest.mark.django_db

UPLOAD = "/contacts/import/"
HTMX = {"HX-Request": "true"}

CSV = (
    "First Name,Last Name,E-mail,Phone,Company\n"
    "Ada,Lovelace,ada@example.com,+44 20 7946 0958,Analytical Engines\n"
    "Grace,Hopper,grace@example.com,,Navy\n"
    "Bad,Row,not-an-email,,\n"
    ",,nobody-at-all,,\n"
)


def _upload(client, content: str = CSV, name: str = "people.csv", **fields):
    data = {"kind": "contacts", "file": SimpleUploadedFile(name, content.encode(), "text/csv")} | fields
    return client.post(UPLOAD, data)


def _job(**fields) -> ImportJob:
    values = {"kind": "contacts", "original_name": "people.csv", "stored_path": "/nowhere.csv"} | fields
    return ImportJob.objects.create(**values)


def _url(name: str, job: ImportJob) -> str:
    return reverse(f"contacts:{name}", args=[job.uuid])


# --- upload ---------------------------------------------------------------------------------------


def test_the_stranger_is_sent_to_login(client, owner):
    assert client.get(UPLOAD)["Location"] == "/accounts/login/?next=/contacts/import/"


def test_a_viewer_may_not_upload(viewer_client):
    assert viewer_client.get(UPLOAD).status_code == 403
    assert _upload(viewer_client).status_code == 403
    assert not ImportJob.objects.exists()


def test_an_upload_is_stored_under_a_random_name_and_previewed(assistant_client, assistant, settings):
    response = _upload(assistant_client, name="../../etc/people.csv")
    job = ImportJob.objects.get()
    assert response["Location"] == _url("import_preview", job)
    stored = Path(job.stored_path)
    assert stored.parent == Path(settings.SOLOCRM_IMPORT_DIR)
    assert stored.suffix == ".csv" and "people" not in stored.name
    assert stored.read_text() == CSV
    assert (job.original_name, job.kind, job.dry_run, job.created_by) == (
        "people.csv",
        "contacts",
        False,
        assistant,
    )


def test_a_file_over_the_size_limit_is_refused_clearly(owner_client, settings):
    settings.SOLOCRM_MAX_IMPORT_BYTES = 100
    response = _upload(owner_client)
    error = response.context["form"].errors["file"][0]
    assert "largest file this server accepts is 100" in error
    assert not ImportJob.objects.exists()
    folder = Path(settings.SOLOCRM_IMPORT_DIR)
    assert not folder.exists() or not any(folder.iterdir())  # nothing kept of the refused file


def test_an_empty_file_or_unknown_kind_is_refused(owner_client):
    assert "file" in _upload(owner_client, content="").context["form"].errors
    assert "kind" in _upload(owner_client, kind="spaceships").context["form"].errors
    assert not ImportJob.objects.exists()


# --- preview, mapping, run ------------------------------------------------------------------------


def test_the_preview_shows_format_mapping_and_normalised_rows(owner_client):
    _upload(owner_client)
    job = ImportJob.objects.get()
    response = owner_client.get(_url("import_preview", job))
    page = response.content.decode()
    assert response.context["preview"].format == "csv"
    assert "First Name" in page and "<select" in page
    assert "ada@example.com" in page and "+442079460958" in page  # normalised
    assert "not-an-email" in page and "nobody-at-all" in page  # warnings and errors with reasons
    warnings, errors = response.context["preview"].warnings, response.context["preview"].errors
    assert [(w.line, w.column) for w in warnings] == [(4, "E-mail")]
    assert [e.line for e in errors] == [5, 5]
    assert "Run import" in page


def test_changing_the_mapping_is_kept_and_applied(owner_client):
    _upload(owner_client)
    job = ImportJob.objects.get()
    form = owner_client.get(_url("import_preview", job)).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    phone_column = form.headers.index("Phone")
    data[f"col_{phone_column}"] = ""  # ignore the phone column
    response = owner_client.post(_url("import_preview", job), data | {"apply": "1"})
    assert response["Location"] == _url("import_preview", job)
    job.refresh_from_db()
    assert job.mapping["Phone"] == "" and job.mapping["E-mail"] == "email"
    assert "+442079460958" not in owner_client.get(_url("import_preview", job)).content.decode()


def test_two_columns_cannot_go_to_the_same_field(owner_client):
    _upload(owner_client)
    job = ImportJob.objects.get()
    form = owner_client.get(_url("import_preview", job)).context["form"]
    data = {f"col_{i}": "email" for i in range(len(form.headers))}
    response = owner_client.post(_url("import_preview", job), data | {"run": "1"})
    assert "Another column already goes to this field" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "uploaded" and not Contact.objects.exists()


def _run(client) -> ImportJob:
    job = ImportJob.objects.latest("created_at")
    form = client.get(_url("import_preview", job)).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    response = client.post(_url("import_preview", job), data | {"run": "1"})
    assert response["Location"] == _url("import_progress", job)
    job.refresh_from_db()
    return job


def test_running_the_import_ends_on_the_report(owner_client):
    _upload(owner_client)
    job = _run(owner_client)
    assert job.status == "done"
    assert Contact.objects.count() == 3
    response = owner_client.get(_url("import_progress", job), follow=True)
    assert response.redirect_chain[-1][0] == _url("import_report", job)
    page = response.content.decode()
    report = response.context["report"]
    assert (report["created"], report["warned"], report["rejected"]) == (3, 1, 1)
    assert "Rejected rows" in page and "nobody-at-all" in page
    warnings = page[page.index('id="import-warnings"') :]
    assert "Imported with warnings" in warnings and "not-an-email" in warnings
    assert "Encoding utf-8" in page
    assert _url("import_rejected", job) in page


def test_the_rejected_rows_download_to_anyone_who_may_view(owner_client, viewer):
    _upload(owner_client)
    job = _run(owner_client)
    owner_client.force_login(viewer)
    response = owner_client.get(_url("import_rejected", job))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="people-rejected.csv"'
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "nobody-at-all" in body and "not-an-email" not in body and "Ada" not in body


def test_a_dry_run_changes_nothing_and_says_so(owner_client):
    _upload(owner_client, dry_run="on")
    job = _run(owner_client)
    assert job.dry_run and job.status == "done"
    assert not Contact.objects.exists()
    page = owner_client.get(_url("import_report", job)).content.decode()
    assert "Dry run report" in page and "Nothing was written" in page


def test_an_unreadable_file_is_explained_on_the_preview(owner_client):
    _upload(owner_client, content="\x00\x01\x02garbage" * 50, name="photo.xlsx")
    job = ImportJob.objects.get()
    response = owner_client.get(_url("import_preview", job))
    assert response.status_code == 200
    assert response.context["file_error"]
    assert response.context["file_error"] in response.content.decode()


def test_a_started_job_cannot_be_previewed_or_run_again(owner_client):
    _upload(owner_client)
    job = _run(owner_client)
    assert owner_client.get(_url("import_preview", job))["Location"] == _url("import_progress", job)


def test_a_viewer_may_not_preview_or_run(viewer_client):
    job = _job()
    assert viewer_client.get(_url("import_preview", job)).status_code == 403
    assert viewer_client.post(_url("import_preview", job), {"run": "1"}).status_code == 403


# --- progress and report of jobs in every state (no importer needed) ----------------------------


def test_progress_of_a_running_job_polls_and_works_without_javascript(viewer_client):
    job = _job(status="running", rows_done=250, rows_total=1000)
    page = viewer_client.get(_url("import_progress", job)).content.decode()
    assert '<progress id="import-bar" max="100" value="25">' in page
    assert '<noscript><meta http-equiv="refresh"' in page
    assert 'hx-trigger="every 1s"' in page
    fragment = viewer_client.get(_url("import_progress", job), headers=HTMX)
    assert "<html" not in fragment.content.decode() and "250 of 1,000 rows" in fragment.content.decode()


def test_the_poll_sends_the_browser_to_the_report_when_done(viewer_client):
    job = _job(status="done", report={"created": 1})
    response = viewer_client.get(_url("import_progress", job), headers=HTMX)
    assert response["HX-Redirect"] == _url("import_report", job)
    assert viewer_client.get(_url("import_progress", job))["Location"] == _url("import_report", job)


def test_the_report_of_an_unfinished_job_goes_back_to_progress(viewer_client):
    job = _job(status="running")
    assert viewer_client.get(_url("import_report", job))["Location"] == _url("import_progress", job)


def test_a_failed_job_shows_its_reason(viewer_client):
    job = _job(status="failed", error="The file is not UTF-8, GB18030 or Latin-1 text.")
    page = viewer_client.get(_url("import_report", job)).content.decode()
    assert "The import failed" in page and "not UTF-8, GB18030" in page


def test_the_report_escapes_what_came_from_the_file(viewer_client):
    errors = [{"line": 2, "column": "<b>col</b>", "reason": "<script>alert(1)</script>"}]
    job = _job(status="done", original_name="<i>x</i>.csv", report={"rejected": 1, "errors": errors})
    page = viewer_client.get(_url("import_report", job)).content.decode()
    assert "<script>alert(1)</script>" not in page and "<b>col</b>" not in page and "<i>x</i>" not in page


def test_a_rejected_file_outside_the_import_folder_is_never_served(viewer_client, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("password")
    job = _job(status="done", report={"rejected": 1, "rejected_path": str(secret)})
    assert viewer_client.get(_url("import_rejected", job)).status_code == 404
    job.report = {"rejected_path": "../secret_key"}
    job.save()
    assert viewer_client.get(_url("import_rejected", job)).status_code == 404


def test_the_stranger_gets_no_report_or_rejected_rows(client, owner):
    job = _job(status="done", report={"created": 1})
    for name in ("import_progress", "import_report", "import_rejected"):
        assert client.get(_url(name, job))["Location"].startswith("/accounts/login/")


def test_a_running_import_offers_the_editor_a_cancel_that_comes_back_here(owner_client, viewer):
    from django.test import Client

    from solocrm.jobs.models import Job

    viewer_client = Client()
    viewer_client.force_login(viewer)
    running = Job.objects.create(kind="contacts.import", handler="x.y", status="running", time_limit=60)
    job = _job(status="running", job=running)
    cancel = reverse("jobs:cancel", args=[running.uuid])
    assert cancel in owner_client.get(_url("import_progress", job)).content.decode()
    assert cancel not in viewer_client.get(_url("import_progress", job)).content.decode()
    response = owner_client.post(cancel, {"next": _url("import_progress", job)})
    assert response["Location"] == _url("import_progress", job)
    assert Job.objects.get(pk=running.pk).cancel_requested


def test_the_upload_form_takes_a_phone_region_and_an_encoding(owner_client):
    legacy = "Name,Phone\nJürgen Müller,030 1234567\n"
    data = {
        "kind": "contacts",
        "file": SimpleUploadedFile("alt.csv", legacy.encode("cp1252"), "text/csv"),
        "region": "de",
        "encoding": "Windows-1252",
    }
    owner_client.post(UPLOAD, data)
    job = ImportJob.objects.get()
    assert (job.region, job.encoding) == ("DE", "cp1252")
    page = owner_client.get(_url("import_preview", job)).content.decode()
    assert "cp1252" in page and "+49301234567" in page and "Müller" in page
    bad = owner_client.post(UPLOAD, data | {"region": "Atlantis", "encoding": "klingon"})
    assert bad.status_code == 200 and ImportJob.objects.count() == 1
    errors = bad.context["form"].errors
    assert "region" in errors and "encoding" in errors
