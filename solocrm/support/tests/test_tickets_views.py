"""The support pages: the queue (filters, bulk actions, query count), a ticket (notes, controls,
a stale form's 409, merge, links), a new ticket from the contact page, canned replies, the SLA
policy page, Today; roles: viewers read, strangers are sent to log in."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from solocrm.lib import today
from solocrm.support.tickets import services
from solocrm.support.tickets.choices import Priority, TicketSource, TicketStatus
from solocrm.support.tickets.models import CannedReply, SlaPolicy, Ticket

QUEUE = reverse("support:queue")


def _new(customer, subject="Broken login", **kwargs) -> Ticket:
    return services.create_ticket(
        contact=customer, subject=subject, body="Help!", source=TicketSource.EMAIL, **kwargs
    )


def _client(user) -> Client:
    """A second browser (the ``*_client`` fixtures share one)."""
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def ticket(customer, owner):
    return _new(customer)


def test_the_queue_lists_unsolved_tickets_with_their_sla(owner_client, ticket, customer):
    done = _new(customer, subject="Old question")
    services.set_status(done, TicketStatus.SOLVED, user=None)
    response = owner_client.get(QUEUE)
    assert response.status_code == 200
    body = response.content.decode()
    assert f"#{ticket.number} Broken login" in body and "Old question" not in body
    assert "First response:" in body and "left" in body
    assert "Old question" in owner_client.get(QUEUE, {"status": ""}).content.decode()


def test_the_queue_filters_by_sla_state_and_search(owner_client, customer, owner):
    late = _new(customer, subject="Late one")
    Ticket.objects.filter(pk=late.pk).update(next_due=timezone.now() - timedelta(hours=1))
    _new(customer, subject="Fresh one")
    body = owner_client.get(QUEUE, {"sla": "breached"}).content.decode()
    assert "Late one" in body and "Fresh one" not in body
    body = owner_client.get(QUEUE, {"q": "fresh"}).content.decode()
    assert "Fresh one" in body and "Late one" not in body
    bad = owner_client.get(QUEUE, {"sla": "whenever"})
    assert bad.status_code == 200 and "not understood" in bad.content.decode()


@pytest.mark.parametrize("rows", [3, 30])
def test_the_queue_query_count_does_not_grow_with_rows(
    owner_client, customer, owner, django_assert_max_num_queries, rows
):
    for i in range(rows):
        ticket = _new(customer, subject=f"Question {i}")
        services.update_ticket(ticket, user=owner, tags=["billing"], assignee=owner)
    with django_assert_max_num_queries(12):
        assert owner_client.get(QUEUE).status_code == 200


def test_bulk_actions_change_the_ticked_tickets(owner_client, customer, assistant):
    first, second, third = (_new(customer, subject=f"Q{i}") for i in range(3))
    picked = [str(first.uuid), str(second.uuid)]
    response = owner_client.post(
        reverse("support:bulk"), {"tickets": picked, "action": "assign", "assignee": assistant.username}
    )
    assert response.status_code == 302
    assert set(Ticket.objects.filter(assignee=assistant)) == {first, second}
    owner_client.post(reverse("support:bulk"), {"tickets": picked, "action": "tag", "tag": "vip"})
    assert Ticket.objects.filter(tags__name="vip").count() == 2
    owner_client.post(
        reverse("support:bulk"), {"tickets": [str(third.uuid)], "action": "status", "status": "solved"}
    )
    third.refresh_from_db()
    assert third.status == TicketStatus.SOLVED
    owner_client.post(
        reverse("support:bulk"), {"tickets": picked, "action": "priority", "priority": "urgent"}
    )
    assert Ticket.objects.filter(priority=Priority.URGENT).count() == 2


def test_a_viewer_reads_but_cannot_change(viewer_client, ticket):
    assert viewer_client.get(QUEUE).status_code == 200
    page = viewer_client.get(reverse("support:ticket", args=[ticket.uuid]))
    assert page.status_code == 200 and "Send reply" not in page.content.decode()
    response = viewer_client.post(reverse("support:ticket_note", args=[ticket.uuid]), {"body": "x"})
    assert response.status_code == 403
    response = viewer_client.post(
        reverse("support:bulk"), {"tickets": [str(ticket.uuid)], "action": "tag", "tag": "x"}
    )
    assert response.status_code == 403
    assert viewer_client.get(reverse("support:ticket_create")).status_code == 403


def test_a_stranger_is_sent_to_log_in(client, ticket):
    for url in (QUEUE, reverse("support:ticket", args=[ticket.uuid]), reverse("support:sla_policy")):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_the_ticket_page_shows_the_conversation_and_takes_a_note(owner_client, ticket):
    url = reverse("support:ticket", args=[ticket.uuid])
    page = owner_client.get(url).content.decode()
    assert "Help!" in page and "Broken login" in page
    response = owner_client.post(
        reverse("support:ticket_note", args=[ticket.uuid]),
        {"body": "<b>Called</b>", "version": ticket.version},
    )
    assert response.status_code == 302
    page = owner_client.get(url).content.decode()
    assert "&lt;b&gt;Called&lt;/b&gt;" in page  # escaped


def test_the_controls_save_and_a_stale_form_gets_409(owner_client, ticket, assistant):
    url = reverse("support:ticket_update", args=[ticket.uuid])
    form = {
        "version": ticket.version,
        "status": "open",
        "priority": "high",
        "assignee": assistant.username,
        "tags": "a, b",
    }
    assert owner_client.post(url, form).status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == ("open", "high", assistant)
    history = owner_client.get(reverse("support:ticket", args=[ticket.uuid])).content.decode()
    assert "Priority changed: High" in history and "Tags changed: a, b" in history
    stale = owner_client.post(url, {**form, "priority": "low"})
    assert stale.status_code == 409 and "changed by someone else" in stale.content.decode()
    ticket.refresh_from_db()
    assert ticket.priority == Priority.HIGH


def test_merging_from_the_page(owner_client, ticket, customer):
    other = _new(customer, subject="Duplicate")
    response = owner_client.post(
        reverse("support:ticket_merge", args=[other.uuid]), {"into": ticket.number, "version": other.version}
    )
    assert response.status_code == 302 and str(ticket.uuid) in response["Location"]
    other.refresh_from_db()
    assert other.merged_into == ticket
    missing = owner_client.post(reverse("support:ticket_merge", args=[ticket.uuid]), {"into": 999})
    assert missing.status_code == 422 and "no ticket #999" in missing.content.decode()


def test_linking_a_deal(owner_client, ticket, deal):
    response = owner_client.post(
        reverse("support:ticket_link", args=[ticket.uuid]), {"deal": str(deal.uuid), "order": ""}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.deal == deal


def test_a_new_ticket_from_the_contact_page(owner_client, customer):
    page = owner_client.get(reverse("contacts:detail", args=[customer.uuid])).content.decode()
    create = reverse("support:ticket_create")
    assert f"{create}?contact={customer.uuid}" in page
    form = owner_client.get(create, {"contact": customer.uuid}).content.decode()
    assert customer.email in form
    response = owner_client.post(
        create, {"email": customer.email, "subject": "Phone call", "body": "Asked", "priority": "low"}
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and ticket.source == TicketSource.MANUAL
    assert "Phone call" in owner_client.get(reverse("contacts:detail", args=[customer.uuid])).content.decode()
    unknown = owner_client.post(create, {"email": "nobody@x.test", "subject": "x", "priority": "low"})
    assert unknown.status_code == 422 and "No contact has this e-mail" in unknown.content.decode()


def test_canned_replies_are_managed_and_inserted(owner_client, ticket, viewer):
    response = owner_client.post(
        reverse("support:canned_list"), {"title": "Thanks", "body": "Hi {first_name}!"}
    )
    assert response.status_code == 302
    canned = CannedReply.objects.get()
    duplicate = owner_client.post(reverse("support:canned_list"), {"title": "thanks", "body": "x"})
    assert duplicate.status_code == 422
    page = owner_client.get(
        reverse("support:ticket", args=[ticket.uuid]), {"canned": canned.uuid}
    ).content.decode()
    assert "Hi Ada!" in page
    fragment = owner_client.get(
        reverse("support:ticket", args=[ticket.uuid]), {"canned": canned.uuid}, headers={"HX-Request": "true"}
    )
    assert 'id="reply-box"' in fragment.content.decode() and "<html" not in fragment.content.decode()
    typed = owner_client.get(
        reverse("support:ticket", args=[ticket.uuid]),
        {"canned": canned.uuid, "body": "Sorry for the wait."},
        headers={"HX-Request": "true"},
    )
    assert "Sorry for the wait.\n\nHi Ada!" in typed.content.decode()  # typed text kept, canned after
    owner_client.post(
        reverse("support:canned_edit", args=[canned.uuid]), {"title": "Thank you", "body": "Hi"}
    )
    assert CannedReply.objects.get().title == "Thank you"
    assert (
        _client(viewer).post(reverse("support:canned_list"), {"title": "V", "body": "x"}).status_code == 403
    )
    owner_client.post(reverse("support:canned_delete", args=[canned.uuid]))
    assert not CannedReply.objects.exists()


def test_the_owner_edits_the_sla_policy(owner_client, assistant):
    url = reverse("support:sla_policy")
    page = owner_client.get(url)
    assert page.status_code == 200 and SlaPolicy.objects.count() == 1
    form = {f"open_{d}": "08:00" for d in range(5)} | {f"close_{d}": "16:00" for d in range(5)}
    form |= {f"first_{p}": 30 for p in Priority.values} | {f"resolve_{p}": 600 for p in Priority.values}
    form["holidays"] = "2026-12-25\n2026-12-26"
    response = owner_client.post(url, form)
    assert response.status_code == 302
    policy = SlaPolicy.objects.get()
    assert policy.business_hours["0"] == [["08:00", "16:00"]] and "5" not in policy.business_hours
    assert policy.holidays == ["2026-12-25", "2026-12-26"] and policy.first_response_minutes["urgent"] == 30
    bad = owner_client.post(url, {**form, "close_0": "07:00", "holidays": "soon"})
    assert bad.status_code == 422
    assert _client(assistant).get(url).status_code == 200
    assert _client(assistant).post(url, form).status_code == 403


def test_today_lists_tickets_past_or_near_their_sla(owner, customer):
    late = _new(customer, subject="Late")
    soon = _new(customer, subject="Soon")
    _new(customer, subject="Later")
    now = timezone.now()
    Ticket.objects.filter(pk=late.pk).update(next_due=now - timedelta(hours=2))
    Ticket.objects.filter(pk=soon.pk).update(next_due=now + timedelta(minutes=30))
    items = [item for item in today.collect(owner, now) if item.kind == "ticket"]
    assert [item.title.split(" · ")[0] for item in items] == [f"#{late.number} Late", f"#{soon.number} Soon"]
    assert "late by" in items[0].reason and items[0].score > items[1].score


def test_the_sidebar_has_the_support_entry(owner_client, ticket):
    page = owner_client.get(QUEUE).content.decode()
    assert 'href="/support/" aria-current="page"' in page


def test_the_reply_box_offers_help_article_links(owner_client, ticket):
    from solocrm.support.kb import services as kb

    kb.create_article(
        {"status": "published", "slug": "refunds"}, {"en": {"title": "Refunds", "body": "Ask us."}}
    )
    page = owner_client.get(reverse("support:ticket", args=[ticket.uuid])).content.decode()
    assert 'id="kb-q"' in page and "support/kb/insert-link.js" in page
    links = owner_client.get(reverse("kb:links"), {"q": "refunds", "target": "reply_body"}).content.decode()
    assert 'data-kb-target="reply_body"' in links and "/help/articles/refunds/" in links
