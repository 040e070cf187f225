"""run_job / start_job drive an uploaded ImportJob to DONE or FAILED."""

from pathlib import Path

import pytest

from solocrm.contacts.choices import ImportStatus
from solocrm.contacts.importing.jobs import run_job, start_job
from solocrm.contacts.models import Contact, ImportJob

FIXTURES = Path(__file__).parent / "fixtures"


def job_for(path: Path, owner, **extra) -> ImportJob:
    return ImportJob.objects.create(
        kind="contacts", original_name="my contacts.csv", stored_path=str(path), created_by=owner, **extra
    )


@pytest.mark.django_db
def test_run_job_imports_and_stores_the_report(owner):
    job = run_job(job_for(FIXTURES / "google_contacts.csv", owner))
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.finished_at is not None
    assert (job.rows_done, job.rows_total, job.percent) == (3, 3, 100)
    assert job.report["created"] == 3 and job.report["layout"] == "google"
    assert Contact.objects.count() == 3


@pytest.mark.django_db
def test_run_job_uses_the_jobs_mapping_and_dry_run_flag(owner, tmp_path):
    path = tmp_path / "upload.bin"
    path.write_text("Who,Mail\nAda,ada@example.com\n")
    job = run_job(job_for(path, owner, mapping={"Who": "full_name", "Mail": "email"}, dry_run=True))
    assert job.status == ImportStatus.DONE and job.report["created"] == 1 and job.report["dry_run"]
    assert Contact.objects.count() == 0


@pytest.mark.django_db
def test_a_bad_file_marks_the_job_failed_with_the_reason(owner, tmp_path):
    path = tmp_path / "upload.bin"
    path.write_bytes(b"")
    start_job(job_for(path, owner))  # inline in tests (SOLOCRM_JOBS_INLINE)
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED and "empty" in job.error and job.finished_at is not None
