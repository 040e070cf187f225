"""GET /api/v1/jobs, GET /api/v1/jobs/{uuid}, POST /api/v1/jobs/{uuid}/cancel."""

from __future__ import annotations

import pytest

from solocrm.jobs.choices import JobStatus
from solocrm.jobs.models import Job
from solocrm.jobs.tests import kinds
from solocrm.users.models import ApiToken

pytestmark = pytest.mark.django_db
API = "/api/v1/jobs"


def _job(**fields) -> Job:
    kind = kinds.cooperative.job_kind
    values = {"kind": kind.name, "handler": kind.path, "time_limit": 60, "title": "Analytics refresh"}
    values.update(fields)
    return Job.objects.create(**values)


def _auth(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {ApiToken.issue(user, 'test')[1]}"}


def test_the_owner_lists_the_jobs_newest_first_with_their_progress(client, owner):
    older = _job(status=JobStatus.DONE)
    newer = _job(status=JobStatus.RUNNING, step="clv", done=3, total=12)
    body = client.get(API, headers=_auth(owner)).json()
    assert body["count"] == 2 and [item["uuid"] for item in body["items"]] == [
        str(newer.uuid),
        str(older.uuid),
    ]
    assert body["items"][0]["progress"] == 25 and body["items"][0]["step"] == "clv"


def test_one_job_is_read_by_its_uuid_and_an_unknown_one_is_a_404(client, viewer):
    job = _job(
        status=JobStatus.FAILED, message="The job ran longer than its time limit (1 hour) and was stopped."
    )
    body = client.get(f"{API}/{job.uuid}", headers=_auth(viewer)).json()
    assert body["status"] == "failed" and "time limit" in body["message"]
    assert client.get(f"{API}/0190a6e4-0000-7000-8000-000000000000", headers=_auth(viewer)).status_code == 404


def test_an_assistant_cancels_a_running_job(client, assistant):
    job = _job(status=JobStatus.RUNNING)
    response = client.post(f"{API}/{job.uuid}/cancel", headers=_auth(assistant))
    assert response.status_code == 200 and response.json()["cancel_requested"] is True


def test_a_queued_job_is_cancelled_at_once_and_an_ended_one_is_a_409(client, owner):
    job = _job()
    assert client.post(f"{API}/{job.uuid}/cancel", headers=_auth(owner)).json()["status"] == "cancelled"
    assert client.post(f"{API}/{job.uuid}/cancel", headers=_auth(owner)).status_code == 409


def test_a_viewer_may_not_cancel_and_a_stranger_gets_nothing(client, viewer):
    job = _job(status=JobStatus.RUNNING)
    assert client.post(f"{API}/{job.uuid}/cancel", headers=_auth(viewer)).status_code == 403
    assert client.get(API).status_code == 401
    assert not Job.objects.get(pk=job.pk).cancel_requested


def test_a_page_past_any_real_list_is_refused_not_a_server_error(client, owner):
    assert client.get(f"{API}?offset=39342389422138007552", headers=_auth(owner)).status_code == 422
