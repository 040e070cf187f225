"""The home page: tasks due, recent activity and a few figures, with empty states."""

import sys
import types
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from solocrm.contacts.models import Contact
from solocrm.contacts.services import add_interaction
from solocrm.sales.models import Order
from solocrm.sales.services import create_task
from solocrm.web.dashboard import end_of_today

pytestmark = pytest.mark.django_db

HOME = "/"


def test_the_stranger_is_sent_to_login(client, owner):
    assert client.get(HOME)["Location"] == "/accounts/login/?next=/"


def test_an_empty_database_says_how_to_start(owner_client):
    page = owner_client.get(HOME).content.decode()
    assert "No customers yet" in page
    assert 'href="/contacts/import/"' in page
    assert 'action="/demo/"' in page
    assert "Nothing due today" in page and "No orders in the last 30 days" in page


def test_only_the_owner_is_offered_demo_data_and_a_viewer_no_import(assistant_client, viewer):
    page = assistant_client.get(HOME).content.decode()
    assert 'href="/contacts/import/"' in page and 'action="/demo/"' not in page
    assistant_client.force_login(viewer)
    page = assistant_client.get(HOME).content.decode()
    assert "/contacts/import/" not in page and 'action="/demo/"' not in page


def test_overdue_and_todays_tasks_are_listed_with_a_done_button(assistant_client):
    now = timezone.now()
    contact = Contact.objects.create(first_name="Ada", last_name="Lovelace")
    late = create_task(title="late task", due_at=now - timedelta(days=2), contact=contact)
    create_task(title="todays task", due_at=now + (end_of_today() - now) / 2)
    create_task(title="next week task", due_at=now + timedelta(days=7))
    done = create_task(title="done task", due_at=now - timedelta(days=1))
    done.complete()
    response = assistant_client.get(HOME)
    page = response.content.decode()
    assert [t.title for t in response.context["agenda"].overdue] == ["late task"]
    assert [t.title for t in response.context["agenda"].today] == ["todays task"]
    assert "next week task" not in page and "done task" not in page
    assert f'hx-post="/sales/tasks/{late.uuid}/toggle/"' in page
    assert "Ada Lovelace" in page


def test_recent_interactions_are_listed_newest_first(viewer_client):
    contact = Contact.objects.create(first_name="Ada", last_name="Lovelace")
    add_interaction(contact, subject="old call", kind="call", occurred_at=timezone.now() - timedelta(days=3))
    add_interaction(contact, subject="fresh note")
    page = viewer_client.get(HOME).content.decode()
    assert page.index("fresh note") < page.index("old call")


def test_contacts_are_counted_by_stage(viewer_client):
    for stage in ("lead", "lead", "customer"):
        Contact.objects.create(last_name="x", lifecycle_stage=stage)
    response = viewer_client.get(HOME)
    counts = {row["stage"]: row["count"] for row in response.context["stages"]}
    assert counts["lead"] == 2 and counts["customer"] == 1 and counts["churned"] == 0
    assert response.context["contact_total"] == 3


def test_sales_count_only_paid_orders_of_the_last_30_days_per_currency(viewer_client):
    now = timezone.now()
    Order.objects.create(total=Decimal("10.00"), currency="EUR", status="paid", ordered_at=now)
    Order.objects.create(total=Decimal("5.50"), currency="EUR", status="fulfilled", ordered_at=now)
    Order.objects.create(total=Decimal("99.00"), currency="EUR", status="cancelled", ordered_at=now)
    Order.objects.create(
        total=Decimal("70.00"), currency="EUR", status="paid", ordered_at=now - timedelta(days=40)
    )
    Order.objects.create(total=Decimal("8.00"), currency="USD", status="paid", ordered_at=now)
    response = viewer_client.get(HOME)
    assert response.context["sales"] == [
        {"currency": "EUR", "orders": 2, "revenue": Decimal("15.50")},
        {"currency": "USD", "orders": 1, "revenue": Decimal("8.00")},
    ]
    assert "15.50 EUR" in response.content.decode()


def test_user_content_is_escaped(owner_client):
    contact = Contact.objects.create(first_name="<script>alert(1)</script>")
    add_interaction(contact, subject="<img src=x onerror=alert(2)>")
    create_task(title="<b>bold</b>", due_at=timezone.now() - timedelta(hours=1), contact=contact)
    page = owner_client.get(HOME).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page and "<b>bold</b>" not in page


def _count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(HOME).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_data(owner_client):
    owner_client.get(HOME)
    contact = Contact.objects.create(last_name="x")
    create_task(title="t", contact=contact, due_at=timezone.now() - timedelta(hours=1))
    add_interaction(contact, subject="s")
    few = _count_queries(owner_client)
    for i in range(15):
        other = Contact.objects.create(last_name=f"y{i}", lifecycle_stage="customer")
        create_task(title=f"t{i}", contact=other, due_at=timezone.now() - timedelta(hours=i + 2))
        add_interaction(other, subject=f"s{i}")
        Order.objects.create(contact=other, total=i)
    assert _count_queries(owner_client) == few


def test_the_demo_button_fills_an_empty_database_only(owner_client, monkeypatch):
    calls = []
    fake = types.ModuleType("solocrm.web.demo")
    fake.DemoDataExists = type("DemoDataExists", (Exception,), {})
    fake.load_demo = lambda progress=None, **options: calls.append(options)
    monkeypatch.setitem(sys.modules, "solocrm.web.demo", fake)
    response = owner_client.post("/demo/", follow=True)
    assert len(calls) == 1 and "Demo data loaded" in response.content.decode()
    Contact.objects.create(last_name="real customer")
    response = owner_client.post("/demo/", follow=True)
    assert len(calls) == 1 and "only be loaded into an empty database" in response.content.decode()


def test_only_the_owner_may_load_demo_data(assistant_client):
    assert assistant_client.post("/demo/").status_code == 403
    assert assistant_client.get("/demo/").status_code == 405


def test_outside_tests_the_demo_loads_in_the_background(owner_client, owner, monkeypatch, settings):
    settings.SOLOCRM_JOBS_INLINE = False
    started = []

    class FakeThread:
        def __init__(self, target, args, daemon):
            started.append((target, args, daemon))

        def start(self):
            pass

    monkeypatch.setattr("solocrm.web.helpers.threading.Thread", FakeThread)
    response = owner_client.post("/demo/", follow=True)
    assert "being loaded" in response.content.decode()
    assert [(args[1], daemon) for _target, args, daemon in started] == [(owner.pk, True)]
