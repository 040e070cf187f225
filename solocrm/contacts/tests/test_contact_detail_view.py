"""The contact page: header, timeline, orders, tasks, and the note and task forms."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from solocrm.contacts.models import Company, Contact, Interaction
from solocrm.contacts.services import add_interaction, set_tags
from solocrm.sales.models import Order, Task
from solocrm.sales.tasks.services import create_task

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def contact(db) -> Contact:
    company = Company.objects.create(name="Analytical Engines Ltd")
    contact = Contact.objects.create(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        phone="+442079460958",
        company=company,
        lifecycle_stage="customer",
    )
    contact.give_consent("shop checkout")
    contact.save()
    set_tags(contact, ["vip"])
    return contact


def _url(contact: Contact, name: str = "detail") -> str:
    # Tasks are added by the sales app (it owns tasks), on the contact's behalf.
    view = "sales:contact_add_task" if name == "add_task" else f"contacts:{name}"
    return reverse(view, args=[contact.uuid])


def test_the_stranger_is_sent_to_login(client, owner, contact):
    assert client.get(_url(contact))["Location"].startswith("/accounts/login/?next=")


def test_an_unknown_contact_is_404(owner_client):
    assert owner_client.get("/contacts/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_the_header_shows_who_the_contact_is(viewer_client, contact):
    page = viewer_client.get(_url(contact)).content.decode()
    for text in ("Ada Lovelace", "Analytical Engines Ltd", "Customer", "vip", "Marketing e-mail", "since"):
        assert text in page
    assert 'href="mailto:ada@example.com"' in page and 'href="tel:+442079460958"' in page


def test_the_timeline_is_newest_first(viewer_client, contact):
    now = timezone.now()
    add_interaction(contact, subject="older call", kind="call", occurred_at=now - timedelta(days=2))
    add_interaction(contact, subject="newest note", occurred_at=now)
    page = viewer_client.get(_url(contact)).content.decode()
    assert page.index("newest note") < page.index("older call")
    assert "Call" in page


def test_a_long_timeline_loads_more_on_demand(viewer_client, contact):
    start = timezone.now()
    for i in range(25):
        add_interaction(contact, subject=f"entry {i:02d}", occurred_at=start - timedelta(hours=i))
    page = viewer_client.get(_url(contact)).content.decode()
    assert "entry 00" in page and "entry 19" in page and "entry 20" not in page
    more = viewer_client.get(_url(contact, "timeline"), {"page": 2}, headers=HTMX).content.decode()
    assert "<html" not in more
    assert "entry 20" in more and "entry 24" in more and "entry 19" not in more
    # without JavaScript the same link is a page of the contact page
    older = viewer_client.get(_url(contact), {"timeline_page": 2}).content.decode()
    assert "entry 24" in older and "Newer entries" in older


def test_orders_show_status_and_paid_totals(viewer_client, contact):
    Order.objects.create(
        contact=contact, number="A-1", total=Decimal("100.00"), currency="EUR", status="paid"
    )
    Order.objects.create(
        contact=contact, number="A-2", total=Decimal("50.50"), currency="EUR", status="fulfilled"
    )
    Order.objects.create(
        contact=contact, number="A-3", total=Decimal("999.00"), currency="EUR", status="cancelled"
    )
    response = viewer_client.get(_url(contact))
    page = response.content.decode()
    assert "A-1" in page and "A-3" in page and "Cancelled" in page
    totals = list(response.context["order_totals"])
    assert totals == [{"currency": "EUR", "count": 2, "revenue": Decimal("150.50")}]
    assert "150.50 EUR" in page


def test_open_and_done_tasks_are_listed(viewer_client, contact):
    create_task(title="call back", contact=contact)
    done = create_task(title="send brochure", contact=contact)
    done.complete()
    response = viewer_client.get(_url(contact))
    assert [t.title for t in response.context["open_tasks"]] == ["call back"]
    assert [t.title for t in response.context["done_tasks"]] == ["send brochure"]


def test_a_viewer_sees_no_edit_controls(viewer_client, contact):
    create_task(title="call back", contact=contact)
    page = viewer_client.get(_url(contact)).content.decode()
    assert _url(contact, "add_note") not in page
    assert _url(contact, "add_task") not in page
    assert _url(contact, "edit") not in page
    assert "/toggle/" not in page


@pytest.mark.parametrize("name", ["add_note", "add_task"])
def test_a_viewer_cannot_write(viewer_client, contact, name):
    response = viewer_client.post(
        _url(contact, name), {"body": "x", "title": "x", "kind": "note", "priority": 2}
    )
    assert response.status_code == 403
    assert not Interaction.objects.exists() and not Task.objects.exists()


def test_the_owner_sees_edit_and_delete_but_an_assistant_no_delete(owner_client, assistant, contact):
    page = owner_client.get(_url(contact)).content.decode()
    assert _url(contact, "edit") in page and _url(contact, "delete") in page
    owner_client.force_login(assistant)
    page = owner_client.get(_url(contact)).content.decode()
    assert _url(contact, "edit") in page and _url(contact, "delete") not in page


def test_adding_a_note_without_javascript(assistant_client, assistant, contact):
    response = assistant_client.post(
        _url(contact, "add_note"), {"kind": "call", "subject": "Rang", "body": "Wants a quote"}
    )
    assert response["Location"] == _url(contact)
    note = contact.interactions.get()
    assert (note.kind, note.subject, note.body, note.author) == ("call", "Rang", "Wants a quote", assistant)
    assert "Wants a quote" in assistant_client.get(_url(contact)).content.decode()


def test_adding_a_note_with_htmx_returns_a_fresh_form_and_the_timeline(assistant_client, contact):
    response = assistant_client.post(
        _url(contact, "add_note"), {"kind": "note", "body": "Met at the fair"}, headers=HTMX
    )
    page = response.content.decode()
    assert "<html" not in page
    assert 'id="composer"' in page and "Added to the timeline" in page
    assert 'id="timeline"' in page and 'hx-swap-oob="true"' in page
    assert "Met at the fair" in page


def test_an_empty_note_is_refused_with_an_error(assistant_client, contact):
    response = assistant_client.post(_url(contact, "add_note"), {"kind": "note", "body": ""}, headers=HTMX)
    assert "This field is required" in response.content.decode()
    assert "hx-swap-oob" not in response.content.decode()
    response = assistant_client.post(_url(contact, "add_note"), {"kind": "bogus", "body": "x"})
    assert response.status_code == 422 and "kind" in response.context["note_form"].errors
    assert not contact.interactions.exists()


def test_adding_a_task_with_a_date_but_no_time(assistant_client, assistant, contact):
    day = timezone.localdate() + timedelta(days=2)
    response = assistant_client.post(
        _url(contact, "add_task"), {"title": "Send quote", "due_date": day.isoformat(), "priority": 3}
    )
    assert response["Location"] == _url(contact) + "?compose=task#composer"
    task = contact.tasks.get()
    due = timezone.localtime(task.due_at)
    assert (due.date(), due.hour, due.minute) == (day, 23, 59)
    assert (task.priority, task.assignee, task.company) == (3, assistant, contact.company)


def test_adding_a_task_with_htmx_refreshes_the_task_list(assistant_client, contact):
    response = assistant_client.post(
        _url(contact, "add_task"),
        {"title": "Call back", "due_date": "2031-05-04", "due_time": "09:30", "priority": 2},
        headers=HTMX,
    )
    page = response.content.decode()
    assert 'id="tasks"' in page and 'hx-swap-oob="true"' in page and "Call back" in page
    assert timezone.localtime(contact.tasks.get().due_at).strftime("%Y-%m-%d %H:%M") == "2031-05-04 09:30"


def test_a_task_time_without_a_date_is_an_error(assistant_client, contact):
    response = assistant_client.post(
        _url(contact, "add_task"), {"title": "x", "due_time": "09:00", "priority": 2}
    )
    assert "due_date" in response.context["task_form"].errors
    assert not contact.tasks.exists()


def test_user_content_is_escaped(owner_client, contact):
    contact.first_name = "<script>alert(1)</script>"
    contact.save()
    add_interaction(contact, subject="<b>bold</b>", body="<img src=x onerror=alert(2)>")
    page = owner_client.get(_url(contact)).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page and "<img src=x" not in page


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_history(owner_client, contact):
    owner_client.get(_url(contact))
    add_interaction(contact, subject="one")
    Order.objects.create(contact=contact, total=1)
    create_task(title="one", contact=contact)
    few = _count_queries(owner_client, _url(contact))
    for i in range(30):
        add_interaction(contact, subject=f"more {i}", actor=None)
        Order.objects.create(contact=contact, total=i)
        create_task(title=f"more {i}", contact=contact).complete()
        create_task(title=f"open {i}", contact=contact)
    assert _count_queries(owner_client, _url(contact)) == few
