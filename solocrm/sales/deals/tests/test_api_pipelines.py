"""The /api/v1/pipelines and /api/v1/stages endpoints, and GET /api/v1/sales/forecast."""

from decimal import Decimal

import pytest

from solocrm.sales.deals.models import Pipeline, Stage
from solocrm.sales.deals.services import create_deal, default_pipeline, win_deal

URL = "/api/v1/pipelines"


def _json(client, method: str, url: str, data=None):
    return getattr(client, method)(url, data, content_type="application/json")


@pytest.fixture
def pipeline(db):
    return default_pipeline()


def test_the_list_has_the_default_pipeline_with_its_stages_in_order(owner_client, db):
    items = owner_client.get(URL).json()["items"]
    assert len(items) == 1 and items[0]["is_default"] is True
    assert [s["name"] for s in items[0]["stages"]] == [
        "New lead",
        "Qualified",
        "Proposal",
        "Negotiation",
        "Won",
        "Lost",
    ]
    assert [s["probability"] for s in items[0]["stages"]] == [10, 25, 50, 75, 100, 0]


def test_a_pipeline_is_created_with_its_own_stages(owner_client, pipeline):
    stages = [
        {"name": "Booked", "probability": 30},
        {"name": "Paid", "kind": "won", "probability": 100},
        {"name": "Cancelled", "kind": "lost", "probability": 0},
    ]
    response = _json(owner_client, "post", URL, {"name": "Workshops", "stall_days": 7, "stages": stages})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["stall_days"], body["is_default"]) == ("Workshops", 7, False)
    assert [(s["name"], s["kind"], s["position"]) for s in body["stages"]] == [
        ("Booked", "open", 0), ("Paid", "won", 1), ("Cancelled", "lost", 2),
    ]  # fmt: skip


@pytest.mark.parametrize("body", [
    {"name": ""},
    {"name": "X", "stall_days": 0},
    {"name": "X", "stall_days": 99999},
    {"name": "X", "stages": [{"name": "A"}, {"name": "B"}, {"name": "C", "kind": "won"}]},
    {"name": "X", "stages": [
        {"name": "A", "probability": 120}, {"name": "B", "kind": "won"}, {"name": "C", "kind": "lost"},
    ]},
])  # fmt: skip
def test_a_bad_pipeline_is_a_422_and_nothing_is_created(owner_client, pipeline, body):
    assert _json(owner_client, "post", URL, body).status_code == 422
    assert Pipeline.objects.count() == 1


def test_patch_sets_stall_days_the_default_and_the_stage_order(owner_client, pipeline):
    other = _json(owner_client, "post", URL, {"name": "Workshops"}).json()
    order = [s["uuid"] for s in other["stages"]][::-1]
    response = _json(
        owner_client,
        "patch",
        f"{URL}/{other['uuid']}",
        {"stall_days": 30, "is_default": True, "stage_order": order},
    )
    assert response.status_code == 200, response.content
    assert [s["uuid"] for s in response.json()["stages"]] == order
    pipeline.refresh_from_db()
    assert not pipeline.is_default and default_pipeline().uuid.hex == other["uuid"].replace("-", "")


def test_a_stage_order_missing_a_stage_is_refused(owner_client, pipeline):
    order = [str(s.uuid) for s in pipeline.stages.all()][:-1]
    assert _json(owner_client, "patch", f"{URL}/{pipeline.uuid}", {"stage_order": order}).status_code == 422


def test_stage_crud(owner_client, pipeline):
    response = _json(
        owner_client, "post", f"{URL}/{pipeline.uuid}/stages", {"name": "Demo", "probability": 40}
    )
    assert response.status_code == 201 and response.json()["position"] == 4
    demo = response.json()["uuid"]
    response = _json(owner_client, "patch", f"/api/v1/stages/{demo}", {"name": "Demo call", "position": 0})
    assert (response.json()["name"], response.json()["position"]) == ("Demo call", 0)
    assert owner_client.delete(f"/api/v1/stages/{demo}").status_code == 204
    assert not Stage.objects.filter(uuid=demo).exists()


def test_a_stage_holding_deals_is_a_409_and_stays(owner_client, pipeline):
    create_deal({"title": "Website"})
    first = pipeline.stages.first()
    response = owner_client.delete(f"/api/v1/stages/{first.uuid}")
    assert response.status_code == 409 and "still holds 1 deal" in response.json()["detail"]
    response = _json(owner_client, "patch", f"/api/v1/stages/{first.uuid}", {"kind": "won"})
    assert response.status_code == 409
    first.refresh_from_db()
    assert first.kind == "open"


def test_the_last_lost_stage_cannot_be_deleted(owner_client, pipeline):
    lost = pipeline.stages.get(kind="lost")
    assert owner_client.delete(f"/api/v1/stages/{lost.uuid}").status_code == 409
    assert Stage.objects.filter(pk=lost.pk).exists()


@pytest.mark.parametrize("persona", ["assistant", "viewer"])
def test_only_the_owner_changes_pipelines(client, request, pipeline, persona):
    client.force_login(request.getfixturevalue(persona))
    stage = pipeline.stages.first()
    assert client.get(URL).status_code == 200
    assert client.get(f"{URL}/{pipeline.uuid}").status_code == 200
    assert _json(client, "post", URL, {"name": "Mine"}).status_code == 403
    assert _json(client, "patch", f"{URL}/{pipeline.uuid}", {"stall_days": 3}).status_code == 403
    assert _json(client, "post", f"{URL}/{pipeline.uuid}/stages", {"name": "X"}).status_code == 403
    assert _json(client, "patch", f"/api/v1/stages/{stage.uuid}", {"name": "X"}).status_code == 403
    assert client.delete(f"/api/v1/stages/{stage.uuid}").status_code == 403
    pipeline.refresh_from_db()
    assert pipeline.stall_days == 14 and Pipeline.objects.count() == 1 and pipeline.stages.count() == 6


def test_a_stranger_gets_401(client, pipeline):
    assert client.get(URL).status_code == 401
    assert client.get("/api/v1/sales/forecast").status_code == 401


# --- forecast -------------------------------------------------------------------------------------


def test_the_forecast_answers_every_table(owner_client, pipeline):
    create_deal({"title": "A", "amount": Decimal("1000"), "currency": "EUR"})
    win_deal(create_deal({"title": "B", "amount": Decimal("300"), "source": "web"}))
    response = owner_client.get("/api/v1/sales/forecast", {"months": 6})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["totals"] == [{"currency": "EUR", "count": 1, "amount": "1000.00", "weighted": "100.00"}]
    assert body["weighted"][0]["bucket"] == "no_date"
    assert (body["overall"]["won"], body["overall"]["win_rate"]) == (1, 1.0)
    assert body["by_source"][0]["source"] == "web"
    assert body["conversion"][0]["stage_name"] == "New lead" and body["conversion"][0]["reached"] == 2


@pytest.mark.parametrize(
    "params", [{"months": 0}, {"start": "2026-05-01", "end": "2026-01-01"}, {"pipeline": "x"}]
)
def test_bad_forecast_parameters_are_refused(owner_client, pipeline, params):
    assert owner_client.get("/api/v1/sales/forecast", params).status_code in (404, 422)


def test_a_viewer_may_read_the_forecast(viewer_client, pipeline):
    assert viewer_client.get("/api/v1/sales/forecast").status_code == 200


@pytest.mark.parametrize("body", [{}, {"name": ""}, "not json", {"stages": "many"}])
def test_an_assistant_gets_403_before_any_complaint_about_the_body(assistant_client, pipeline, body):
    """The role is checked before the body is read: a 422 would tell a caller who may not
    create pipelines how to shape a request it can never make."""
    stage = pipeline.stages.first()
    for method, url in (
        ("post", URL),
        ("patch", f"{URL}/{pipeline.uuid}"),
        ("post", f"{URL}/{pipeline.uuid}/stages"),
        ("patch", f"/api/v1/stages/{stage.uuid}"),
    ):
        answer = getattr(assistant_client, method)(url, body, content_type="application/json")
        assert answer.status_code == 403, (method, url, answer.content)


def test_the_settings_endpoint_answers_403_to_an_assistant_whatever_the_body(assistant_client):
    answer = assistant_client.patch("/api/v1/settings", "{bad", content_type="application/json")
    assert answer.status_code == 403
