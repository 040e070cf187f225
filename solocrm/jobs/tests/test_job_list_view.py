"""The job page: who sees it, who may cancel, htmx polling, and no N+1."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from solocrm.jobs.choices import JobStatus
from solocrm.jobs.models import Job
from solocrm.jobs.tests import kinds

pytestmark = pytest.mark.django_db
LIST = reverse("jobs:list")


def _job(handler=kinds.cooperative, **fields) -> Job:
    kind = handler.job_kind
    values = {"kind": kind.name, "handler": kind.path, "time_limit": 60, "title": "Import contacts: a.csv"}
    values.update(fields)
    return Job.objects.create(**values)


def _cancel_url(job: Job) -> str:
    return reverse("jobs:cancel", args=[job.uuid])


def test_the_owner_sees_each_job_with_its_progress_and_a_cancel_button(owner_client):
    running = _job(status=JobStatus.RUNNING, step="rows", done=30, total=120)
    _job(kinds.adds, status=JobStatus.FAILED, title="Analytics refresh", message="The job ran too long.")
    page = owner_client.get(LIST).content.decode()
    assert "Import contacts: a.csv" in page and "30 / 120" in page and 'value="25"' in page
    assert "Analytics refresh" in page and "The job ran too long." in page
    assert page.count('action="/jobs/') == 1 and _cancel_url(running) in page  # only the running one
    assert 'hx-trigger="every 2s"' in page  # polled while something runs


def test_a_page_without_running_jobs_does_not_poll(owner_client):
    _job(status=JobStatus.DONE)
    assert "hx-trigger" not in owner_client.get(LIST).content.decode()


def test_the_htmx_poll_gets_only_the_table(owner_client):
    _job(status=JobStatus.RUNNING)
    response = owner_client.get(LIST, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="job-table"') and "<html" not in page
    assert "HX-Request" in response["Vary"]


def test_the_owner_cancels_a_queued_job_from_the_page(owner_client):
    job = _job()
    response = owner_client.post(_cancel_url(job), follow=True)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and "Cancelling" in response.content.decode()


def test_an_assistant_may_cancel_a_running_job(assistant_client):
    job = _job(status=JobStatus.RUNNING)
    assert assistant_client.post(_cancel_url(job)).status_code == 302
    assert Job.objects.get(pk=job.pk).cancel_requested


def test_a_viewer_sees_the_jobs_but_no_cancel_button_and_may_not_cancel(viewer_client):
    job = _job(status=JobStatus.RUNNING)
    page = viewer_client.get(LIST).content.decode()
    assert "Import contacts: a.csv" in page and _cancel_url(job) not in page
    assert viewer_client.post(_cancel_url(job)).status_code == 403
    assert not Job.objects.get(pk=job.pk).cancel_requested


def test_the_stranger_is_sent_to_log_in_and_cancels_nothing(client, owner):
    job = _job(status=JobStatus.RUNNING)
    assert client.get(LIST)["Location"].startswith("/accounts/login/")
    assert client.post(_cancel_url(job))["Location"].startswith("/accounts/login/")
    assert not Job.objects.get(pk=job.pk).cancel_requested


def test_cancelling_needs_a_post_and_an_unknown_job_is_a_404(owner_client):
    job = _job()
    assert owner_client.get(_cancel_url(job)).status_code == 405
    assert (
        owner_client.post(reverse("jobs:cancel", args=["0" * 8 + "-0000-7000-8000-" + "0" * 12])).status_code
        == 404
    )


def test_an_ended_job_cannot_be_cancelled_again(owner_client):
    job = _job(status=JobStatus.DONE)
    response = owner_client.post(_cancel_url(job), follow=True)
    assert "had already ended" in response.content.decode()
    assert Job.objects.get(pk=job.pk).status == JobStatus.DONE


def test_the_page_costs_the_same_queries_for_many_jobs(owner_client, owner):
    _job(created_by=owner)
    owner_client.get(LIST)  # the session's first request loads what later ones reuse
    with CaptureQueriesContext(connection) as few:
        owner_client.get(LIST)
    for _ in range(20):
        _job(created_by=owner, status=JobStatus.RUNNING)
    with CaptureQueriesContext(connection) as many:
        owner_client.get(LIST)
    assert len(many) == len(few)


def test_a_cancel_never_sends_the_browser_to_another_site(owner_client):
    job = _job()
    response = owner_client.post(_cancel_url(job), {"next": "https://evil.example/"})
    assert response["Location"] == LIST
