"""/api/v1/tickets: the queue with the page's filters, create, detail, PATCH with 409 on a stale
version, notes, merge; viewers read only, strangers get nothing."""

import pytest

from solocrm.support.tickets import services
from solocrm.support.tickets.choices import EventKind, Priority, TicketSource, TicketStatus
from solocrm.support.tickets.models import Ticket

URL = "/api/v1/tickets"


def _json(client, method: str, url: str, data=None):
    return getattr(client, method)(url, data, content_type="application/json")


@pytest.fixture
def ticket(customer):
    return services.create_ticket(
        contact=customer, subject="Broken login", body="Help", source=TicketSource.EMAIL
    )


def test_a_ticket_is_created_for_a_contact(owner_client, customer, assistant):
    body = {
        "contact": str(customer.uuid),
        "subject": "Refund",
        "body": "Please refund order 12",
        "priority": "high",
        "assignee": assistant.username,
        "tags": ["billing"],
    }
    response = _json(owner_client, "post", URL, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["subject"], data["priority"], data["source"]) == ("Refund", "high", "api")
    assert data["assignee"] == assistant.username and data["tags"] == ["billing"]
    assert data["sla_state"] in ("on_track", "due_soon")
    assert data["events"][0]["kind"] == EventKind.CUSTOMER_REPLY


def test_bad_input_names_the_field(owner_client, customer):
    response = _json(owner_client, "post", URL, {"contact": str(customer.uuid), "subject": ""})
    assert response.status_code == 422
    response = _json(
        owner_client, "post", URL, {"contact": "0190a000-0000-7000-8000-000000000000", "subject": "x"}
    )
    assert response.status_code == 422 and "contact" in str(response.json())


def test_the_list_uses_the_queue_filters(owner_client, ticket, customer):
    other = services.create_ticket(contact=customer, subject="Invoice", body="", source=TicketSource.API)
    services.set_status(other, TicketStatus.SOLVED, user=None)
    response = owner_client.get(URL, {"status": "active"})
    assert [t["number"] for t in response.json()["items"]] == [ticket.number]
    response = owner_client.get(URL, {"q": f"#{other.number}"})
    assert [t["number"] for t in response.json()["items"]] == [other.number]
    assert owner_client.get(URL, {"sla": "paused"}).json()["count"] == 1
    assert owner_client.get(URL, {"status": "bogus"}).status_code == 422


def test_patch_changes_fields_and_refuses_a_stale_version(owner_client, ticket, assistant, deal):
    url = f"{URL}/{ticket.uuid}"
    change = {
        "version": ticket.version,
        "status": "open",
        "priority": "urgent",
        "assignee": assistant.username,
        "tags": ["vip"],
        "deal": str(deal.uuid),
    }
    response = _json(owner_client, "patch", url, change)
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["status"], data["priority"], data["assignee"], data["tags"]) == (
        "open",
        "urgent",
        "arthur",
        ["vip"],
    )
    assert data["deal"] == str(deal.uuid)
    stale = _json(owner_client, "patch", url, {"version": ticket.version, "priority": "low"})
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["detail"]
    assert Ticket.objects.get().priority == Priority.URGENT
    unassign = _json(owner_client, "patch", url, {"assignee": ""})
    assert unassign.json()["assignee"] is None


def test_a_viewer_cannot_be_assigned(owner_client, ticket, viewer):
    response = _json(owner_client, "patch", f"{URL}/{ticket.uuid}", {"assignee": viewer.username})
    assert response.status_code == 422


def test_notes_and_merge(owner_client, ticket, customer):
    response = _json(owner_client, "post", f"{URL}/{ticket.uuid}/notes", {"body": "Called her back"})
    assert response.status_code == 201 and response.json()["kind"] == "note"
    other = services.create_ticket(
        contact=customer, subject="Same thing", body="Again", source=TicketSource.API
    )
    response = _json(owner_client, "post", f"{URL}/{other.uuid}/merge", {"into": str(ticket.uuid)})
    assert response.status_code == 200 and response.json()["number"] == ticket.number
    detail = owner_client.get(f"{URL}/{ticket.uuid}").json()
    assert [e["body"] for e in detail["events"] if e["kind"] == "customer_reply"] == ["Help", "Again"]
    merged = owner_client.get(f"{URL}/{other.uuid}").json()
    assert merged["status"] == "closed" and merged["merged_into"] == str(ticket.uuid)


def test_a_viewer_reads_but_cannot_change(viewer_client, ticket):
    assert viewer_client.get(URL).status_code == 200
    assert viewer_client.get(f"{URL}/{ticket.uuid}").status_code == 200
    assert _json(viewer_client, "patch", f"{URL}/{ticket.uuid}", {"priority": "low"}).status_code == 403
    assert _json(viewer_client, "post", f"{URL}/{ticket.uuid}/notes", {"body": "x"}).status_code == 403


def test_a_stranger_gets_nothing(client, ticket):
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}/{ticket.uuid}").status_code == 401


@pytest.mark.parametrize("rows", [3, 30])
def test_the_list_query_count_does_not_grow_with_rows(
    owner_client, customer, owner, django_assert_max_num_queries, rows
):
    for i in range(rows):
        ticket = services.create_ticket(contact=customer, subject=f"Q{i}", body="", source=TicketSource.API)
        services.update_ticket(ticket, user=owner, tags=["vip"], assignee=owner)
    with django_assert_max_num_queries(8):
        response = owner_client.get(URL, {"limit": 50})
    assert response.json()["count"] == rows
