"""The quote pages: the builder (without JavaScript and with htmx totals), the quote page,
printable page, PDF, sending, revising, withdrawing, deleting, the list; and who may do what."""

from __future__ import annotations

from decimal import Decimal

import pytest

from solocrm.sales.choices import QuoteStatus
from solocrm.sales.quotes import services as quotes
from solocrm.sales.quotes.models import Quote
from solocrm.sales.quotes.tests.quote_helpers import line, pdf_text, sent_quote


@pytest.fixture
def draft(deal):
    return quotes.create_quote(deal, lines=[line("Planting plan", "2", "450.00", tax="20")])


def _form(quote: Quote, rows: list[dict], action: str = "save", **header) -> dict:
    data = {
        "action": action,
        "issued_on": header.get("issued_on", quote.issued_on.isoformat()),
        "valid_until": header.get("valid_until", quote.valid_until.isoformat()),
        "discount_percent": header.get("discount_percent", "0"),
        "introduction": header.get("introduction", ""),
        "terms": "",
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"lines-{i}-{key}"] = value
    return data


ROW = {
    "product": "",
    "name": "Hedge",
    "description": "",
    "quantity": "3",
    "unit_price": "19.99",
    "discount_percent": "10",
    "tax_rate": "20",
}


def test_new_quote_on_a_deal_creates_a_numbered_draft_and_opens_the_builder(owner_client, deal):
    page = owner_client.get(f"/sales/deals/{deal.uuid}/quotes/new/")
    assert page.status_code == 200 and "Create the quote" in page.content.decode()
    response = owner_client.post(f"/sales/deals/{deal.uuid}/quotes/new/")
    quote = Quote.objects.get()
    assert response["Location"] == f"/sales/quotes/{quote.uuid}/edit/"
    assert quote.number.startswith("Q-") and quote.status == QuoteStatus.DRAFT


def test_saving_the_builder_stores_lines_and_totals(owner_client, draft):
    response = owner_client.post(
        f"/sales/quotes/{draft.uuid}/edit/", _form(draft, [ROW], discount_percent="5")
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.subtotal, draft.discount_total, draft.tax_total, draft.total) == (
        Decimal("53.97"),
        Decimal("2.70"),
        Decimal("10.25"),
        Decimal("61.52"),
    )
    assert [ln.name for ln in draft.lines.all()] == ["Hedge"]


def test_without_javascript_add_remove_and_move_rework_the_form_without_saving(owner_client, draft, product):
    url = f"/sales/quotes/{draft.uuid}/edit/"
    rows = [ROW, {**ROW, "name": "Lawn"}]
    added = owner_client.post(url, _form(draft, rows, "add_product") | {"add_product": str(product.uuid)})
    page = added.content.decode()
    assert added.status_code == 200 and "not saved yet" in page
    assert 'value="Design hour"' in page and f'value="{product.uuid}"' in page
    moved = owner_client.post(url, _form(draft, rows, "up:1")).content.decode()
    assert moved.index('value="Lawn"') < moved.index('value="Hedge"')
    removed = owner_client.post(url, _form(draft, rows, "remove:0")).content.decode()
    assert 'value="Hedge"' not in removed and 'value="Lawn"' in removed
    blank = owner_client.post(url, _form(draft, rows, "add")).content.decode()
    assert 'name="lines-2-name"' in blank
    assert [ln.name for ln in Quote.objects.get(pk=draft.pk).lines.all()] == ["Planting plan"]


def test_a_product_line_saved_from_the_builder_keeps_its_product(owner_client, draft, product):
    row = {**ROW, "product": str(product.uuid), "name": "Design hour", "unit_price": "80.00"}
    owner_client.post(f"/sales/quotes/{draft.uuid}/edit/", _form(draft, [row]))
    assert draft.lines.get().product == product


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("quantity", "-1", "greater than or equal to 0.001"),
        ("unit_price", "abc", "Enter a number"),
        ("tax_rate", "120", "less than or equal to 100"),
        ("name", "", "This field is required"),
    ],
)
def test_bad_lines_show_an_error_and_save_nothing(owner_client, draft, field, value, message):
    response = owner_client.post(f"/sales/quotes/{draft.uuid}/edit/", _form(draft, [{**ROW, field: value}]))
    assert response.status_code == 200 and message in response.content.decode()
    assert [ln.name for ln in draft.lines.all()] == ["Planting plan"]


def test_a_validity_date_before_the_issue_date_is_refused(owner_client, draft):
    data = _form(draft, [ROW], issued_on="2026-05-02", valid_until="2026-05-01")
    response = owner_client.post(f"/sales/quotes/{draft.uuid}/edit/", data)
    assert "before it is issued" in response.content.decode()


def test_the_htmx_preview_computes_totals_and_line_amounts_without_saving(owner_client, draft):
    response = owner_client.post(
        f"/sales/quotes/{draft.uuid}/preview/",
        _form(draft, [ROW], discount_percent="5"),
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert "61.52 EUR" in page and 'id="line-total-0" class="line-total" hx-swap-oob="true">53.97 EUR' in page
    draft.refresh_from_db()
    assert draft.total == Decimal("1080.00")


def test_a_sent_quote_opens_read_only_and_its_builder_redirects(owner_client, deal, mailoutbox):
    quote = sent_quote(deal)
    response = owner_client.get(f"/sales/quotes/{quote.uuid}/edit/")
    assert response.status_code == 302 and response["Location"] == f"/sales/quotes/{quote.uuid}/"
    page = owner_client.get(f"/sales/quotes/{quote.uuid}/").content.decode()
    assert "Revise (new number)" in page and "Send again" in page
    assert owner_client.post(f"/sales/quotes/{quote.uuid}/edit/", _form(quote, [ROW])).status_code == 302
    assert quote.lines.get().name == "Planting plan"


def test_sending_from_the_page_emails_the_contact(owner_client, draft, mailoutbox):
    page = owner_client.get(f"/sales/quotes/{draft.uuid}/send/").content.decode()
    assert 'value="ada@example.com"' in page
    response = owner_client.post(
        f"/sales/quotes/{draft.uuid}/send/", {"to": "ada@example.com", "message": "Hi"}
    )
    assert response.status_code == 302
    assert "http://testserver/q/" in mailoutbox[0].body
    draft.refresh_from_db()
    assert draft.status == QuoteStatus.SENT


def test_sending_to_a_bad_address_is_refused(owner_client, draft, mailoutbox):
    response = owner_client.post(f"/sales/quotes/{draft.uuid}/send/", {"to": "not-an-address"})
    assert response.status_code == 200 and "valid email" in response.content.decode()
    assert mailoutbox == []


def test_revise_withdraw_and_delete_from_the_page(owner_client, deal, draft, mailoutbox):
    sent = sent_quote(deal)
    response = owner_client.post(f"/sales/quotes/{sent.uuid}/revise/")
    revision = Quote.objects.exclude(pk__in=[sent.pk, draft.pk]).get()
    assert response["Location"] == f"/sales/quotes/{revision.uuid}/edit/"
    owner_client.post(f"/sales/quotes/{revision.uuid}/withdraw/")
    assert Quote.objects.get(pk=revision.pk).status == QuoteStatus.WITHDRAWN
    assert owner_client.get(f"/sales/quotes/{draft.uuid}/delete/").status_code == 200
    owner_client.post(f"/sales/quotes/{draft.uuid}/delete/")
    assert not Quote.objects.filter(pk=draft.pk).exists()


def test_the_printable_page_and_the_pdf(owner_client, draft, settings):
    settings.SOLOCRM_BUSINESS_NAME = "Green Thumb Studio"
    page = owner_client.get(f"/sales/quotes/{draft.uuid}/print/").content.decode()
    assert "Green Thumb Studio" in page and "quote_print.css" in page and "1,080.00" in page
    response = owner_client.get(f"/sales/quotes/{draft.uuid}/pdf/")
    assert response["Content-Type"] == "application/pdf"
    assert draft.number in pdf_text(response.content)


def test_the_quote_list_filters_by_status_in_a_fixed_number_of_queries(
    owner_client, deal, mailoutbox, django_assert_max_num_queries
):
    for _ in range(5):
        quotes.create_quote(deal, lines=[line()])
    sent = sent_quote(deal)
    with django_assert_max_num_queries(8):
        page = owner_client.get("/sales/quotes/").content.decode()
    assert page.count("/sales/quotes/0") + page.count("/sales/quotes/") >= 6
    only_sent = owner_client.get("/sales/quotes/", {"status": "sent"}).content.decode()
    assert sent.number in only_sent and "Q-" in only_sent and only_sent.count('quote-sent">') == 1


def test_the_deal_partial_lists_quotes_with_a_new_quote_button(owner_client, deal, draft):
    from django.template.loader import render_to_string

    html = render_to_string("sales/_deal_quotes.html", {"deal": deal, "can_edit": True}, request=None)
    assert draft.number in html and f"/sales/deals/{deal.uuid}/quotes/new/" in html and "New quote" in html


def test_a_viewer_reads_but_cannot_change(viewer_client, draft, mailoutbox):
    assert viewer_client.get(f"/sales/quotes/{draft.uuid}/").status_code == 200
    assert viewer_client.get(f"/sales/quotes/{draft.uuid}/pdf/").status_code == 200
    for url in ("edit/", "send/", "revise/", "withdraw/", "delete/"):
        assert viewer_client.post(f"/sales/quotes/{draft.uuid}/{url}", {}).status_code == 403, url
    assert viewer_client.post(f"/sales/deals/{draft.deal.uuid}/quotes/new/").status_code == 403
    assert mailoutbox == []


def test_an_assistant_edits_and_sends_but_cannot_delete(assistant_client, draft, mailoutbox):
    assert assistant_client.get(f"/sales/quotes/{draft.uuid}/edit/").status_code == 200
    assert assistant_client.post(f"/sales/quotes/{draft.uuid}/delete/").status_code == 403
    assert Quote.objects.filter(pk=draft.pk).exists()


def test_a_stranger_gets_nothing(client, draft):
    for url in ("", "edit/", "print/", "pdf/", "send/"):
        response = client.get(f"/sales/quotes/{draft.uuid}/{url}")
        assert response.status_code == 302 and "/login/" in response["Location"], url
    assert client.get("/sales/quotes/").status_code == 302


def test_an_unknown_quote_is_a_404(owner_client, db):
    assert owner_client.get("/sales/quotes/0190a4b2-0000-7000-8000-000000000000/").status_code == 404
