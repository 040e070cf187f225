"""The builder's lines edited in place (htmx): add, edit, remove and move one line at a time,
each saved at once with the totals recomputed; errors shown on the line; a change made on an
older version (another tab) refused with a clear message instead of losing a line; and the
same endpoints without JavaScript (a redirect back to the builder)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from solocrm.sales.quotes import services as quotes
from solocrm.sales.quotes.models import Quote
from solocrm.sales.quotes.tests.quote_helpers import line, sent_quote

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def draft(deal):
    return quotes.create_quote(
        deal, lines=[line("Planting plan", "2", "450.00", tax="20"), line("Visit", "1", "80.00")]
    )


def _ids(quote: Quote) -> list[int]:
    return list(quote.lines.order_by("position").values_list("pk", flat=True))


def _names(quote: Quote) -> list[str]:
    return list(quote.lines.order_by("position").values_list("name", flat=True))


def _edit(client, quote, index, line_id, version, **fields):
    data = {"prefix": f"lines-{index}", "version": str(version)}
    base = {"name": "Planting plan", "description": "", "quantity": "2", "unit_price": "450.00",
            "discount_percent": "0", "tax_rate": "20"}  # fmt: skip
    data |= {f"lines-{index}-{key}": value for key, value in (base | fields).items()}
    return client.post(f"/sales/quotes/{quote.uuid}/lines/{line_id}/", data, **HTMX)


def test_the_builder_renders_a_compact_row_per_saved_line_wired_for_htmx(owner_client, draft):
    page = owner_client.get(f"/sales/quotes/{draft.uuid}/edit/").content.decode()
    first, second = _ids(draft)
    assert page.count('<tr class="quote-line"') == 2
    assert f'hx-post="/sales/quotes/{draft.uuid}/lines/{first}/"' in page
    assert f'hx-post="/sales/quotes/{draft.uuid}/lines/{second}/remove/"' in page
    assert f'id="quote-version" value="{draft.version}"' in page
    assert 'value="remove:1"' in page  # the no-JavaScript fallback on the same button
    assert f'hx-get="/sales/quotes/{draft.uuid}/products/"' in page


def test_changing_a_quantity_saves_the_line_and_answers_the_new_totals(owner_client, draft):
    first = _ids(draft)[0]
    response = _edit(owner_client, draft, 0, first, draft.version, quantity="3", discount_percent="10")
    assert response.status_code == 200
    draft.refresh_from_db()
    saved = draft.lines.get(pk=first)
    assert (saved.quantity, saved.discount_percent, saved.total) == (
        Decimal("3"),
        Decimal("10"),
        Decimal("1215.00"),
    )
    # 1215 + 80, tax 20 % of 1215.
    assert (draft.subtotal, draft.tax_total, draft.total) == (
        Decimal("1295.00"),
        Decimal("243.00"),
        Decimal("1538.00"),
    )
    body = response.content.decode()
    assert 'id="line-total-0" class="line-total" hx-swap-oob="true">1,215.00 EUR' in body
    assert "1,538.00 EUR" in body and f'id="quote-version" value="{draft.version}"' in body


def test_a_bad_value_is_shown_on_its_line_and_nothing_changes(owner_client, draft):
    first = _ids(draft)[0]
    before = draft.total
    response = _edit(owner_client, draft, 0, first, draft.version, quantity="0", unit_price="abc")
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="line-errors-0"' in body and "Quantity:" in body and "Unit price:" in body
    draft.refresh_from_db()
    assert draft.total == before and draft.lines.get(pk=first).quantity == Decimal("2")


def test_adding_a_blank_line_and_a_product_line(owner_client, draft, product):
    response = owner_client.post(f"/sales/quotes/{draft.uuid}/lines/add/", {"version": draft.version}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('<tr class="quote-line"') == 3 and 'value="New line"' in body
    draft.refresh_from_db()
    response = owner_client.post(
        f"/sales/quotes/{draft.uuid}/lines/add/",
        {"version": draft.version, "product": str(product.uuid)},
        **HTMX,
    )
    assert response.status_code == 200
    assert _names(draft) == ["Planting plan", "Visit", "New line", "Design hour"]
    draft.refresh_from_db()
    assert draft.total == Decimal("1240.00")  # 900 + 180 tax + 80 + 0 + 80
    assert 'name="lines-TOTAL_FORMS" value="4"' in response.content.decode()


def test_removing_and_moving_lines(owner_client, draft):
    first, second = _ids(draft)
    response = owner_client.post(
        f"/sales/quotes/{draft.uuid}/lines/{second}/move/",
        {"version": draft.version, "direction": "up"},
        **HTMX,
    )
    assert response.status_code == 200 and _names(draft) == ["Visit", "Planting plan"]
    body = response.content.decode()
    assert body.index("Visit") < body.index("Planting plan")
    draft.refresh_from_db()
    owner_client.post(f"/sales/quotes/{draft.uuid}/lines/{first}/remove/", {"version": draft.version}, **HTMX)
    draft.refresh_from_db()
    assert _names(draft) == ["Visit"] and draft.total == Decimal("80.00")


def test_a_change_from_an_older_version_is_refused_with_a_message(owner_client, draft):
    """Two tabs: the first adds a line; the second, still on the old version, removes one."""
    old = draft.version
    owner_client.post(f"/sales/quotes/{draft.uuid}/lines/add/", {"version": old}, **HTMX)
    second = _ids(draft)[1]
    response = owner_client.post(
        f"/sales/quotes/{draft.uuid}/lines/{second}/remove/", {"version": old}, **HTMX
    )
    assert response.status_code == 409
    assert "changed in another tab" in response.content.decode()
    assert _names(draft) == ["Planting plan", "Visit", "New line"]
    response = _edit(owner_client, draft, 0, _ids(draft)[0], old, quantity="9")
    assert response.status_code == 409 and draft.lines.get(pk=_ids(draft)[0]).quantity == Decimal("2")


def test_saving_the_whole_form_from_an_older_version_loses_no_line(owner_client, draft):
    from solocrm.sales.quotes.tests.test_quote_views import ROW, _form

    old = draft.version
    owner_client.post(f"/sales/quotes/{draft.uuid}/lines/add/", {"version": old}, **HTMX)  # the other tab
    response = owner_client.post(
        f"/sales/quotes/{draft.uuid}/edit/", _form(draft, [ROW]) | {"version": str(old)}
    )
    assert response.status_code == 200 and "changed in another tab" in response.content.decode()
    assert _names(draft) == ["Planting plan", "Visit", "New line"]


def test_a_line_removed_in_another_tab_is_a_clear_conflict(owner_client, draft):
    first = _ids(draft)[0]
    quotes.remove_line(draft, first)
    draft.refresh_from_db()
    response = _edit(owner_client, draft, 0, first, draft.version, quantity="4")
    assert response.status_code == 409 and "no longer on quote" in response.content.decode()


def test_without_javascript_the_line_endpoints_go_back_to_the_builder(owner_client, draft):
    old = draft.version
    response = owner_client.post(f"/sales/quotes/{draft.uuid}/lines/add/", {"version": old})
    assert response.status_code == 302 and response["Location"] == f"/sales/quotes/{draft.uuid}/edit/"
    response = owner_client.post(
        f"/sales/quotes/{draft.uuid}/lines/{_ids(draft)[0]}/remove/", {"version": old}
    )
    assert response.status_code == 302
    page = owner_client.get(response["Location"]).content.decode()
    assert "changed in another tab" in page and len(_ids(draft)) == 3


def test_a_sent_quote_and_a_viewer_cannot_change_lines(owner_client, viewer, deal, draft):
    sent = sent_quote(deal)
    response = owner_client.post(f"/sales/quotes/{sent.uuid}/lines/add/", {"version": sent.version}, **HTMX)
    assert response.status_code == 409 and "cannot change" in response.content.decode()
    viewer_client = owner_client
    viewer_client.force_login(viewer)
    assert viewer_client.post(f"/sales/quotes/{draft.uuid}/lines/add/", {}, **HTMX).status_code == 403
    assert len(_ids(draft)) == 2


def test_the_product_picker_searches_name_and_sku(owner_client, draft, product):
    from solocrm.sales.orders.models import Product

    Product.objects.create(name="Lawn mowing", sku="LM-9", price=Decimal("40.00"))
    body = owner_client.get(
        f"/sales/quotes/{draft.uuid}/products/", {"product_q": "dh-1"}, **HTMX
    ).content.decode()
    assert "Design hour" in body and "Lawn mowing" not in body
    assert f'"product": "{product.uuid}"' in body
    body = owner_client.get(
        f"/sales/quotes/{draft.uuid}/products/", {"product_q": "zzz"}, **HTMX
    ).content.decode()
    assert "No product matches." in body


def test_the_line_services_keep_positions_and_totals_consistent(draft):
    first, second = _ids(draft)
    quotes.move_line(draft, first, "down")
    quotes.move_line(draft, first, "down")  # already last: nothing moves
    assert list(draft.lines.order_by("position").values_list("pk", "position")) == [(second, 0), (first, 1)]
    quotes.update_line(draft, second, {"unit_price": Decimal("100.00")})
    draft.refresh_from_db()
    assert draft.total == Decimal("1180.00")
    with pytest.raises(quotes.QuoteError, match="Line 1"):
        quotes.update_line(draft, second, {"quantity": Decimal("-1")})
