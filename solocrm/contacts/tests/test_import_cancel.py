"""A crafted import that never ends, run by a real `solocrm worker`, is cancelled from the job
page and from the command line; the import pages then show it ended, with why.

The workbook's rows are empty but each holds a cell in column XFD, so the reader pads every row
to 16,384 cells and finds nothing to import: it never calls the progress callback. The reader's
cell and time limits (which would refuse it) are raised for the worker, so it spins for minutes."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse
from openpyxl import Workbook

from solocrm.contacts.choices import ImportStatus
from solocrm.contacts.importing.jobs import start_job
from solocrm.contacts.models import Contact, ImportJob
from solocrm.jobs.choices import JobStatus
from solocrm.jobs.models import Job
from solocrm.jobs.tests.workers import Workers, alive, running_its_handler, status

# The worker is another process: what the test writes must be committed for it to see it.
pytestmark = [pytest.mark.django_db(transaction=True)]


def crafted_xlsx(path: Path) -> Path:
    book = Workbook()
    book.active["A1"] = "email"
    plain = path.with_suffix(".plain.xlsx")
    book.save(plain)
    empty_rows = "".join(f'<row r="{n}"><c r="XFD{n}"/></row>' for n in range(2, 300_000))
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as crafted:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"/>', b"", data)
                data = data.replace(b"</row>", b"</row>" + empty_rows.encode(), 1)
            crafted.writestr(item, data)
    return path


@pytest.fixture
def spinning_import(owner, workers, monkeypatch) -> tuple[ImportJob, Job]:
    """The crafted import, queued, then picked up by a worker and spinning."""
    monkeypatch.setenv("SOLOCRM_XLSX_MAX_CELLS", str(10**15))  # read by the worker's settings
    monkeypatch.setenv("SOLOCRM_XLSX_MAX_SECONDS", str(10**6))
    folder = Path(django_settings.SOLOCRM_IMPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = crafted_xlsx(folder / "spin.xlsx")
    upload = ImportJob.objects.create(kind="contacts", original_name="spin.xlsx", stored_path=str(path))
    upload.created_by = owner
    upload.save()
    start_job(upload)
    upload.refresh_from_db()
    workers.start()
    workers.wait_for(lambda: running_its_handler(upload.job), "the import to start")
    return upload, upload.job


def _assert_cancelled(upload: ImportJob, job: Job, workers: Workers) -> None:
    workers.wait_for(lambda: status(job) == JobStatus.CANCELLED, "the import to be cancelled")
    job.refresh_from_db()
    upload.refresh_from_db()
    assert job.message == "Cancelled." and job.finished_at is not None
    assert upload.status == ImportStatus.FAILED and upload.error == "Cancelled."
    assert "did not stop by itself: ending its process" in workers.logs()  # it never saw the cancel
    workers.wait_for(lambda: not alive(job.pid), "the import's process to be gone")
    assert not Contact.objects.exists()


def test_a_never_ending_import_is_cancelled_from_the_job_page(spinning_import, workers, owner, client):
    upload, job = spinning_import
    client.force_login(owner)
    cancel = reverse("jobs:cancel", args=[job.uuid])
    assert cancel in client.get(reverse("jobs:list")).content.decode()
    client.post(cancel)
    _assert_cancelled(upload, job, workers)
    page = client.get(reverse("contacts:import_progress", args=[upload.uuid]), follow=True).content.decode()
    assert "Cancelled." in page


def test_a_never_ending_import_is_cancelled_from_the_command_line(spinning_import, workers):
    upload, job = spinning_import
    with open(os.devnull, "w") as quiet:
        call_command("jobs", "cancel", str(job.uuid), stdout=quiet)
    _assert_cancelled(upload, job, workers)
