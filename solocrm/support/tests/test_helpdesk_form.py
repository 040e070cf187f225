"""The public help form at /help/ask/, as a stranger with no session meets it: a signed token, a
honeypot, a rate limit, identity by the shared rules, and a ticket (source "form")."""

from __future__ import annotations

import re
import time

import pytest
from django.core import signing
from django.test import Client

from solocrm.contacts.models import Contact
from solocrm.sales.orders.models import Order
from solocrm.support.helpdesk import services
from solocrm.support.tickets.choices import TicketSource
from solocrm.support.tickets.models import Ticket

pytestmark = pytest.mark.django_db

URL = "/help/ask/"
THANKS = "Your question has arrived"


@pytest.fixture(autouse=True)
def _set_up(owner):
    """An owner exists (else every page leads to first-run set-up)."""


@pytest.fixture
def stranger() -> Client:
    # A stranger's browser: no session, and Django's CSRF check switched on as in real life.
    return Client(enforce_csrf_checks=True)


def token(age: float = 10) -> str:
    return services.issue_form_token(now=time.time() - age)


def answers(**changes) -> dict[str, str]:
    data = {
        "name": "Grace Hopper",
        "email": "Grace@Example.com",
        "subject": "Invoice is wrong",
        "message": "The invoice shows two items; I bought one.",
        "order_number": "",
        "website": "",
        "token": token(),
    }
    return {**data, **changes}


def test_the_form_shows_without_javascript_and_with_a_strict_policy(stranger):
    response = stranger.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("name", "email", "subject", "message", "order_number", "token", "website"):
        assert f'name="{name}"' in html
    assert 'class="hp-field" aria-hidden="true"' in html
    assert 'name="viewport"' in html
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "<script>" not in html and "style=" not in html
    assert "csrftoken" not in response.cookies and "sessionid" not in response.cookies


def test_a_valid_request_opens_a_ticket_for_a_new_contact(stranger):
    response = stranger.post(URL, answers())
    assert response.status_code == 200 and THANKS in response.content.decode()
    ticket = Ticket.objects.get()
    assert (ticket.source, ticket.subject) == (TicketSource.FORM, "Invoice is wrong")
    contact = ticket.contact
    assert (contact.first_name, contact.last_name, contact.email) == ("Grace", "Hopper", "grace@example.com")
    assert ticket.events.filter(body__contains="two items").exists()


def test_a_known_contact_is_matched_by_e_mail_and_not_rewritten(stranger):
    known = Contact.objects.create(
        first_name="Grace", last_name="Hopper", email="grace@example.com", phone="+15550100"
    )
    stranger.post(URL, answers(name="Someone Else", email="GRACE@example.com"))
    ticket = Ticket.objects.get()
    assert ticket.contact == known
    known.refresh_from_db()
    assert (known.first_name, known.last_name, known.phone) == ("Grace", "Hopper", "+15550100")
    assert Contact.objects.count() == 1


def test_a_known_contact_without_a_name_gets_the_one_typed(stranger):
    known = Contact.objects.create(email="grace@example.com")
    stranger.post(URL, answers())
    known.refresh_from_db()
    assert (known.first_name, known.last_name) == ("Grace", "Hopper")


def test_a_same_name_with_another_address_is_a_new_contact(stranger):
    Contact.objects.create(first_name="Grace", last_name="Hopper", email="grace@navy.test")
    stranger.post(URL, answers())
    assert Contact.objects.count() == 2
    assert Ticket.objects.get().contact.email == "grace@example.com"


def test_the_thank_you_page_is_the_same_whether_the_address_was_known(stranger):
    unknown = stranger.post(URL, answers(email="new@example.com")).content
    Contact.objects.create(first_name="Known", email="known@example.com")
    known = stranger.post(URL, answers(email="known@example.com")).content
    assert unknown == known


def test_a_filled_honeypot_gets_the_thank_you_page_and_stores_nothing(stranger):
    response = stranger.post(URL, answers(website="http://spam.test"))
    assert response.status_code == 200 and THANKS in response.content.decode()
    assert not Ticket.objects.exists() and not Contact.objects.exists()


@pytest.mark.parametrize("kind", ["missing", "forged", "too fast", "a day old"])
def test_a_bad_or_stale_token_brings_the_form_back_with_the_answers(stranger, kind):
    bad = {"missing": "", "forged": "forged", "too fast": token(age=0), "a day old": token(age=2 * 86400)}[
        kind
    ]
    response = stranger.post(URL, answers(token=bad))
    assert response.status_code == 400
    html = response.content.decode()
    assert "sent too quickly or has expired" in html
    assert "Invoice is wrong" in html  # the visitor's input comes back
    fresh = re.search(r'name="token" value="([^"]+)"', html).group(1)
    assert fresh != bad
    assert not Ticket.objects.exists()


def test_a_token_from_a_lead_form_is_refused(stranger):
    foreign = signing.dumps({"t": time.time() - 10, "n": "x"}, salt="solocrm.sales.leadform")
    assert stranger.post(URL, answers(token=foreign)).status_code == 400


def test_a_double_click_stores_one_ticket(stranger):
    data = answers()
    stranger.post(URL, data)
    again = stranger.post(URL, data)
    assert again.status_code == 200 and THANKS in again.content.decode()
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not an address"),
        ("email", ""),
        ("subject", ""),
        ("message", ""),
        ("name", ""),
        ("subject", "x" * 301),
    ],
)
def test_a_missing_or_bad_field_is_a_clear_error(stranger, field, value):
    response = stranger.post(URL, answers(**{field: value}))
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert not Ticket.objects.exists()


def test_script_in_the_answers_is_escaped(stranger):
    evil = "<script>alert('x')</script>"
    response = stranger.post(URL, answers(subject=evil, email="bad"))
    html = response.content.decode()
    assert evil not in html and "&lt;script&gt;" in html
    stranger.post(URL, answers(subject=evil, name=evil))
    assert Ticket.objects.get().subject == evil  # kept as typed; templates escape it


def test_the_rate_limit_answers_429_after_the_limit(stranger, settings):
    settings.SOLOCRM_FORM_RATE_LIMIT = 3
    for number in range(3):
        assert stranger.post(URL, answers(email=f"p{number}@example.com")).status_code == 200
    response = stranger.post(URL, answers(email="p9@example.com"))
    assert response.status_code == 429
    assert Ticket.objects.count() == 3


def test_the_hourly_cap_protects_against_many_addresses(stranger, settings):
    settings.SOLOCRM_FORM_HOURLY_CAP = 1
    assert stranger.post(URL, answers(email="a@example.com")).status_code == 200
    assert stranger.post(URL, answers(email="b@example.com")).status_code == 429
    assert Ticket.objects.count() == 1


def test_a_body_that_is_no_form_or_too_big_is_refused(stranger):
    assert stranger.post(URL, "{}", content_type="application/json").status_code == 415
    big = answers(message="x" * 70_000)
    assert stranger.post(URL, big).status_code == 413


def test_an_order_number_of_the_customer_links_their_order(stranger):
    contact = Contact.objects.create(first_name="Grace", email="grace@example.com")
    order = Order.objects.create(contact=contact, number="A-1001", total=10, currency="EUR")
    stranger.post(URL, answers(order_number="A-1001"))
    ticket = Ticket.objects.get()
    assert ticket.order == order
    assert ticket.events.filter(body__contains="A-1001").exists()
    assert ticket.events.filter(kind="link", data__order="A-1001").exists()


def test_someone_elses_order_number_links_nothing(stranger):
    other = Contact.objects.create(first_name="Other", email="other@example.com")
    Order.objects.create(contact=other, number="A-1001", total=10, currency="EUR")
    stranger.post(URL, answers(order_number="A-1001"))
    assert Ticket.objects.get().order is None


def test_the_form_can_be_switched_off(stranger, settings):
    settings.SOLOCRM_HELP_FORM = False
    assert stranger.get(URL).status_code == 404
    assert stranger.post(URL, answers()).status_code == 404
    assert stranger.get(URL + "suggestions/?subject=refund").status_code == 404
    assert not Ticket.objects.exists()


def test_a_get_never_creates_anything(stranger):
    stranger.get(URL + "?name=x&email=a@example.com&subject=s&message=m")
    assert not Ticket.objects.exists() and not Contact.objects.exists()


# --- article suggestions as the visitor types -------------------------------------------------


def make_article(title: str, body: str, status=None):
    from solocrm.support.kb import services as kb
    from solocrm.support.kb.choices import ArticleStatus

    return kb.create_article(
        {"status": status or ArticleStatus.PUBLISHED}, {"en": {"title": title, "body": body}}
    )


def test_the_form_asks_for_suggestions_as_the_subject_is_typed(stranger):
    html = stranger.get(URL).content.decode()
    assert 'hx-get="/help/ask/suggestions/"' in html and 'hx-include="#id_subject"' in html
    assert "htmx-2.0.11.min.js" in html


def test_suggestions_list_published_articles_matching_the_subject(stranger):
    refund = make_article("Refunds", "We refund any order within thirty days.")
    make_article("Shipping", "Parcels leave within two days.")
    response = stranger.get(URL + "suggestions/", {"subject": "refund my order"})
    assert response.status_code == 200
    html = response.content.decode()
    assert refund.get_absolute_url("en") in html and "Refunds" in html
    assert "Shipping" not in html


def test_drafts_and_short_queries_suggest_nothing(stranger):
    from solocrm.support.kb.choices import ArticleStatus

    make_article("Refunds", "We refund any order.", status=ArticleStatus.DRAFT)
    assert "<li>" not in stranger.get(URL + "suggestions/", {"subject": "refund"}).content.decode()
    assert stranger.get(URL + "suggestions/", {"subject": "re"}).content.strip() == b""


def test_a_suggestion_title_is_escaped(stranger):
    make_article("<b>Refunds</b> & returns", "We refund any order.")
    html = stranger.get(URL + "suggestions/", {"subject": "refund"}).content.decode()
    assert "<b>Refunds" not in html and "&lt;b&gt;Refunds" in html


def test_suggestions_are_rate_limited_and_change_nothing(stranger, monkeypatch):
    from solocrm.support.helpdesk import views_public

    monkeypatch.setattr(views_public, "SUGGEST_LIMIT", 2)
    for _ in range(2):
        assert stranger.get(URL + "suggestions/", {"subject": "refund"}).status_code == 200
    assert stranger.get(URL + "suggestions/", {"subject": "refund"}).status_code == 429
    assert stranger.post(URL + "suggestions/", {"subject": "refund"}).status_code in (403, 405)
    assert not Ticket.objects.exists() and not Contact.objects.exists()
