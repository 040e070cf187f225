"""The /api/v1/quotes endpoints: create with lines, read, patch drafts, delete, send, revise,
withdraw, the PDF; roles and bad input."""

from __future__ import annotations

from decimal import Decimal

import pytest

from solocrm.sales.choices import QuoteStatus
from solocrm.sales.deals.services import lose_deal
from solocrm.sales.quotes import services as quotes
from solocrm.sales.quotes.models import Quote
from solocrm.sales.quotes.tests.quote_helpers import line, pdf_text, sent_quote

URL = "/api/v1/quotes"


def _json(client, method: str, url: str, data=None):
    return getattr(client, method)(url, data, content_type="application/json")


def test_creating_a_quote_with_a_product_line_and_a_free_line(owner_client, deal, product):
    body = {
        "deal": str(deal.uuid),
        "issued_on": "2026-03-01",
        "discount_percent": "5",
        "lines": [
            {"product": str(product.uuid), "quantity": "3"},
            {"name": "Travel", "unit_price": "19.99", "discount_percent": "10", "tax_rate": "20"},
        ],
    }
    response = _json(owner_client, "post", URL, body)
    assert response.status_code == 201, response.content
    quote = response.json()
    assert quote["number"] == "Q-2026-0001" and quote["valid_until"] == "2026-03-31"
    assert (quote["currency"], quote["status"], quote["deal"]) == ("EUR", "draft", str(deal.uuid))
    assert [(ln["name"], ln["unit_price"], ln["total"]) for ln in quote["lines"]] == [
        ("Design hour", "80.00", "240.00"),
        ("Travel", "19.99", "17.99"),
    ]
    # subtotal 257.99; 5 % = 12.90; tax 17.99 × .95 × 20 % = 3.4181 → 3.42; total 248.51
    assert (quote["subtotal"], quote["discount_total"], quote["tax_total"], quote["total"]) == (
        "257.99",
        "12.90",
        "3.42",
        "248.51",
    )


@pytest.mark.parametrize(
    ("lines", "loc"),
    [
        ([{"name": "X", "quantity": "0"}], "quantity"),
        ([{"name": "X", "unit_price": "-1"}], "unit_price"),
        ([{"name": "X", "tax_rate": "101"}], "tax_rate"),
        ([{"name": "X", "discount_percent": "-3"}], "discount_percent"),
        ([{"quantity": "1"}], "lines"),
        ([{"name": "X", "product": "0190a4b2-0000-7000-8000-000000000000"}], "product"),
        ([{"name": "X", "colour": "red"}], "colour"),
    ],
)
def test_bad_lines_are_a_422_naming_the_field_and_nothing_is_saved(owner_client, deal, lines, loc):
    response = _json(owner_client, "post", URL, {"deal": str(deal.uuid), "lines": lines})
    assert response.status_code == 422, response.content
    assert any(loc in map(str, error["loc"]) for error in response.json()["detail"])
    assert not Quote.objects.exists()


def test_dates_in_the_wrong_order_are_a_422(owner_client, deal):
    body = {"deal": str(deal.uuid), "issued_on": "2026-03-02", "valid_until": "2026-03-01"}
    response = _json(owner_client, "post", URL, body)
    assert response.status_code == 422 and "before it is issued" in str(response.json())


def test_an_unknown_deal_is_a_422_and_a_closed_one_a_409(owner_client, deal):
    unknown = _json(owner_client, "post", URL, {"deal": "0190a4b2-0000-7000-8000-000000000000"})
    assert unknown.status_code == 422
    lose_deal(deal, "price")
    assert _json(owner_client, "post", URL, {"deal": str(deal.uuid)}).status_code == 409


def test_patching_a_draft_replaces_lines_and_a_sent_quote_is_a_409(owner_client, deal, mailoutbox):
    draft = quotes.create_quote(deal, lines=[line()])
    response = _json(
        owner_client, "patch", f"{URL}/{draft.uuid}", {"lines": [{"name": "New", "unit_price": "5"}]}
    )
    assert response.status_code == 200 and [ln["name"] for ln in response.json()["lines"]] == ["New"]
    terms = _json(owner_client, "patch", f"{URL}/{draft.uuid}", {"terms": "Net 30"})
    assert terms.json()["terms"] == "Net 30" and terms.json()["lines"][0]["name"] == "New"
    sent = sent_quote(deal)
    frozen = _json(owner_client, "patch", f"{URL}/{sent.uuid}", {"terms": "changed"})
    assert frozen.status_code == 409 and "revise" in frozen.json()["detail"]


def test_the_list_filters_by_deal_and_status_without_n_plus_one(
    owner_client, deal, mailoutbox, django_assert_max_num_queries
):
    for _ in range(4):
        quotes.create_quote(deal, lines=[line(), line()])
    sent = sent_quote(deal)
    with django_assert_max_num_queries(6):
        everything = owner_client.get(URL, {"deal": str(deal.uuid)}).json()
    assert everything["count"] == 5
    only = owner_client.get(URL, {"status": "sent"}).json()
    assert [q["number"] for q in only["items"]] == [sent.number]
    assert owner_client.get(URL, {"status": "lost"}).status_code == 422


def test_sending_through_the_api(owner_client, deal, mailoutbox):
    draft = quotes.create_quote(deal, lines=[line()])
    response = _json(owner_client, "post", f"{URL}/{draft.uuid}/send", {"message": "Hello"})
    assert response.status_code == 200 and response.json()["status"] == "sent"
    assert mailoutbox[0].to == ["ada@example.com"] and "/q/" in mailoutbox[0].body
    bad = _json(owner_client, "post", f"{URL}/{draft.uuid}/send", {"to": "nobody"})
    assert bad.status_code == 422


def test_revise_withdraw_delete_and_pdf(owner_client, deal, mailoutbox):
    sent = sent_quote(deal)
    revised = owner_client.post(f"{URL}/{sent.uuid}/revise")
    assert revised.status_code == 201 and revised.json()["number"] != sent.number
    assert Quote.objects.get(pk=sent.pk).status == QuoteStatus.WITHDRAWN
    assert owner_client.post(f"{URL}/{sent.uuid}/withdraw").status_code == 409
    pdf = owner_client.get(f"{URL}/{revised.json()['uuid']}/pdf")
    assert pdf["Content-Type"] == "application/pdf" and revised.json()["number"] in pdf_text(pdf.content)
    assert owner_client.delete(f"{URL}/{revised.json()['uuid']}").status_code == 204
    assert owner_client.delete(f"{URL}/{sent.uuid}").status_code == 409


def test_roles(viewer_client, deal, mailoutbox):
    draft = quotes.create_quote(deal, lines=[line()])
    assert viewer_client.get(f"{URL}/{draft.uuid}").status_code == 200
    assert viewer_client.get(f"{URL}/{draft.uuid}/pdf").status_code == 200
    assert _json(viewer_client, "post", URL, {"deal": str(deal.uuid)}).status_code == 403
    assert _json(viewer_client, "patch", f"{URL}/{draft.uuid}", {"terms": "x"}).status_code == 403
    assert _json(viewer_client, "post", f"{URL}/{draft.uuid}/send", {}).status_code == 403
    assert viewer_client.delete(f"{URL}/{draft.uuid}").status_code == 403
    assert mailoutbox == []


def test_an_assistant_cannot_delete(assistant_client, deal):
    draft = quotes.create_quote(deal)
    assert assistant_client.delete(f"{URL}/{draft.uuid}").status_code == 403


def test_a_stranger_gets_401(client, deal):
    draft = quotes.create_quote(deal)
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}/{draft.uuid}/pdf").status_code == 401


def test_a_bearer_token_works(client, owner, deal):
    from solocrm.users.services import create_token

    _token, raw = create_token(owner, "script")
    draft = quotes.create_quote(deal, lines=[line(price="12.00")])
    response = client.get(f"{URL}/{draft.uuid}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200 and Decimal(response.json()["total"]) == Decimal("12.00")
