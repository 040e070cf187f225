"""The pipeline settings page /sales/pipeline/settings/ (owner only): stages and stall days."""

import pytest
from django.urls import reverse

from solocrm.sales.deals.models import Pipeline, Stage
from solocrm.sales.deals.services import create_deal, default_pipeline

URL = reverse("sales:pipeline_settings")


@pytest.fixture
def pipeline(db):
    return default_pipeline()


def _names(pipeline):
    return list(pipeline.stages.order_by("position").values_list("name", flat=True))


def _stage_data(stage, **values):
    prefix = f"s{stage.uuid.hex}"
    data = {"name": stage.name, "probability": stage.probability, "kind": stage.kind}
    data.update(values)
    return {f"{prefix}-{key}": value for key, value in data.items()}


def test_the_owner_sees_every_stage_with_its_deal_count(owner_client, pipeline):
    create_deal({"title": "Website"})
    response = owner_client.get(URL)
    assert response.status_code == 200
    assert [(stage.name, count) for stage, _form, count in response.context["stage_rows"]][:2] == [
        ("New lead", 1),
        ("Qualified", 0),
    ]


def test_stall_days_and_name_are_saved(owner_client, pipeline):
    data = {"pipeline": str(pipeline.uuid), "name": "Clients", "stall_days": "21", "is_default": "on"}
    assert owner_client.post(URL, data).status_code == 302
    pipeline.refresh_from_db()
    assert (pipeline.name, pipeline.stall_days) == ("Clients", 21)


@pytest.mark.parametrize("days", ["0", "-3", "99999", "soon"])
def test_bad_stall_days_are_refused(owner_client, pipeline, days):
    data = {"pipeline": str(pipeline.uuid), "name": "Sales", "stall_days": days}
    response = owner_client.post(URL, data)
    assert response.status_code == 422 and "stall_days" in response.context["pipeline_form"].errors
    pipeline.refresh_from_db()
    assert pipeline.stall_days == 14


def test_a_stage_is_added_renamed_moved_and_deleted(owner_client, pipeline):
    owner_client.post(
        reverse("sales:stage_add", args=[pipeline.uuid]),
        {"new-name": "Demo", "new-probability": "40", "new-kind": "open"},
    )
    assert _names(pipeline)[4] == "Demo"
    demo = pipeline.stages.get(name="Demo")
    owner_client.post(
        reverse("sales:stage_edit", args=[demo.uuid]), _stage_data(demo, name="Demo call", probability=45)
    )
    demo.refresh_from_db()
    assert (demo.name, demo.probability) == ("Demo call", 45)
    owner_client.post(reverse("sales:stage_move", args=[demo.uuid]), {"direction": "up"})
    assert _names(pipeline)[3] == "Demo call"
    owner_client.post(reverse("sales:stage_delete", args=[demo.uuid]))
    assert "Demo call" not in _names(pipeline)


def test_deleting_a_stage_with_deals_says_why_and_keeps_it(owner_client, pipeline):
    create_deal({"title": "Website"})
    first = pipeline.stages.first()
    response = owner_client.post(reverse("sales:stage_delete", args=[first.uuid]), follow=True)
    assert "still holds 1 deal" in response.content.decode()
    assert Stage.objects.filter(pk=first.pk).exists()


def test_a_probability_over_100_is_refused(owner_client, pipeline):
    stage = pipeline.stages.first()
    response = owner_client.post(
        reverse("sales:stage_edit", args=[stage.uuid]), _stage_data(stage, probability=150)
    )
    assert response.status_code == 422
    stage.refresh_from_db()
    assert stage.probability == 10


def test_the_last_won_stage_cannot_become_open(owner_client, pipeline):
    won = pipeline.stages.get(kind="won")
    response = owner_client.post(
        reverse("sales:stage_edit", args=[won.uuid]), _stage_data(won, kind="open"), follow=True
    )
    assert "at least one stage of kind" in response.content.decode()
    won.refresh_from_db()
    assert won.kind == "won"


def test_a_new_pipeline_gets_the_usual_stages(owner_client, pipeline):
    response = owner_client.post(reverse("sales:pipeline_create"), {"name": "Workshops"})
    workshops = Pipeline.objects.get(name="Workshops")
    assert response["Location"].endswith(f"?pipeline={workshops.uuid}")
    assert workshops.stages.count() == 6 and not workshops.is_default


@pytest.mark.parametrize("persona", ["assistant", "viewer"])
def test_only_the_owner_may_change_the_pipeline(client, request, pipeline, persona):
    client.force_login(request.getfixturevalue(persona))
    stage = pipeline.stages.first()
    assert client.get(URL).status_code == 403
    assert client.post(reverse("sales:stage_delete", args=[stage.uuid])).status_code == 403
    assert (
        client.post(reverse("sales:stage_edit", args=[stage.uuid]), _stage_data(stage, name="X")).status_code
        == 403
    )
    assert client.post(reverse("sales:pipeline_create"), {"name": "Mine"}).status_code == 403
    assert _names(pipeline)[0] == "New lead" and Pipeline.objects.count() == 1


def test_a_stranger_gets_nothing(client, owner, pipeline):
    assert client.get(URL).status_code == 302
