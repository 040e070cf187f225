"""Orders import: Shopify (multi-line orders), Stripe payments and plain order CSVs."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from solocrm.contacts.importing import run_import
from solocrm.contacts.models import Contact
from solocrm.sales.models import Order, OrderLine, Product

FIXTURES = Path(__file__).parent / "fixtures"


def lines_of(order: Order) -> list[tuple]:
    return [(ln.sku, ln.name, ln.quantity, ln.unit_price, ln.total) for ln in order.lines.all()]


@pytest.mark.django_db
def test_shopify_orders_with_several_line_items_become_one_order_each():
    report = run_import("orders", FIXTURES / "shopify_orders.csv")
    assert (report.layout, report.rows, report.created, report.rejected) == ("shopify", 5, 4, 0)
    first = Order.objects.get(number="#1001")
    assert (first.source, first.external_id, first.currency, first.total) == (
        "shopify",
        "5512345678901",
        "USD",
        Decimal("63.32"),
    )
    assert first.status == "fulfilled"
    assert first.ordered_at == dt.datetime(2024, 3, 5, 13, 30, tzinfo=dt.UTC)
    assert lines_of(first) == [
        ("MUG-BLUE", "Ceramic Mug - Blue", Decimal("2.000"), Decimal("12.00"), Decimal("24.00")),
        ("TEAPOT-1", "Teapot", Decimal("1.000"), Decimal("30.00"), Decimal("30.00")),
    ]
    statuses = dict(Order.objects.values_list("number", "status"))
    assert statuses == {
        "#1001": "fulfilled",
        "#1002": "partially_refunded",
        "#1003": "pending",
        "#1004": "cancelled",
    }
    assert Product.objects.filter(sku="MUG-BLUE").count() == 1
    assert OrderLine.objects.filter(product__sku="MUG-BLUE").count() == 3


@pytest.mark.django_db
def test_shopify_customers_are_found_or_created_by_email_then_billing_name():
    known = Contact.objects.create(first_name="Ada", email="ada@example.com")
    run_import("orders", FIXTURES / "shopify_orders.csv")
    assert set(Order.objects.filter(contact=known).values_list("number", flat=True)) == {"#1001", "#1004"}
    known.refresh_from_db()
    assert known.email_consent  # "Accepts Marketing" = yes
    mary = Order.objects.get(number="#1003").contact  # no e-mail: found by billing name
    assert (mary.first_name, mary.last_name, mary.city, mary.lifecycle_stage) == (
        "Mary",
        "Somerville",
        "Edinburgh",
        "customer",
    )
    assert Contact.objects.count() == 3


@pytest.mark.django_db
def test_stripe_payments_become_orders_with_mapped_statuses():
    report = run_import("orders", FIXTURES / "stripe_payments.csv")
    assert (report.layout, report.created, report.rejected) == ("stripe", 4, 0)
    by_id = {o.external_id: o for o in Order.objects.all()}
    paid = by_id["ch_3Oa1b2C3d4E5f6G7"]
    assert (paid.status, paid.total, paid.currency, paid.source) == (
        "paid",
        Decimal("120.00"),
        "USD",
        "stripe",
    )
    assert lines_of(paid) == [
        ("", "Coaching session (60 min)", Decimal("1.000"), Decimal("120.00"), Decimal("120.00"))
    ]
    assert by_id["ch_3Oa1b2C3d4E5f6G8"].status == "refunded"
    assert by_id["ch_3Oa1b2C3d4E5f6G9"].status == "cancelled"  # Failed
    euro = by_id["ch_3Oa1b2C3d4E5f6H0"]
    assert (euro.status, euro.total, euro.currency) == ("partially_refunded", Decimal("1234.50"), "EUR")
    grace = Contact.objects.get(email="grace@navy.example")
    assert (grace.first_name, grace.last_name, grace.external_id) == ("Grace", "Hopper", "cus_PaAbCdEf123456")
    assert grace.orders.count() == 2


@pytest.mark.django_db
def test_reimporting_orders_changes_nothing_and_a_changed_status_updates():
    run_import("orders", FIXTURES / "shopify_orders.csv")
    again = run_import("orders", FIXTURES / "shopify_orders.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert OrderLine.objects.count() == 5
    Order.objects.filter(number="#1003").update(status="paid")
    assert run_import("orders", FIXTURES / "shopify_orders.csv").updated == 1
    assert Order.objects.get(number="#1003").status == "pending"


@pytest.mark.django_db
def test_a_bad_line_rejects_its_whole_order(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        "Order number,Date,Email,Product,Quantity,Price,Total,Currency\n"
        "A-1,2024-03-01,ada@example.com,Mug,1,10.00,25.00,EUR\n"
        "A-1,,,Plate,lots,15.00,,\n"
        "A-2,2024-03-02,bob@example.com,Mug,2,10.00,20.00,EUR\n"
    )
    report = run_import("orders", path)
    assert (report.created, report.rejected) == (1, 2)
    assert [(e.line, e.column) for e in report.errors] == [(3, "Quantity"), (2, "")]
    assert Order.objects.get().number == "A-2"


@pytest.mark.django_db
def test_orders_without_any_id_are_recognised_again_on_reimport(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text("日期,邮箱,产品,数量,单价,币种\n2024年3月5日,wang@example.cn,茶叶,2,88.00,CNY\n")
    assert run_import("orders", path).created == 1
    order = Order.objects.get()
    assert (order.total, order.currency, order.source) == (Decimal("176.00"), "CNY", "import")
    assert run_import("orders", path).unchanged == 1


@pytest.mark.django_db
def test_a_dry_run_of_orders_writes_nothing():
    report = run_import("orders", FIXTURES / "shopify_orders.csv", dry_run=True)
    assert report.created == 4
    assert not Order.objects.exists() and not Contact.objects.exists() and not Product.objects.exists()
