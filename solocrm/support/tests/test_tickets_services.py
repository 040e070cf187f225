"""The ticket services: numbering, SLA clocks, status rules, assignment, tags, merge, links,
optimistic concurrency, the timeline and the solved hook."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from solocrm.contacts.models import Interaction
from solocrm.support.tickets import hooks
from solocrm.support.tickets import services as tickets
from solocrm.support.tickets.choices import EventKind, Priority, TicketSource, TicketStatus
from solocrm.support.tickets.models import SlaPolicy, Ticket, TicketEvent

from .helpers import travel

MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _utc(settings):
    settings.TIME_ZONE = "UTC"


def _new(customer, **kwargs) -> Ticket:
    kwargs.setdefault("subject", "Printer on fire")
    kwargs.setdefault("body", "It smokes.")
    kwargs.setdefault("source", TicketSource.MANUAL)
    return tickets.create_ticket(contact=customer, **kwargs)


def test_a_ticket_gets_the_next_number_and_its_deadlines(db, customer, owner):
    with travel(MONDAY_10):
        first = _new(customer, user=owner)
        second = _new(customer, priority=Priority.URGENT)
    assert (first.number, second.number) == (1, 2)
    policy = SlaPolicy.objects.get()
    assert policy.is_default and first.sla_policy == policy
    # Normal: first response in 8 business hours (Monday 10:00 → Tuesday 10:00).
    assert first.first_response_due == datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
    assert first.next_due == first.first_response_due
    assert second.first_response_due == datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
    event = first.events.get()
    assert (event.kind, event.body, event.author) == (EventKind.CUSTOMER_REPLY, "It smokes.", owner)


def test_opening_a_ticket_writes_the_customers_timeline(db, customer):
    ticket = _new(customer)
    entry = Interaction.objects.get(contact=customer)
    assert entry.subject == f"Ticket #{ticket.number} opened: Printer on fire"
    assert entry.data["ticket"] == str(ticket.uuid)


def test_bad_input_is_refused_with_a_reason(db, customer):
    with pytest.raises(tickets.TicketError, match="source"):
        _new(customer, source="fax")
    with pytest.raises(tickets.TicketError, match="priority"):
        _new(customer, priority="whenever")
    assert _new(customer, subject="  ").subject == "(no subject)"


def test_a_stale_version_is_a_conflict(db, customer, owner):
    ticket = _new(customer)
    tickets.set_priority(ticket, Priority.HIGH, user=owner, version=ticket.version)
    with pytest.raises(tickets.StaleTicket, match="changed by someone else"):
        tickets.set_priority(ticket, Priority.LOW, user=owner, version=ticket.version)
    assert Ticket.objects.get().priority == Priority.HIGH


def test_waiting_on_the_customer_stops_the_resolution_clock(db, customer, owner):
    with travel(MONDAY_10):
        ticket = _new(customer)
        due = ticket.resolution_due
    with travel(MONDAY_10 + timedelta(hours=1)):
        ticket = tickets.set_status(ticket, TicketStatus.WAITING, user=owner)
        assert ticket.next_due is None and ticket.waiting_since is not None
    # Back two business hours later (Monday 11:00 → 13:00): the deadline moves by two hours.
    with travel(MONDAY_10 + timedelta(hours=3)):
        ticket = tickets.set_status(ticket, TicketStatus.OPEN, user=owner)
    assert ticket.paused_minutes == 120
    assert ticket.resolution_due == due + timedelta(hours=2)
    assert ticket.waiting_since is None


def test_solving_records_the_time_writes_the_timeline_and_tells_the_listeners(db, customer, owner):
    heard = []

    @hooks.on_solved
    def listener(ticket):
        heard.append(ticket.number)

    try:
        ticket = _new(customer)
        ticket = tickets.set_status(ticket, TicketStatus.SOLVED, user=owner)
    finally:
        hooks._solved.pop(f"{listener.__module__}.{listener.__qualname__}")
    assert heard == [ticket.number]
    assert ticket.solved_at is not None and ticket.next_due is None
    assert Interaction.objects.filter(subject__startswith=f"Ticket #{ticket.number} solved").exists()
    reopened = tickets.set_status(ticket, TicketStatus.OPEN, user=owner)
    assert reopened.solved_at is None and reopened.next_due is not None


def test_only_the_owner_or_an_assistant_can_be_assigned(db, customer, owner, assistant, viewer):
    ticket = _new(customer)
    ticket = tickets.assign(ticket, assistant, user=owner)
    assert ticket.assignee == assistant
    with pytest.raises(tickets.TicketError, match="cannot be given tickets"):
        tickets.assign(ticket, viewer, user=owner)
    assert set(tickets.assignable_users()) == {owner, assistant}


def test_tags_are_set_as_a_list(db, customer, owner):
    ticket = _new(customer)
    tickets.set_tags(ticket, ["billing", "Billing", " vip "], user=owner)
    assert sorted(t.name for t in ticket.tags.all()) == ["billing", "vip"]


def test_a_priority_change_moves_the_deadlines(db, customer, owner):
    with travel(MONDAY_10):
        ticket = _new(customer)
        ticket = tickets.set_priority(ticket, Priority.URGENT, user=owner)
    assert ticket.first_response_due == datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
    assert ticket.events.filter(kind=EventKind.PRIORITY).exists()


def test_merging_moves_the_conversation_and_closes_the_merged_one(db, customer, owner):
    target = _new(customer, subject="Invoice missing")
    source = _new(customer, subject="Where is my invoice?")
    tickets.add_note(source, "Called her", user=owner)
    tickets.set_tags(source, ["billing"], user=owner)
    target = tickets.merge_tickets(source, target, user=owner)
    source.refresh_from_db()
    assert source.status == TicketStatus.CLOSED and source.merged_into == target
    assert list(target.tags.values_list("name", flat=True)) == ["billing"]
    assert target.events.filter(kind=EventKind.NOTE, body="Called her").exists()
    with pytest.raises(tickets.TicketError):
        tickets.merge_tickets(source, target, user=owner)
    with pytest.raises(tickets.TicketError):
        tickets.set_status(source, TicketStatus.OPEN, user=owner)


def test_linking_a_deal_and_an_order(db, customer, owner, deal):
    ticket = _new(customer)
    ticket = tickets.link(ticket, user=owner, deal=deal)
    assert ticket.deal == deal
    assert ticket.events.filter(kind=EventKind.LINK).exists()
    assert tickets.link(ticket, user=owner, deal=None).deal is None


def test_bulk_changes_apply_to_every_ticket_or_none(db, customer, owner, viewer):
    batch = [_new(customer) for _ in range(3)]
    assert tickets.bulk_update(batch, "priority", Priority.HIGH, user=owner) == 3
    assert tickets.bulk_update(Ticket.objects.prefetch_related("tags"), "tag", "vip", user=owner) == 3
    with pytest.raises(tickets.TicketError):
        tickets.bulk_update(Ticket.objects.all(), "assign", viewer, user=owner)
    assert not Ticket.objects.filter(assignee=viewer).exists()


def test_canned_replies_fill_their_fields(db, customer, owner):
    canned = tickets.save_canned_reply(
        None, title="Thanks", body="Hi {first_name}, about #{ticket_number}…", user=owner
    )
    ticket = _new(customer)
    assert tickets.fill_canned(canned, ticket) == f"Hi Ada, about #{ticket.number}…"
    with pytest.raises(tickets.Conflict):
        tickets.save_canned_reply(None, title="thanks", body="x", user=owner)


def test_a_policy_change_is_validated(db, owner):
    policy = tickets.default_policy()
    with pytest.raises(tickets.TicketError, match="Business hours"):
        tickets.save_policy(policy, user=owner, business_hours={"0": [["18:00", "09:00"]]})
    with pytest.raises(tickets.TicketError, match="not a date"):
        tickets.save_policy(policy, user=owner, holidays=["Christmas"])
    with pytest.raises(tickets.TicketError, match="target"):
        tickets.save_policy(policy, user=owner, first_response_minutes={"low": -1})
    tickets.save_policy(policy, user=owner, holidays=["2026-12-25", "2026-12-25"])
    assert SlaPolicy.objects.get().holidays == ["2026-12-25"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_never_share_a_number(customer):
    """Two connections create tickets at once (on PostgreSQL truly in parallel)."""
    tickets.default_policy()
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def create(n: int) -> None:
        try:
            barrier.wait()
            for _ in range(5):
                _new(customer, subject=f"thread {n}")
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs two PostgreSQL connections")
    workers = [threading.Thread(target=create, args=(n,)) for n in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    numbers = sorted(Ticket.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 11))
    assert TicketEvent.objects.count() == 10


def test_the_badge_says_how_much_business_time_is_left_or_late(db, customer):
    with travel(MONDAY_10):
        ticket = _new(customer, priority=Priority.URGENT)  # first response due 11:00
    summary = tickets.sla_summary(ticket, MONDAY_10 + timedelta(minutes=20))
    assert summary == {"state": "due_soon", "tone": "warning", "text": "First response: 40 min left"}
    late = tickets.sla_summary(ticket, MONDAY_10 + timedelta(hours=3))
    assert late["state"] == "breached" and late["text"] == "First response: late by 2 h 0 min"
    # After hours the clock stands still, but a passed deadline is still late.
    evening = tickets.sla_summary(ticket, datetime(2026, 12, 7, 20, 0, tzinfo=UTC))
    assert evening["text"] == "First response: late by 6 h 0 min"
