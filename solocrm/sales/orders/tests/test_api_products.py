"""The /api/v1/products endpoints."""

from decimal import Decimal

import pytest

from solocrm.sales.orders.models import Product

URL = "/api/v1/products"


def _json(client, method: str, url: str, data=None):
    return getattr(client, method)(url, data, content_type="application/json")


@pytest.fixture
def mug(db):
    return Product.objects.create(name="Mug", sku="MUG-1", price=Decimal("12.00"), currency="EUR")


@pytest.mark.parametrize(("price", "expected"), [("1,234.50", "1234.50"), ("$12", "12.00"), (7.5, "7.50")])
def test_a_price_is_parsed_like_people_write_it(owner_client, price, expected):
    response = _json(owner_client, "post", URL, {"name": "Poster", "price": price, "currency": "usd"})
    assert response.status_code == 201, response.content
    product = Product.objects.get(uuid=response.json()["uuid"])
    assert (product.price, product.currency) == (Decimal(expected), "USD")


def test_a_blank_currency_is_the_business_currency(owner_client, settings):
    settings.SOLOCRM_CURRENCY = "CHF"
    assert _json(owner_client, "post", URL, {"name": "Poster"}).json()["currency"] == "CHF"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", "twelve"),
        ("price", "-5"),
        ("price", "1e400"),
        ("price", True),
        ("currency", "EURO"),
        ("name", ""),
        ("sku", "x" * 101),
    ],
)
def test_bad_input_is_a_422_naming_the_field(owner_client, db, field, value):
    response = _json(owner_client, "post", URL, {"name": "Poster", field: value})
    assert response.status_code == 422, response.content
    assert any(field in error["loc"] for error in response.json()["detail"])


def test_the_list_filters_by_price_activity_and_search(owner_client, mug):
    Product.objects.create(name="Old tee", price=Decimal("30.00"), active=False)
    assert [p["name"] for p in owner_client.get(URL, {"max_price": "20"}).json()["items"]] == ["Mug"]
    assert [p["name"] for p in owner_client.get(URL, {"active": "false"}).json()["items"]] == ["Old tee"]
    assert [p["name"] for p in owner_client.get(URL, {"q": "mug-1"}).json()["items"]] == ["Mug"]
    assert [p["name"] for p in owner_client.get(URL, {"ordering": "-price"}).json()["items"]] == [
        "Old tee",
        "Mug",
    ]
    assert owner_client.get(URL, {"min_price": "NaN"}).status_code == 422


@pytest.mark.parametrize("rows", [3, 30])
def test_the_list_query_count_does_not_grow_with_rows(owner_client, django_assert_max_num_queries, rows):
    Product.objects.bulk_create([Product(name=f"P{i}") for i in range(rows)])
    with django_assert_max_num_queries(5):
        assert owner_client.get(URL).json()["count"] == rows


def test_the_price_is_returned_as_an_exact_decimal_string(owner_client, mug):
    assert owner_client.get(f"{URL}/{mug.uuid}").json()["price"] == "12.00"


def test_patch_and_put(owner_client, mug):
    assert _json(owner_client, "patch", f"{URL}/{mug.uuid}", {"active": False}).status_code == 200
    mug.refresh_from_db()
    assert (mug.active, mug.currency) == (False, "EUR")
    assert _json(owner_client, "put", f"{URL}/{mug.uuid}", {"name": "Big mug"}).status_code == 200
    mug.refresh_from_db()
    assert (mug.name, mug.sku, mug.active) == ("Big mug", "", True)


def test_roles(assistant_client, mug):
    assert _json(assistant_client, "post", URL, {"name": "Pen"}).status_code == 201
    assert assistant_client.delete(f"{URL}/{mug.uuid}").status_code == 403


def test_the_viewer_may_not_write(viewer_client, mug):
    assert viewer_client.get(URL).status_code == 200
    assert _json(viewer_client, "post", URL, {"name": "Pen"}).status_code == 403


def test_the_owner_deletes_and_a_stranger_gets_401(client, owner, mug):
    assert client.get(URL).status_code == 401
    client.force_login(owner)
    assert client.delete(f"{URL}/{mug.uuid}").status_code == 204
    assert not Product.objects.exists()
