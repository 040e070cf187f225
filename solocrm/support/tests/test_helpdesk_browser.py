"""The help form and the CSAT page in a real browser: suggestions appear as the subject is typed
(htmx, under the page's strict Content-Security-Policy), the form sends, the CSAT page records."""

from __future__ import annotations

import pytest
from django.utils import timezone

from solocrm.contacts.models import Contact
from solocrm.support.helpdesk.models import CsatAnswer
from solocrm.support.helpdesk.services import csat_token
from solocrm.support.kb import services as kb
from solocrm.support.kb.choices import ArticleStatus
from solocrm.support.tickets.models import Ticket
from solocrm.web.tests.browser import BROWSER_TEST

pytestmark = [*BROWSER_TEST, pytest.mark.django_db(transaction=True)]


def test_a_visitor_sees_suggestions_then_sends_the_form(browser_page, live_server, owner):
    kb.create_article(
        {"status": ArticleStatus.PUBLISHED},
        {"en": {"title": "How refunds work", "body": "We refund any order within thirty days."}},
    )
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/help/ask/")
    page.get_by_label("Your name").fill("Grace Hopper")
    page.get_by_label("Your e-mail address").fill("grace@example.com")
    page.get_by_label("Subject").press_sequentially("refunds please", delay=20)
    page.get_by_role("link", name="How refunds work").wait_for()
    page.get_by_label("Your question").fill("Where is my money?")
    page.wait_for_timeout(2100)  # the form token is refused when sent back within 2 seconds
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Your question has arrived").wait_for()
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.contact.email) == ("refunds please", "grace@example.com")


def test_the_csat_page_records_the_chosen_score(browser_page, live_server, owner):
    contact = Contact.objects.create(first_name="Ada", email="ada@example.com")
    ticket = Ticket.objects.create(
        number=1, subject="Parcel", contact=contact, status="solved", solved_at=timezone.now()
    )
    page = browser_page
    page.goto(live_server.url + f"/help/ask/rate/{csat_token(ticket, 5)}/")
    assert page.get_by_label("5 – Very satisfied").is_checked()
    assert not CsatAnswer.objects.exists()  # opening the link records nothing
    page.get_by_label("3 – Neutral").check()
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_text("We recorded your answer: 3 of 5.").wait_for()
    assert CsatAnswer.objects.get().score == 3
