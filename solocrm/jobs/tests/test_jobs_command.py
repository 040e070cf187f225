"""`solocrm jobs list` and `solocrm jobs cancel ID`."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from solocrm.jobs.choices import JobStatus
from solocrm.jobs.models import Job
from solocrm.jobs.tests import kinds

pytestmark = pytest.mark.django_db


def _job(**fields) -> Job:
    kind = kinds.cooperative.job_kind
    values = {"kind": kind.name, "handler": kind.path, "time_limit": 60, "title": "Analytics refresh"}
    values.update(fields)
    return Job.objects.create(**values)


def run(*args: str) -> str:
    out = StringIO()
    call_command("jobs", *args, stdout=out)
    return out.getvalue()


def test_list_shows_a_table_of_the_recent_jobs():
    job = _job(status=JobStatus.RUNNING, step="clv", done=3, total=12)
    text = run("list")
    assert str(job.uuid) in text and "Analytics refresh" in text and "Running" in text and "25 %" in text


def test_list_as_json_and_only_the_active_ones():
    running = _job(status=JobStatus.RUNNING)
    _job(status=JobStatus.DONE)
    lines = [json.loads(line) for line in run("list", "--active", "--json").splitlines()]
    assert [line["id"] for line in lines] == [str(running.uuid)]
    assert lines[0]["status"] == "running" and lines[0]["kind"] == "test.cooperative"


def test_list_says_when_there_is_nothing():
    assert "No background jobs yet" in run("list")


def test_cancel_stops_a_queued_job_at_once():
    job = _job()
    assert "Cancelled" in run("cancel", str(job.uuid))
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED


def test_cancel_asks_the_worker_of_a_running_job():
    job = _job(status=JobStatus.RUNNING)
    assert "Stopping" in run("cancel", str(job.uuid))
    assert Job.objects.get(pk=job.pk).cancel_requested


@pytest.mark.parametrize("ident", ["nope", "0190a6e4-0000-7000-8000-000000000000"])
def test_cancel_of_an_unknown_job_says_so(ident):
    with pytest.raises(CommandError, match="There is no job"):
        run("cancel", ident)


def test_cancel_of_an_ended_job_says_so():
    job = _job(status=JobStatus.DONE)
    with pytest.raises(CommandError, match="already ended"):
        run("cancel", str(job.uuid))
