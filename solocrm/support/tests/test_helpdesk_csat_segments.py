"""CSAT by customer segment (solocrm.analytics.support_csat): the help desk's answers grouped by
the RFM segment on analytics' CustomerScore, on the satisfaction page and in the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from solocrm.analytics import support_csat
from solocrm.analytics.models import CustomerScore
from solocrm.contacts.models import Contact
from solocrm.support.helpdesk.models import CsatAnswer
from solocrm.support.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def answer(number: int, score: int, segment: str | None, days_ago: int = 1) -> CsatAnswer:
    contact = Contact.objects.create(first_name="C", email=f"c{number}@example.com")
    if segment is not None:
        CustomerScore.objects.create(contact=contact, computed_at=timezone.now(), rfm_segment=segment)
    ticket = Ticket.objects.create(number=number, subject="s", contact=contact, solved_at=timezone.now())
    answered = timezone.now() - timedelta(days=days_ago)
    return CsatAnswer.objects.create(ticket=ticket, contact=contact, score=score, answered_at=answered)


@pytest.fixture
def answers(db):
    answer(1, 5, "champions")
    answer(2, 3, "champions")
    answer(3, 4, "lost")
    answer(4, 1, None)  # never bought: no score row
    answer(5, 2, "")  # scored, but no segment: counted as not a customer
    answer(6, 5, "lost", days_ago=400)  # older than the period


def test_answers_are_grouped_by_segment_best_first(answers):
    rows = support_csat.csat_by_segment()
    assert [(r.segment, r.responses, r.average, r.satisfied) for r in rows] == [
        ("champions", 2, 4.0, 0.5),
        ("lost", 1, 4.0, 1.0),
        ("none", 2, 1.5, 0.0),
    ]
    assert rows[-1].label == "Not a customer yet"


def test_no_answers_give_an_empty_list():
    assert support_csat.csat_by_segment() == []


def test_the_satisfaction_page_shows_them_and_links_the_support_reports(viewer_client, answers):
    response = viewer_client.get("/analytics/satisfaction/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Support CSAT by segment" in html and "/support/reports/" in html
    assert "Not a customer yet" in html


def test_the_api_gives_the_same_rows(viewer_client, answers):
    body = viewer_client.get("/api/v1/analytics/support-csat").json()
    assert [(r["segment"], r["responses"], r["satisfied"]) for r in body] == [
        ("champions", 2, 0.5),
        ("lost", 1, 1.0),
        ("none", 2, 0.0),
    ]
    assert len(viewer_client.get("/api/v1/analytics/support-csat?days=500").json()) == 3
    assert viewer_client.get("/api/v1/analytics/support-csat?days=0").status_code == 422


def test_a_stranger_gets_nothing(client, owner):
    assert client.get("/api/v1/analytics/support-csat").status_code == 401


def test_the_satisfaction_page_costs_the_same_with_more_answers(viewer_client, answers):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    viewer_client.get("/analytics/satisfaction/")  # a session's first request fills caches
    with CaptureQueriesContext(connection) as few:
        viewer_client.get("/analytics/satisfaction/")
    for number in range(10, 40):
        answer(number, 4, "loyal")
    with CaptureQueriesContext(connection) as many:
        viewer_client.get("/analytics/satisfaction/")
    assert len(many) == len(few)
