"""The Job model's percent and active state, as the job page and the API show them."""

import pytest

from solocrm.jobs.choices import JobStatus
from solocrm.jobs.models import Job


@pytest.mark.parametrize(
    ("status", "done", "total", "percent"),
    [
        (JobStatus.RUNNING, 0, None, 0),
        (JobStatus.RUNNING, 25, 100, 25),
        (JobStatus.RUNNING, 150, 100, 100),
        (JobStatus.DONE, 0, None, 100),
        (JobStatus.FAILED, 3, 10, 30),
    ],
)
def test_the_percent_follows_done_and_total_and_a_done_job_is_complete(status, done, total, percent):
    assert Job(status=status, done=done, total=total, time_limit=1).percent == percent


def test_only_queued_and_running_jobs_are_active():
    active = {status for status in JobStatus if Job(status=status, time_limit=1).is_active}
    assert active == {JobStatus.QUEUED, JobStatus.RUNNING}


@pytest.mark.django_db
def test_a_job_has_a_uuid_and_the_newest_comes_first():
    first = Job.objects.create(kind="a", handler="x.y", time_limit=1)
    second = Job.objects.create(kind="b", handler="x.y", time_limit=1)
    assert list(Job.objects.all()) == [second, first] and first.uuid != second.uuid
