"""The /api/v1/deals endpoints: list with DealFilter, create, patch, move, won, delete, history."""

from decimal import Decimal

import pytest

from solocrm.contacts.models import Company, Contact
from solocrm.sales.choices import StageKind
from solocrm.sales.deals.models import Deal, DealStageChange
from solocrm.sales.deals.services import create_deal, create_pipeline, default_pipeline
from solocrm.sales.orders.models import Order
from solocrm.users.models import AuditLog

URL = "/api/v1/deals"


def _json(client, method: str, url: str, data=None):
    return getattr(client, method)(url, data, content_type="application/json")


@pytest.fixture
def pipeline(db):
    return default_pipeline()


@pytest.fixture
def ada(db):
    return Contact.objects.create(
        first_name="Ada", email="ada@example.com", company=Company.objects.create(name="AE")
    )


@pytest.fixture
def deal(pipeline, ada):
    return create_deal({"title": "Website", "contact": ada, "amount": Decimal("1000")})


def test_a_deal_is_created_in_the_first_open_stage_with_the_contacts_company(
    owner_client, owner, pipeline, ada
):
    response = _json(
        owner_client,
        "post",
        URL,
        {
            "title": "Website",
            "contact": str(ada.uuid),
            "amount": "1,200.50",
            "currency": "eur",
            "expected_close": "2026-06-30",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["amount"], body["currency"], body["status"], body["stage_name"]) == (
        "1200.50",
        "EUR",
        "open",
        "New lead",
    )
    assert (body["company"], body["owner"], body["weighted_amount"]) == (
        str(ada.company.uuid),
        "olivia",
        "120.05",
    )
    assert body["pipeline"] == str(pipeline.uuid) and body["order"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "-1"),
        ("amount", "1e400"),
        ("amount", 10**13),
        ("amount", True),
        ("currency", "EURO"),
        ("expected_close", "2026-13-01"),
        ("expected_close", "0202-01-01"),
        ("title", ""),
        ("contact", "00000000-0000-0000-0000-000000000000"),
        ("stage", "not-a-uuid"),
        ("owner", "nobody"),
        ("surprise", 1),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_nothing_is_created(owner_client, pipeline, field, value):
    response = _json(owner_client, "post", URL, {"title": "Website", field: value})
    assert response.status_code == 422, response.content
    assert any(field in error["loc"] for error in response.json()["detail"])
    assert not Deal.objects.exists()


def test_a_stage_of_another_pipeline_is_refused_on_create(owner_client, pipeline):
    other = create_pipeline("Workshops")
    data = {"title": "Website", "pipeline": str(pipeline.uuid), "stage": str(other.stages.first().uuid)}
    response = _json(owner_client, "post", URL, data)
    assert response.status_code == 422 and "another pipeline" in response.json()["detail"]
    assert not Deal.objects.exists()


def test_a_deal_cannot_start_won(owner_client, pipeline):
    won = pipeline.stages.get(kind=StageKind.WON)
    assert _json(owner_client, "post", URL, {"title": "X", "stage": str(won.uuid)}).status_code == 422
    assert not Deal.objects.exists() and not Order.objects.exists()


def test_the_list_uses_the_deal_filter(owner_client, deal, pipeline):
    create_deal({"title": "Logo", "amount": Decimal("50")})

    def titles(**params):
        return sorted(d["title"] for d in owner_client.get(URL, params).json()["items"])

    assert titles() == ["Logo", "Website"]
    assert titles(q="ada") == ["Website"]
    assert titles(min_amount="100") == ["Website"]
    assert titles(status="won") == []
    assert owner_client.get(URL, {"status": "maybe"}).status_code == 422
    assert owner_client.get(URL, {"ordering": "-amount"}).json()["items"][0]["title"] == "Website"


@pytest.mark.parametrize("rows", [3, 30])
def test_the_list_query_count_does_not_grow_with_rows(
    owner_client, owner, ada, django_assert_max_num_queries, rows
):
    default_pipeline()
    for i in range(rows):
        create_deal({"title": str(i), "contact": ada}, actor=owner)
    with django_assert_max_num_queries(6):
        assert owner_client.get(URL).json()["count"] == rows


def test_patch_changes_only_the_fields_given(owner_client, deal):
    response = _json(owner_client, "patch", f"{URL}/{deal.uuid}", {"next_step": "Call", "amount": "1500"})
    assert response.status_code == 200
    deal.refresh_from_db()
    assert (deal.next_step, deal.amount, deal.title) == ("Call", Decimal("1500.00"), "Website")
    assert AuditLog.objects.filter(action="deal.update").exists()


def test_patch_with_a_bad_value_changes_nothing(owner_client, deal):
    response = _json(owner_client, "patch", f"{URL}/{deal.uuid}", {"next_step": "Call", "amount": "-3"})
    assert response.status_code == 422
    deal.refresh_from_db()
    assert (deal.next_step, deal.amount) == ("", Decimal("1000.00"))


def test_patch_cannot_change_the_stage(owner_client, deal, pipeline):
    won = pipeline.stages.get(kind=StageKind.WON)
    assert _json(owner_client, "patch", f"{URL}/{deal.uuid}", {"stage": str(won.uuid)}).status_code == 422


def test_move_records_the_history_and_position(owner_client, deal, pipeline):
    qualified = pipeline.stages.get(name="Qualified")
    response = _json(
        owner_client, "post", f"{URL}/{deal.uuid}/move", {"stage": str(qualified.uuid), "position": 2.5}
    )
    assert response.status_code == 200
    assert (response.json()["stage_name"], response.json()["position"]) == ("Qualified", 2.5)
    history = owner_client.get(f"{URL}/{deal.uuid}/history").json()
    assert [step["stage_name"] for step in history] == ["New lead", "Qualified"]
    assert history[-1]["left_at"] is None


def test_move_to_lost_needs_a_reason(owner_client, deal, pipeline):
    lost = pipeline.stages.get(kind=StageKind.LOST)
    response = _json(owner_client, "post", f"{URL}/{deal.uuid}/move", {"stage": str(lost.uuid)})
    assert response.status_code == 422
    deal.refresh_from_db()
    assert deal.is_open
    response = _json(
        owner_client, "post", f"{URL}/{deal.uuid}/move", {"stage": str(lost.uuid), "lost_reason": "price"}
    )
    assert response.json()["status"] == "lost" and response.json()["lost_reason"] == "price"


@pytest.mark.parametrize("body", [
    {"stage": "forged"},
    {"stage": None},
    {"unknown": 1},
    {"stage": "00000000-0000-0000-0000-000000000000"},
    {"lost_reason": "bored"},
    {"position": "nan"},
    {"position": 1e300},
])  # fmt: skip
def test_move_with_bad_input_is_a_422_and_changes_nothing(owner_client, deal, pipeline, body):
    data = {"stage": str(pipeline.stages.get(name="Qualified").uuid), **body}
    assert _json(owner_client, "post", f"{URL}/{deal.uuid}/move", data).status_code == 422
    deal.refresh_from_db()
    assert deal.stage.name == "New lead" and DealStageChange.objects.filter(deal=deal).count() == 1


def test_move_to_another_pipelines_stage_is_refused(owner_client, deal):
    other = create_pipeline("Workshops").stages.get(kind=StageKind.WON)
    response = _json(owner_client, "post", f"{URL}/{deal.uuid}/move", {"stage": str(other.uuid)})
    assert response.status_code == 422
    deal.refresh_from_db()
    assert deal.is_open and not Order.objects.exists()


def test_won_returns_the_order_and_a_second_call_the_same_one(owner_client, deal):
    first = _json(owner_client, "post", f"{URL}/{deal.uuid}/won")
    assert first.status_code == 200
    order = Order.objects.get()
    assert first.json()["order"] == str(order.uuid) and first.json()["deal"]["status"] == "won"
    assert owner_client.get(f"/api/v1/orders/{order.uuid}").json()["total"] == "1000.00"
    assert _json(owner_client, "post", f"{URL}/{deal.uuid}/won").json()["order"] == str(order.uuid)
    assert Order.objects.count() == 1


def test_delete_is_for_the_owner_and_keeps_the_order(owner_client, deal):
    deal.mark_won()
    assert owner_client.delete(f"{URL}/{deal.uuid}").status_code == 204
    assert not Deal.objects.exists() and Order.objects.count() == 1


def test_unknown_uuids_are_404(owner_client, pipeline):
    for method, path in [
        ("get", "/00000000-0000-0000-0000-000000000000"),
        ("get", "/nope"),
        ("delete", "/nope"),
    ]:
        assert getattr(owner_client, method)(URL + path).status_code == 404


def test_a_viewer_may_read_but_not_write(viewer_client, deal, pipeline):
    assert viewer_client.get(URL).status_code == 200
    assert viewer_client.get(f"{URL}/{deal.uuid}").status_code == 200
    assert _json(viewer_client, "post", URL, {"title": "X"}).status_code == 403
    assert _json(viewer_client, "post", f"{URL}/{deal.uuid}/won").status_code == 403
    assert _json(viewer_client, "patch", f"{URL}/{deal.uuid}", {"title": "X"}).status_code == 403
    assert viewer_client.delete(f"{URL}/{deal.uuid}").status_code == 403
    deal.refresh_from_db()
    assert deal.title == "Website" and deal.is_open and Deal.objects.count() == 1


def test_an_assistant_may_write_but_not_delete(assistant_client, deal):
    assert _json(assistant_client, "post", f"{URL}/{deal.uuid}/won").status_code == 200
    assert assistant_client.delete(f"{URL}/{deal.uuid}").status_code == 403


def test_a_stranger_gets_401(client, deal):
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}/{deal.uuid}").status_code == 401
    assert _json(client, "post", f"{URL}/{deal.uuid}/won").status_code == 401
    assert not Order.objects.exists()


def test_a_bearer_token_works(client, owner, deal):
    from solocrm.users.services import create_token

    _token, raw = create_token(owner, "script", actor=owner)
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200 and response.json()["count"] == 1
