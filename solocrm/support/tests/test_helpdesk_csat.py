"""The CSAT answer page: signed links, a GET that records nothing, one answer per ticket that
the customer may change, counted once by the satisfaction analytics."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from solocrm.analytics import queries
from solocrm.contacts.choices import InteractionKind
from solocrm.contacts.models import Contact, Interaction
from solocrm.support.helpdesk import services
from solocrm.support.helpdesk.models import CsatAnswer
from solocrm.support.tickets.choices import EventKind, TicketStatus
from solocrm.support.tickets.models import Ticket, TicketEvent
from solocrm.users.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _set_up(owner):
    """An owner exists (else every page leads to first-run set-up)."""


@pytest.fixture
def client():
    # A stranger's browser: no session, and Django's CSRF check switched on as in real life.
    return Client(enforce_csrf_checks=True)


def solved_ticket(number: int = 1, **fields) -> Ticket:
    contact = fields.pop("contact", None) or Contact.objects.create(
        first_name="Ada", last_name="Lovelace", email=f"ada{number}@example.com"
    )
    now = timezone.now()
    return Ticket.objects.create(
        number=number,
        subject=fields.pop("subject", "Parcel never arrived"),
        contact=contact,
        status=TicketStatus.SOLVED,
        solved_at=now,
        **fields,
    )


def url(ticket: Ticket, score: int) -> str:
    return reverse("helpdesk_public:csat", args=[services.csat_token(ticket, score)])


def test_the_link_opens_a_page_with_its_score_preselected_and_records_nothing(client):
    ticket = solved_ticket()
    response = client.get(url(ticket, 4))
    assert response.status_code == 200
    html = response.content.decode()
    checked = re.findall(r'<input type="radio"[^>]*value="(\d)"[^>]*checked', html)
    assert checked == ["4"]
    assert "Content-Security-Policy" in response.headers
    assert not CsatAnswer.objects.exists()
    assert not Interaction.objects.filter(kind=InteractionKind.SURVEY).exists()
    assert not TicketEvent.objects.filter(kind=EventKind.CSAT).exists()


def test_a_head_request_records_nothing_either(client):
    ticket = solved_ticket()
    assert client.head(url(ticket, 5)).status_code == 200
    assert not CsatAnswer.objects.exists()


def test_the_post_records_the_answer_on_the_timeline_and_the_ticket(client):
    ticket = solved_ticket()
    response = client.post(url(ticket, 5), {"score": "5", "comment": "Quick and kind"})
    assert response.status_code == 200
    answer = CsatAnswer.objects.get()
    assert (answer.ticket, answer.contact, answer.score, answer.comment) == (
        ticket,
        ticket.contact,
        5,
        "Quick and kind",
    )
    assert answer.changed_at is None
    entry = Interaction.objects.get(kind=InteractionKind.SURVEY)
    assert entry.contact == ticket.contact
    assert entry.data["metric"] == "csat" and entry.data["score"] == 5
    event = TicketEvent.objects.get(kind=EventKind.CSAT)
    assert event.ticket == ticket and event.data == {"score": 5, "changed": False, "to": "5 / 5"}
    audit = AuditLog.objects.get(action="ticket.csat")
    assert (audit.actor, audit.object_uuid, audit.summary) == (None, ticket.uuid, "#1: 5")


def test_the_page_may_record_another_score_than_the_link_preselected(client):
    ticket = solved_ticket()
    client.post(url(ticket, 5), {"score": "2"})
    assert CsatAnswer.objects.get().score == 2


def test_changing_the_answer_keeps_one_answer_and_one_timeline_entry(client):
    ticket = solved_ticket()
    client.post(url(ticket, 2), {"score": "2"})
    response = client.post(url(ticket, 5), {"score": "5", "comment": "Fixed after all"})
    assert response.status_code == 200
    answer = CsatAnswer.objects.get()
    assert answer.score == 5 and answer.changed_at is not None
    entry = Interaction.objects.get(kind=InteractionKind.SURVEY)
    assert entry.data["score"] == 5 and entry.body == "Fixed after all"
    events = TicketEvent.objects.filter(kind=EventKind.CSAT).values_list("data", flat=True)
    assert [(e["score"], e["changed"]) for e in events] == [(2, False), (5, True)]
    page = client.get(url(ticket, 3)).content.decode()
    assert "Your answer so far: 5 of 5" in page


def test_the_ticket_page_shows_the_answer_in_its_history(client, owner_client):
    ticket = solved_ticket()
    client.post(url(ticket, 4), {"score": "4", "comment": "Thanks"})
    page = owner_client.get(reverse("support:ticket", args=[ticket.uuid])).content.decode()
    assert "Satisfaction answer: 4 / 5" in " ".join(page.split())


def test_the_satisfaction_analytics_count_a_changed_answer_once(client):
    ticket = solved_ticket()
    client.post(url(ticket, 1), {"score": "1"})
    client.post(url(ticket, 4), {"score": "4"})
    today = timezone.localdate()
    answers = queries.survey_answers(today, date(today.year - 1, 1, 1))
    csat = answers[answers["metric"] == "csat"]
    assert int(csat["answers"].sum()) == 1
    assert csat["score"].tolist() == [4]


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "",
        "x" * 300,
        signing.dumps({"t": "0" * 32, "s": 5}, salt=services.CSAT_SALT),  # no such ticket
        signing.dumps({"t": "abc", "s": 5}, salt=services.CSAT_SALT),
        signing.dumps({"s": 5}, salt=services.CSAT_SALT),
    ],
)
def test_a_forged_or_unknown_link_gets_a_clear_page_and_records_nothing(client, token):
    solved_ticket()
    path = f"/help/ask/rate/{token}/" if token else "/help/ask/rate/x/"
    for response in (client.get(path), client.post(path, {"score": "5"})):
        assert response.status_code == 404
        assert "This link is not valid" in response.content.decode()
    assert not CsatAnswer.objects.exists()


def test_an_edited_link_for_another_ticket_is_refused(client):
    ticket = solved_ticket()
    other = solved_ticket(2)
    token = services.csat_token(ticket, 5)
    _value, signature = token.rsplit(":", 1)
    forged = signing.dumps({"t": other.uuid.hex, "s": 5}, salt="another salt").rsplit(":", 1)[0]
    response = client.post(f"/help/ask/rate/{forged}:{signature}/", {"score": "1"})
    assert response.status_code == 404
    assert not CsatAnswer.objects.exists()


def test_a_link_signed_with_the_form_salt_is_refused(client):
    ticket = solved_ticket()
    token = signing.dumps({"t": ticket.uuid.hex, "s": 5}, salt=services.FORM_SALT)
    assert client.get(f"/help/ask/rate/{token}/").status_code == 404


def test_a_year_old_link_still_works_but_an_older_one_does_not(client, monkeypatch):
    ticket = solved_ticket()
    token = services.csat_token(ticket, 5)
    assert services.read_csat_token(token).ticket == ticket
    monkeypatch.setattr(services, "CSAT_TOKEN_MAX_AGE", -1)
    with pytest.raises(services.CsatTokenError):
        services.read_csat_token(token)


def test_an_unsolved_ticket_takes_no_answer(client):
    ticket = solved_ticket()
    Ticket.objects.filter(pk=ticket.pk).update(solved_at=None, status=TicketStatus.OPEN)
    assert client.post(url(ticket, 5), {"score": "5"}).status_code == 404


@pytest.mark.parametrize("score", ["0", "6", "abc", ""])
def test_a_score_outside_one_to_five_is_a_clear_error(client, score):
    ticket = solved_ticket()
    response = client.post(url(ticket, 5), {"score": score})
    assert response.status_code == 400
    assert not CsatAnswer.objects.exists()


def test_the_comment_is_escaped_on_the_page(client):
    ticket = solved_ticket(subject="<script>alert(1)</script>")
    client.post(url(ticket, 3), {"score": "3", "comment": "<img src=x onerror=alert(1)>"})
    page = client.get(url(ticket, 3)).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page


def test_answers_are_rate_limited(client, settings):
    ticket = solved_ticket()
    for _ in range(30):
        client.post(url(ticket, 4), {"score": "4"})
    response = client.post(url(ticket, 4), {"score": "4"})
    assert response.status_code == 429
    assert CsatAnswer.objects.count() == 1


def test_opening_pages_is_rate_limited_too(client, monkeypatch):
    from solocrm.support.helpdesk import views_public

    monkeypatch.setattr(views_public, "CSAT_VIEW_LIMIT", 3)
    ticket = solved_ticket()
    assert [client.get(url(ticket, 5)).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_a_mail_scanner_opening_every_link_records_nothing(client):
    ticket = solved_ticket()
    for score in range(1, 6):
        assert client.get(url(ticket, score)).status_code == 200
    assert not CsatAnswer.objects.exists()


def test_record_csat_refuses_a_score_out_of_range():
    ticket = solved_ticket()
    with pytest.raises(ValueError):
        services.record_csat(ticket, 6)


def test_answering_twice_at_the_same_moment_keeps_one_answer():
    ticket = solved_ticket()
    moment = timezone.now() - timedelta(minutes=1)
    services.record_csat(ticket, 3, now=moment)
    services.record_csat(ticket, 4, now=moment)
    assert CsatAnswer.objects.count() == 1
    assert Interaction.objects.filter(kind=InteractionKind.SURVEY).count() == 1
