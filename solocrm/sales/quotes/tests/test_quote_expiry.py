"""Expired quotes: a sent quote past its validity reads "Expired" everywhere, offers "Revise"
(a new draft; the old one stays expired) instead of "Send again", and cannot be accepted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from solocrm.sales.choices import QuoteStatus
from solocrm.sales.orders.models import Order
from solocrm.sales.quotes import services as quotes
from solocrm.sales.quotes.models import Quote
from solocrm.sales.quotes.tests.quote_helpers import sent_quote

pytestmark = pytest.mark.django_db


@pytest.fixture
def expired(deal):
    today = timezone.localdate()
    quote = sent_quote(deal, issued_on=today - timedelta(days=40), valid_until=today)
    Quote.objects.filter(pk=quote.pk).update(valid_until=today - timedelta(days=10))  # time passes
    quote.refresh_from_db()
    return quote


def test_a_sent_quote_expires_after_its_last_valid_day(deal):
    today = timezone.localdate()
    quote = sent_quote(deal, issued_on=today - timedelta(days=5), valid_until=today)
    assert not quote.is_expired and quote.status_label == "Sent"
    Quote.objects.filter(pk=quote.pk).update(valid_until=today - timedelta(days=1))
    quote.refresh_from_db()
    assert quote.is_expired and quote.status == QuoteStatus.SENT
    assert (quote.display_status, quote.status_label, quote.status_badge) == ("expired", "Expired", "warning")


def test_the_quote_page_says_expired_and_offers_revise_not_send_again(owner_client, expired):
    page = owner_client.get(f"/sales/quotes/{expired.uuid}/").content.decode()
    assert ">Expired</span>" in page
    assert "Send again" not in page and "accept link works until" not in page
    assert f'action="/sales/quotes/{expired.uuid}/revise/"' in page
    assert "can no longer accept it" in page


def test_the_send_page_of_an_expired_quote_offers_revise(owner_client, expired, mailoutbox):
    page = owner_client.get(f"/sales/quotes/{expired.uuid}/send/").content.decode()
    assert "cannot be sent again" in page and "works until the end" not in page
    response = owner_client.post(f"/sales/quotes/{expired.uuid}/send/", {"to": "ada@example.com"})
    assert response.status_code == 200 and not mailoutbox[1:]  # only the first sending


def test_revise_makes_a_new_draft_with_a_new_date_and_the_old_stays_expired(owner_client, expired):
    response = owner_client.post(f"/sales/quotes/{expired.uuid}/revise/")
    revision = Quote.objects.exclude(pk=expired.pk).get()
    assert response["Location"] == f"/sales/quotes/{revision.uuid}/edit/"
    expired.refresh_from_db()
    assert expired.status == QuoteStatus.SENT and expired.is_expired
    assert revision.status == QuoteStatus.DRAFT and revision.valid_until > timezone.localdate()
    assert revision.issued_on == timezone.localdate()
    assert [(ln.name, ln.quantity) for ln in revision.lines.all()] == [
        (ln.name, ln.quantity) for ln in expired.lines.all()
    ]


def test_the_list_reads_expired_and_filters_by_it(owner_client, expired, deal):
    current = sent_quote(deal)
    page = owner_client.get("/sales/quotes/").content.decode()
    assert ">Expired</span>" in page and ">Sent</span>" in page
    only_expired = owner_client.get("/sales/quotes/?status=expired").context["page"].object_list
    assert [q.pk for q in only_expired] == [expired.pk]
    only_sent = owner_client.get("/sales/quotes/?status=sent").context["page"].object_list
    assert [q.pk for q in only_sent] == [current.pk]


def test_the_deal_page_and_the_contact_section_read_expired(owner_client, expired, customer):
    page = owner_client.get(f"/sales/deals/{expired.deal.uuid}/").content.decode()
    assert ">Expired</span>" in page
    context = owner_client.get(f"/contacts/{customer.uuid}/").context
    assert [q.pk for q in context["contact_quotes"]] == [expired.pk]


def test_the_api_says_is_expired_and_filters(owner_client, expired, deal):
    current = sent_quote(deal)
    body = owner_client.get(f"/api/v1/quotes/{expired.uuid}").json()
    assert body["status"] == "sent" and body["is_expired"] is True
    assert owner_client.get(f"/api/v1/quotes/{current.uuid}").json()["is_expired"] is False
    rows = owner_client.get("/api/v1/quotes?expired=true").json()["items"]
    assert [row["uuid"] for row in rows] == [str(expired.uuid)]
    rows = owner_client.get("/api/v1/quotes?expired=false").json()["items"]
    assert [row["uuid"] for row in rows] == [str(current.uuid)]


def test_the_public_page_of_an_expired_quote_says_so_and_refuses_to_accept(client, expired):
    url = quotes.accept_path(expired)
    page = client.get(url)
    assert page.status_code == 410
    text = page.content.decode()
    assert "expired on" in text and "can no longer be accepted" in text
    response = client.post(url, {"decision": "accept", "name": "Ada", "agree": "on"})
    assert response.status_code == 410
    expired.refresh_from_db()
    assert expired.status == QuoteStatus.SENT and not Order.objects.exists()
