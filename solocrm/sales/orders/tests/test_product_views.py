"""The product catalogue pages: list with search and status filter, add, edit, withdraw, delete."""

from __future__ import annotations

from decimal import Decimal

import pytest

from solocrm.sales.orders.models import Product
from solocrm.sales.quotes import services as quotes
from solocrm.users.models import AuditLog


@pytest.fixture
def catalogue(db):
    return [
        Product.objects.create(name="Design hour", sku="DH-1", price=Decimal("80.00"), currency="EUR"),
        Product.objects.create(name="Hedge trimming", sku="HT-2", price=Decimal("45.50"), currency="EUR"),
        Product.objects.create(name="Old service", sku="OLD", price=Decimal("10.00"), active=False),
    ]


def test_the_list_searches_by_name_or_sku_and_filters_by_status(owner_client, catalogue):
    page = owner_client.get("/sales/products/").content.decode()
    assert all(p.name in page for p in catalogue)
    assert "Hedge" not in owner_client.get("/sales/products/", {"q": "dh-1"}).content.decode()
    on_sale = owner_client.get("/sales/products/", {"active": "false"}).content.decode()
    assert "Old service" in on_sale and "Design hour" not in on_sale
    partial = owner_client.get("/sales/products/", {"q": "hedge"}, HTTP_HX_REQUEST="true").content.decode()
    assert partial.startswith('<div id="product-results">') and "Hedge trimming" in partial


@pytest.mark.parametrize("rows", [5, 40])
def test_the_list_needs_the_same_queries_for_few_or_many_products(
    owner_client, db, rows, django_assert_max_num_queries
):
    Product.objects.bulk_create(Product(name=f"P{i}", price=Decimal(i)) for i in range(rows))
    with django_assert_max_num_queries(7):
        assert owner_client.get("/sales/products/").status_code == 200


def test_bad_filters_are_ignored_with_a_notice(owner_client, catalogue):
    response = owner_client.get("/sales/products/", {"active": "maybe"}, follow=True)
    assert response.status_code == 200 and "not understood" in response.content.decode()


def test_adding_a_product_normalises_the_currency(owner_client, db):
    response = owner_client.post(
        "/sales/products/new/", {"name": "Consulting day", "price": "640", "currency": "eur", "active": "on"}
    )
    assert response.status_code == 302
    product = Product.objects.get()
    assert (product.price, product.currency, product.active) == (Decimal("640.00"), "EUR", True)
    assert AuditLog.objects.filter(action="product.create").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("price", "-5", "between 0 and"),
        ("price", "1e20", "Ensure that there are no more than"),
        ("currency", "EURO", "at most 3 characters"),
        ("currency", "E1", "three-letter currency code"),
        ("name", "", "This field is required"),
    ],
)
def test_bad_product_values_are_refused(owner_client, db, field, value, message):
    data = {"name": "X", "price": "1", "currency": "EUR", field: value}
    response = owner_client.post("/sales/products/new/", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not Product.objects.exists()


def test_editing_a_product_records_the_change(owner_client, catalogue):
    product = catalogue[0]
    data = {"name": "Design hour", "sku": "DH-1", "price": "95.00", "currency": "EUR", "active": "on"}
    assert owner_client.post(f"/sales/products/{product.uuid}/edit/", data).status_code == 302
    product.refresh_from_db()
    assert product.price == Decimal("95.00")
    assert AuditLog.objects.get(action="product.update").changes["price"] == ["80.00", "95.00"]


def test_withdrawing_and_putting_back_on_sale(owner_client, catalogue):
    product = catalogue[0]
    owner_client.post(f"/sales/products/{product.uuid}/active/")
    product.refresh_from_db()
    assert not product.active
    owner_client.post(f"/sales/products/{product.uuid}/active/")
    product.refresh_from_db()
    assert product.active


def test_deleting_keeps_the_copies_on_quote_lines(owner_client, catalogue, deal):
    product = catalogue[0]
    quote = quotes.create_quote(deal, lines=[quotes.line_from_product(product)])
    assert (
        "keep their own copy" in owner_client.get(f"/sales/products/{product.uuid}/delete/").content.decode()
    )
    owner_client.post(f"/sales/products/{product.uuid}/delete/")
    assert not Product.objects.filter(pk=product.pk).exists()
    assert quote.lines.get().name == "Design hour"


def test_roles_for_products(viewer_client, catalogue):
    product = catalogue[0]
    assert viewer_client.get("/sales/products/").status_code == 200
    assert viewer_client.get("/sales/products/new/").status_code == 403
    assert viewer_client.post(f"/sales/products/{product.uuid}/active/").status_code == 403
    assert viewer_client.post(f"/sales/products/{product.uuid}/delete/").status_code == 403


def test_an_assistant_edits_but_does_not_delete(assistant_client, catalogue):
    product = catalogue[0]
    assert assistant_client.get(f"/sales/products/{product.uuid}/edit/").status_code == 200
    assert assistant_client.post(f"/sales/products/{product.uuid}/delete/").status_code == 403
    assert Product.objects.filter(pk=product.pk).exists()


def test_a_stranger_is_sent_to_log_in(client, catalogue, owner):
    assert "/login/" in client.get("/sales/products/")["Location"]


def test_the_navigation_links_to_products(owner_client, db):
    page = owner_client.get("/sales/products/").content.decode()
    assert '<a href="/sales/products/" aria-current="page">' in page
