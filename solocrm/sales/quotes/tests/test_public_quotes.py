"""The customer's accept link /q/<token>/: showing, accepting, declining, and every way a link
can be wrong (forged, expired, used, withdrawn, deal closed) — each changes nothing."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import signing
from django.utils import timezone

from solocrm.contacts.choices import InteractionKind
from solocrm.sales.choices import QuoteStatus, StageKind
from solocrm.sales.deals.models import Deal
from solocrm.sales.deals.services import lose_deal
from solocrm.sales.orders.models import Order
from solocrm.sales.quotes import services as quotes
from solocrm.sales.quotes.models import Quote
from solocrm.sales.quotes.tests.quote_helpers import line, sent_quote


@pytest.fixture
def quote(deal, owner, mailoutbox):
    return sent_quote(deal, actor=owner)


def _url(quote: Quote) -> str:
    return quotes.accept_path(quote)


def _accept(client, quote, name="Ada Lovelace", agree="on"):
    return client.post(_url(quote), {"decision": "accept", "name": name, "agree": agree})


def test_a_stranger_sees_the_quote_with_its_lines_totals_and_validity(client, quote):
    response = client.get(_url(quote))
    assert response.status_code == 200
    page = response.content.decode()
    assert quote.number in page and "Planting plan" in page and "1,080.00" in page
    assert "Accept the quote" in page and "noindex" in page
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_accepting_wins_the_deal_creates_its_order_and_tells_the_owner(
    client, quote, owner, mailoutbox, django_capture_on_commit_callbacks
):
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = _accept(client, quote)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Thank you: the quote is accepted." in page
    quote.refresh_from_db()
    assert (quote.status, quote.accepted_by) == (QuoteStatus.ACCEPTED, "Ada Lovelace")
    deal = Deal.objects.select_related("stage", "order").get(pk=quote.deal_id)
    assert deal.stage.kind == StageKind.WON and deal.amount == Decimal("1080.00")
    assert (deal.order.total, deal.order.currency) == (Decimal("1080.00"), "EUR")
    assert [(ln.name, ln.total) for ln in deal.order.lines.all()] == [("Planting plan", Decimal("900.00"))]
    assert quote.contact.interactions.filter(
        kind=InteractionKind.SYSTEM, deal=deal, subject__contains="accepted"
    ).exists()
    assert [m.to for m in mailoutbox] == [[owner.email]]
    assert "accepted" in mailoutbox[0].subject


def test_accepting_withdraws_the_deals_other_open_quotes(client, quote, deal):
    other = quotes.create_quote(deal, lines=[line()])
    _accept(client, quote)
    other.refresh_from_db()
    assert other.status == QuoteStatus.WITHDRAWN


def test_accepting_needs_a_name_and_the_tick(client, quote):
    assert _accept(client, quote, name="  ").status_code == 400
    response = _accept(client, quote, agree="")
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT and not Order.objects.exists()


def test_accepting_twice_is_refused_the_second_time_with_409(client, quote):
    assert _accept(client, quote).status_code == 302
    again = _accept(client, quote, name="Someone else")
    assert again.status_code == 409
    assert "already accepted" in again.content.decode()
    quote.refresh_from_db()
    assert quote.accepted_by == "Ada Lovelace" and Order.objects.count() == 1


def test_the_service_refuses_a_second_acceptance_inside_its_lock(quote):
    token = quotes.accept_token(quote)
    quotes.accept_quote(token, "Ada")
    with pytest.raises(quotes.LinkError) as error:
        quotes.accept_quote(token, "Ada again")
    assert error.value.status == 409 and Order.objects.count() == 1


def test_declining_keeps_the_deal_open_and_records_the_reason(
    client, quote, mailoutbox, django_capture_on_commit_callbacks
):
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(quote), {"decision": "decline", "reason": "Too <b>expensive</b>"})
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DECLINED and quote.declined_at
    assert quote.deal.is_open and not Order.objects.exists()
    entry = quote.contact.interactions.get(subject__contains="declined")
    assert entry.body == "Too <b>expensive</b>" and entry.deal_id == quote.deal_id
    assert "Too <b>expensive</b>" in mailoutbox[0].body
    page = client.get(_url(quote)).content.decode()
    assert "The quote is declined." in page and "Accept the quote</button>" not in page
    assert _accept(client, quote).status_code == 409


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "a" * 300,
        signing.dumps({"q": "0" * 32, "v": "2999-01-01"}, salt="another-salt"),
        signing.dumps({"q": "0" * 32, "v": "2999-01-01"}, salt=quotes.ACCEPT_SALT, key="not-our-secret"),
    ],
)
def test_a_forged_link_is_a_400_that_reveals_nothing(client, quote, token):
    for response in (
        client.get(f"/q/{token}/"),
        client.post(f"/q/{token}/", {"decision": "accept", "name": "X", "agree": "on"}),
    ):
        assert response.status_code == 400
        page = response.content.decode()
        assert "This link is not valid" in page and quote.number not in page and "Planting" not in page
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT


def test_a_tampered_link_for_another_quote_is_refused(client, quote):
    token = quotes.accept_token(quote)
    signature = token.rpartition(":")[2]
    forged = signing.dumps({"q": "1" * 32, "v": "2999-01-01"}, salt=quotes.ACCEPT_SALT).rpartition(":")[0]
    assert client.get(f"/q/{forged}:{signature}/").status_code == 400


def test_an_expired_link_is_a_410_and_accepting_it_changes_nothing(client, deal, mailoutbox):
    today = timezone.localdate()
    quote = sent_quote(deal, issued_on=today - timedelta(days=40), valid_until=today)
    later = quotes.expires_at(today) + timedelta(seconds=1)
    with pytest.raises(quotes.LinkError) as error:
        quotes.accept_quote(quotes.accept_token(quote), "Ada", now=later)
    assert error.value.status == 410
    Quote.objects.filter(pk=quote.pk).update(valid_until=today - timedelta(days=1))
    response = _accept(client, quote)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT and not Order.objects.exists()


def test_the_link_expires_with_the_date_it_was_signed_for_even_if_the_row_says_later(client, quote):
    token = signing.dumps({"q": quote.uuid.hex, "v": "2001-01-01"}, salt=quotes.ACCEPT_SALT)
    assert client.get(f"/q/{token}/").status_code == 410


def test_a_withdrawn_quote_is_a_410(client, quote):
    quotes.withdraw_quote(quote)
    response = client.get(_url(quote))
    assert response.status_code == 410 and "withdrawn" in response.content.decode()
    assert _accept(client, quote).status_code == 410


def test_a_revised_quotes_old_link_stops_working(client, quote):
    quotes.revise_quote(quote)
    assert _accept(client, quote).status_code == 410
    assert not Order.objects.exists()


def test_a_deleted_quote_is_a_410(client, quote):
    url = _url(quote)
    Quote.objects.filter(pk=quote.pk).delete()
    assert client.get(url).status_code == 410


def test_a_lost_deal_cannot_be_won_through_its_quote_409(client, quote, deal):
    lose_deal(Deal.objects.get(pk=deal.pk), "price")
    response = _accept(client, quote)
    assert response.status_code == 409 and "closed" in response.content.decode()
    assert client.get(_url(quote)).status_code == 409
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT and not Order.objects.exists()


def test_the_page_is_rate_limited_per_visitor(client, quote, monkeypatch):
    from solocrm.sales.quotes import views_public as views_public_quotes

    monkeypatch.setattr(views_public_quotes, "VIEWS_PER_HOUR", 3)
    codes = [client.get(_url(quote)).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert client.get("/q/forged/").status_code == 429


def test_the_accept_form_is_csrf_protected(quote):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(_url(quote), {"decision": "accept", "name": "X", "agree": "on"}).status_code == 403
    page = strict.get(_url(quote)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    ok = strict.post(
        _url(quote), {"decision": "accept", "name": "X", "agree": "on", "csrfmiddlewaretoken": token}
    )
    assert ok.status_code == 302


def test_user_text_on_the_public_page_is_escaped(client, deal, mailoutbox):
    quote = quotes.create_quote(
        deal, {"introduction": "<script>alert(1)</script>"}, lines=[line("<img src=x onerror=alert(1)>")]
    )
    quotes.send_quote(quote, "ada@example.com", base_url="http://testserver")
    page = client.get(_url(quote)).content.decode()
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


def test_a_link_for_a_date_in_the_past_but_a_decided_quote_still_shows_the_decision(client, quote):
    quotes.accept_quote(quotes.accept_token(quote), "Ada")
    Quote.objects.filter(pk=quote.pk).update(valid_until=date(2001, 1, 1))
    response = client.get(_url(quote))
    assert response.status_code == 200 and "accepted" in response.content.decode()
