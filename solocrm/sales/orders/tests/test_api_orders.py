"""The /api/v1/orders endpoints: orders with their lines."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from solocrm.contacts.models import Contact
from solocrm.sales.orders.models import Order, OrderLine, Product
from solocrm.users.models import AuditLog

URL = "/api/v1/orders"


def _json(client, method: str, url: str, data=None):
    return getattr(client, method)(url, data, content_type="application/json")


@pytest.fixture
def ada(db):
    return Contact.objects.create(first_name="Ada")


@pytest.fixture
def mug(db):
    return Product.objects.create(name="Mug", sku="MUG-1", price=Decimal("12.00"))


def test_an_order_total_is_the_sum_of_its_lines(owner_client, ada, mug):
    response = _json(
        owner_client,
        "post",
        URL,
        {
            "contact": str(ada.uuid),
            "number": "1001",
            "lines": [
                {"product": str(mug.uuid), "quantity": "3", "unit_price": "12.00"},
                {"name": "Gift wrap", "unit_price": "2.50"},
            ],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total"] == "38.50"
    assert body["contact"] == str(ada.uuid)
    assert [(line["name"], line["sku"], line["total"]) for line in body["lines"]] == [
        ("Mug", "MUG-1", "36.00"),
        ("Gift wrap", "", "2.50"),
    ]
    assert AuditLog.objects.filter(action="order.create", object_uuid=body["uuid"]).exists()


def test_a_given_total_wins_over_the_lines(owner_client, mug):
    body = _json(
        owner_client, "post", URL, {"total": "40", "lines": [{"product": str(mug.uuid), "unit_price": 36}]}
    ).json()
    assert body["total"] == "40.00"


def test_the_same_external_id_from_the_same_source_is_a_409(owner_client, db):
    payload = {"source": "shopify", "external_id": "A-1", "total": "10"}
    assert _json(owner_client, "post", URL, payload).status_code == 201
    response = _json(owner_client, "post", URL, payload)
    assert response.status_code == 409
    assert "A-1" in response.json()["detail"]
    assert _json(owner_client, "post", URL, {**payload, "source": "stripe"}).status_code == 201
    assert Order.objects.count() == 2


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"status": "stolen"}, "status"),
        ({"contact": str(uuid.uuid4())}, "contact"),
        ({"currency": "12"}, "currency"),
        ({"total": "-1"}, "total"),
        ({"lines": [{"quantity": "1"}]}, "lines"),
        ({"lines": [{"name": "x", "quantity": "0"}]}, "quantity"),
        ({"lines": [{"name": "x", "quantity": "1.0001"}]}, "quantity"),
        ({"lines": [{"product": str(uuid.uuid4())}]}, "product"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(owner_client, db, payload, loc):
    response = _json(owner_client, "post", URL, payload)
    assert response.status_code == 422, response.content
    assert any(loc in error["loc"] for error in response.json()["detail"])
    assert not Order.objects.exists()


def test_a_line_total_beyond_what_money_can_hold_is_a_422(owner_client, db):
    line = {"name": "x", "quantity": "1000000000", "unit_price": "999999999999"}
    response = _json(owner_client, "post", URL, {"lines": [line]})
    assert response.status_code == 422
    assert not Order.objects.exists()


def test_the_list_filters_by_status_contact_dates_totals_and_number(owner_client, ada):
    at = datetime(2024, 3, 1, tzinfo=UTC)
    Order.objects.create(contact=ada, number="A-100", total=Decimal("50"), ordered_at=at, currency="EUR")
    Order.objects.create(number="B-200", total=Decimal("5"), ordered_at=at, status="refunded")

    def numbers(**params):
        return [o["number"] for o in owner_client.get(URL, params).json()["items"]]

    assert numbers(contact=str(ada.uuid)) == ["A-100"]
    assert numbers(status="refunded") == ["B-200"]
    assert numbers(min_total="10") == ["A-100"]
    assert numbers(max_total="10") == ["B-200"]
    assert numbers(currency="eur") == ["A-100"]
    assert numbers(q="b-2") == ["B-200"]
    assert numbers(ordered_after="2024-03-02") == []
    assert numbers(ordered_before="2024-03-01", ordering="-total") == ["A-100", "B-200"]


@pytest.mark.parametrize("rows", [3, 30])
def test_the_list_query_count_does_not_grow_with_rows(
    owner_client, ada, mug, django_assert_max_num_queries, rows
):
    for i in range(rows):
        order = Order.objects.create(contact=ada, number=str(i))
        OrderLine.objects.create(order=order, product=mug, name="Mug")
    with django_assert_max_num_queries(6):
        response = owner_client.get(URL)
    assert response.json()["count"] == rows


def test_patch_with_lines_replaces_them_and_recomputes_the_total(owner_client, mug):
    order = Order.objects.create(total=Decimal("99"))
    OrderLine.objects.create(order=order, name="Old", total=Decimal("99"))
    response = _json(
        owner_client,
        "patch",
        f"{URL}/{order.uuid}",
        {"lines": [{"product": str(mug.uuid), "unit_price": 12}]},
    )
    assert response.status_code == 200, response.content
    assert response.json()["total"] == "12.00"
    assert list(order.lines.values_list("name", flat=True)) == ["Mug"]


def test_patch_without_lines_keeps_them(owner_client, mug):
    order = Order.objects.create(total=Decimal("12"))
    OrderLine.objects.create(order=order, product=mug, name="Mug", total=Decimal("12"))
    response = _json(owner_client, "patch", f"{URL}/{order.uuid}", {"status": "fulfilled"})
    assert response.json()["status"] == "fulfilled"
    assert response.json()["total"] == "12.00"
    assert order.lines.count() == 1


def test_patch_to_an_external_id_already_taken_is_a_409(owner_client, db):
    Order.objects.create(source="stripe", external_id="ch_1")
    order = Order.objects.create(source="stripe", external_id="ch_2")
    assert _json(owner_client, "patch", f"{URL}/{order.uuid}", {"external_id": "ch_1"}).status_code == 409


def test_roles(assistant_client, db):
    order = Order.objects.create()
    assert _json(assistant_client, "patch", f"{URL}/{order.uuid}", {"notes": "gift"}).status_code == 200
    assert assistant_client.delete(f"{URL}/{order.uuid}").status_code == 403


def test_the_viewer_may_not_write(viewer_client, db):
    assert viewer_client.get(URL).status_code == 200
    assert _json(viewer_client, "post", URL, {"total": "1"}).status_code == 403


def test_the_owner_deletes_an_order_with_its_lines(owner_client, mug):
    order = Order.objects.create()
    OrderLine.objects.create(order=order, product=mug, name="Mug")
    assert owner_client.delete(f"{URL}/{order.uuid}").status_code == 204
    assert not OrderLine.objects.exists()


def test_a_stranger_gets_401(client, db):
    assert client.get(URL).status_code == 401
    assert _json(client, "post", URL, {}).status_code == 401
