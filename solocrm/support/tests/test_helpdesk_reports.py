"""The support reports: fixed tickets give exact figures (worked out by hand in the comments),
empty data gives zeros and blanks, and the page and API follow the roles."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from solocrm.contacts.models import Contact
from solocrm.lib.business import business_settings
from solocrm.support.helpdesk import reports
from solocrm.support.helpdesk.models import CsatAnswer
from solocrm.support.tickets.models import Ticket

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # a Wednesday; two weeks: Mar 2 – Mar 15


def at(day: int, hour: int = 0, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def ticket(number: int, created: datetime, **fields) -> Ticket:
    contact = Contact.objects.create(first_name="C", last_name=str(number), email=f"c{number}@example.com")
    csat = fields.pop("csat", None)
    made = Ticket.objects.create(number=number, subject=f"Ticket {number}", contact=contact, **fields)
    Ticket.objects.filter(pk=made.pk).update(created_at=created)  # auto_now_add on create
    if csat:
        score, answered = csat
        CsatAnswer.objects.create(ticket=made, contact=contact, score=score, answered_at=answered)
    return made


@pytest.fixture
def tickets(db):
    t1 = ticket(
        1,
        at(2, 9),
        first_responded_at=at(2, 9, 30),  # 30 min, due 10:00: in time
        first_response_due=at(2, 10),
        solved_at=at(3, 9),  # 1,440 min, due Mar 4: in time
        resolution_due=at(4),
        csat=(5, at(4)),
    )
    ticket(
        2,
        at(3, 10),
        first_responded_at=at(3, 12),  # 120 min, due 11:00: late
        first_response_due=at(3, 11),
        solved_at=at(10, 10),  # 10,080 min, due Mar 5: late
        resolution_due=at(5),
        csat=(4, at(10, 12)),
    )
    ticket(3, at(9, 8), first_responded_at=at(9, 9), first_response_due=at(9, 10))  # 60 min, in time
    ticket(4, at(10, 8), first_response_due=at(10, 9))  # unanswered, past due: missed
    ticket(5, at(11, 11), first_response_due=at(11, 13))  # unanswered, not yet due: not counted
    ticket(6, at(20, month=2), solved_at=at(2, 12), csat=(2, at(3)))  # opened before: 15,120 min, no SLA
    ticket(7, at(4), first_responded_at=at(4, 1), merged_into=t1, solved_at=at(4, 2))  # merged: left out
    ticket(8, at(20, month=1), solved_at=at(20, 1, month=1), csat=(1, at(21, month=1)))  # before the window


def test_tickets_opened_and_solved_per_week(tickets):
    report = reports.support_report(2, now=NOW)
    assert (report.since, report.until) == (date(2026, 3, 2), date(2026, 3, 15))
    assert [(w.week, w.opened, w.solved) for w in report.weeks] == [
        (date(2026, 3, 2), 2, 2),  # opened 1, 2; solved 1, 6
        (date(2026, 3, 9), 3, 1),  # opened 3, 4, 5; solved 2
    ]
    assert (report.opened, report.solved) == (5, 3)


def test_first_response_times_and_sla(tickets):
    figures = reports.support_report(2, now=NOW).first_response
    # answered: 30, 60, 120 min; median 60; p90 at position 1.8: 60 + 0.8 · 60 = 108
    assert (figures.count, figures.median_minutes, figures.p90_minutes) == (3, 60, pytest.approx(108))
    # settled targets: 1, 2, 3 and 4 (past due); in time: 1 and 3
    assert (figures.with_target, figures.within_target, figures.within_sla) == (4, 2, 0.5)


def test_resolution_times_and_sla(tickets):
    figures = reports.support_report(2, now=NOW).resolution
    # solved: 1,440, 10,080, 15,120 min (Feb 20 to Mar 2, 12:00); p90 at 1.8: 10,080 + 0.8 · 5,040
    assert (figures.count, figures.median_minutes, figures.p90_minutes) == (3, 10080, pytest.approx(14112))
    assert (figures.with_target, figures.within_target, figures.within_sla) == (2, 1, 0.5)


def test_sla_shares_by_week(tickets):
    weeks = reports.support_report(2, now=NOW).weeks
    assert [w.first_response_within_sla for w in weeks] == [0.5, 0.5]
    assert [w.resolution_within_sla for w in weeks] == [1.0, 0.0]


def test_csat_by_week_and_overall(tickets):
    report = reports.support_report(2, now=NOW)
    assert [(w.csat_average, w.csat_satisfied, w.csat_responses) for w in report.weeks] == [
        (3.5, 0.5, 2),  # 5 and 2
        (4.0, 1.0, 1),
    ]
    assert report.csat_average == pytest.approx(11 / 3)
    assert report.csat_satisfied == pytest.approx(2 / 3)
    assert report.csat_responses == 3


def test_weeks_follow_the_business_time_zone(monkeypatch):
    # Sunday Mar 8, 20:00 UTC is Monday Mar 9, 09:00 in Auckland (UTC+13 in March).
    ticket(1, at(8, 20))
    assert [w.opened for w in reports.support_report(2, now=NOW).weeks] == [1, 0]
    auckland = dataclasses.replace(business_settings(), time_zone="Pacific/Auckland")
    monkeypatch.setattr(reports, "business_settings", lambda: auckland)
    assert [w.opened for w in reports.support_report(2, now=NOW).weeks] == [0, 1]


def test_no_tickets_gives_zeros_and_blanks():
    report = reports.support_report(4, now=NOW)
    assert len(report.weeks) == 4
    assert (report.opened, report.solved, report.csat_responses) == (0, 0, 0)
    assert report.csat_average is None and report.csat_satisfied is None
    assert report.first_response == reports.Durations()
    assert report.first_response.within_sla is None
    assert all(w.csat_average is None and w.first_response_within_sla is None for w in report.weeks)


def test_tickets_without_csat_answers(tickets):
    CsatAnswer.objects.all().delete()
    report = reports.support_report(2, now=NOW)
    assert report.csat_average is None and report.csat_responses == 0
    assert report.opened == 5


def test_a_single_ticket_is_its_own_median_and_percentile():
    ticket(1, at(9, 8), first_responded_at=at(9, 8, 45))
    figures = reports.support_report(2, now=NOW).first_response
    assert (figures.median_minutes, figures.p90_minutes) == (45, 45)


def test_the_query_count_does_not_grow_with_the_tickets(tickets):
    with CaptureQueriesContext(connection) as few:
        reports.support_report(2, now=NOW)
    for number in range(20, 60):
        ticket(number, at(9, 8), first_responded_at=at(9, 9), solved_at=at(9, 10), csat=(5, at(9, 11)))
    with CaptureQueriesContext(connection) as many:
        reports.support_report(2, now=NOW)
    assert len(many) == len(few) <= 15


@pytest.mark.parametrize("weeks", [0, -3, 1000])
def test_the_number_of_weeks_is_kept_in_bounds(weeks):
    assert 1 <= len(reports.support_report(weeks, now=NOW).weeks) <= reports.MAX_WEEKS


# --- the page and the API, by role ------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner_client", "assistant_client", "viewer_client"])
def test_every_role_may_read_the_page(request, persona, tickets):
    client = request.getfixturevalue(persona)
    response = client.get("/support/reports/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Support reports" in html and "chart-support-volume" in html
    assert "/analytics/satisfaction/" in html


def test_the_page_works_with_no_tickets(owner_client):
    response = owner_client.get("/support/reports/?weeks=oops")
    assert response.status_code == 200


def test_a_stranger_gets_nothing(client, owner):
    response = client.get("/support/reports/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get("/api/v1/support/reports").status_code == 401


def test_the_api_gives_the_same_figures(viewer_client, tickets, monkeypatch):
    monkeypatch.setattr(reports.timezone, "now", lambda: NOW)
    body = viewer_client.get("/api/v1/support/reports?weeks=2").json()
    assert (body["opened"], body["solved"], body["csat_responses"]) == (5, 3, 3)
    assert body["first_response"] == {
        "count": 3,
        "median_minutes": 60.0,
        "p90_minutes": pytest.approx(108),
        "with_target": 4,
        "within_target": 2,
        "within_sla": 0.5,
    }
    assert body["weeks"][0]["week"] == "2026-03-02"
    assert body["weeks"][1]["resolution_within_sla"] == 0.0


def test_the_api_refuses_a_bad_number_of_weeks(viewer_client):
    assert viewer_client.get("/api/v1/support/reports?weeks=0").status_code == 422
    assert viewer_client.get("/api/v1/support/reports?weeks=abc").status_code == 422


# --- the command line -------------------------------------------------------------------------


def test_the_command_prints_the_tables_and_the_json(tickets):
    import json
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("helpdesk", "report", "--weeks", "4", stdout=out)
    text = out.getvalue()
    assert "First response" in text and "By week" in text
    out = StringIO()
    call_command("helpdesk", "report", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert len(data["weeks"]) == reports.DEFAULT_WEEKS and "within_sla" in data["first_response"]


def test_the_command_refuses_a_bad_number_of_weeks():
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("helpdesk", "report", "--weeks", "0")


def test_the_page_costs_the_same_with_more_tickets(owner_client, tickets):
    owner_client.get("/support/reports/")  # the first request of a session reads what later ones have cached
    with CaptureQueriesContext(connection) as few:
        owner_client.get("/support/reports/")
    for number in range(20, 50):
        ticket(number, at(9, 8), first_responded_at=at(9, 9), solved_at=at(9, 10), csat=(4, at(9, 11)))
    with CaptureQueriesContext(connection) as many:
        owner_client.get("/support/reports/")
    assert len(many) == len(few)
