"""The quote services: money maths, numbering, validation, freezing and revising."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from solocrm.sales.choices import QuoteStatus
from solocrm.sales.deals.services import lose_deal
from solocrm.sales.quotes import services as quotes
from solocrm.sales.quotes.models import NumberSequence, Quote
from solocrm.sales.quotes.tests.quote_helpers import line, sent_quote
from solocrm.users.models import AuditLog

D = Decimal

# --- maths (hand-computed) ----------------------------------------------------------------------


def test_line_discount_quote_discount_and_per_line_tax_add_up_as_computed_by_hand():
    # A: 3 × 19.99 = 59.97, less 10 % = 53.973 → 53.97
    # B: 1 × 0.05 = 0.05, less 50 % = 0.025 → 0.03 (half up; half even would say 0.02)
    # subtotal 54.00; 5 % off = 2.70
    # tax A: 53.97 × 0.95 × 20 % = 10.2543 → 10.25; tax B: 0.03 × 0.95 × 7 % = 0.001995 → 0.00
    # total = 54.00 − 2.70 + 10.25 = 61.55
    totals = quotes.compute_totals(
        [
            line(quantity="3", price="19.99", discount="10", tax="20"),
            line(quantity="1", price="0.05", discount="50", tax="7"),
        ],
        D("5"),
    )
    assert totals.lines == (D("53.97"), D("0.03"))
    assert (totals.subtotal, totals.discount_total, totals.tax_total, totals.total) == (
        D("54.00"),
        D("2.70"),
        D("10.25"),
        D("61.55"),
    )


def test_half_a_cent_rounds_up_not_to_even():
    # 12.25 × 10 % = 1.225 → 1.23 (ROUND_HALF_EVEN would give 1.22)
    totals = quotes.compute_totals([line(price="12.25", tax="10")], D("0"))
    assert (totals.tax_total, totals.total) == (D("1.23"), D("13.48"))


def test_a_fractional_quantity_is_rounded_once_on_the_line():
    # 1.5 × 33.33 = 49.995 → 50.00
    assert quotes.line_total(D("1.5"), D("33.33"), D("0")) == D("50.00")


def test_a_full_discount_makes_a_free_quote_without_tax():
    totals = quotes.compute_totals([line(price="80.00", tax="19")], D("100"))
    assert (totals.subtotal, totals.discount_total, totals.tax_total, totals.total) == (
        D("80.00"),
        D("80.00"),
        D("0.00"),
        D("0.00"),
    )


def test_the_saved_quote_keeps_the_computed_totals_on_itself_and_its_lines(deal):
    quote = quotes.create_quote(
        deal, {"discount_percent": D("5")}, lines=[line(quantity="3", price="19.99", discount="10", tax="20")]
    )
    quote.refresh_from_db()
    assert (quote.subtotal, quote.discount_total, quote.tax_total, quote.total) == (
        D("53.97"),
        D("2.70"),
        D("10.25"),
        D("61.52"),
    )
    assert quote.lines.get().total == D("53.97")


# --- numbers ------------------------------------------------------------------------------------


def test_quotes_are_numbered_in_sequence_per_year_of_issue(deal):
    first = quotes.create_quote(deal, {"issued_on": date(2026, 3, 1)})
    second = quotes.create_quote(deal, {"issued_on": date(2026, 3, 1)})
    next_year = quotes.create_quote(deal, {"issued_on": date(2027, 1, 2)})
    again = quotes.create_quote(deal, {"issued_on": date(2026, 12, 31)})
    assert [q.number for q in (first, second, next_year, again)] == [
        "Q-2026-0001",
        "Q-2026-0002",
        "Q-2027-0001",
        "Q-2026-0003",
    ]


def test_a_failed_quote_uses_no_number(deal):
    quotes.create_quote(deal, {"issued_on": date(2026, 3, 1)})
    with pytest.raises(quotes.QuoteError):
        quotes.create_quote(deal, {"issued_on": date(2026, 3, 1)}, lines=[line(quantity="-1")])
    assert quotes.create_quote(deal, {"issued_on": date(2026, 3, 1)}).number == "Q-2026-0002"


def test_a_deleted_draft_leaves_its_number_unused_and_the_audit_log_says_why(deal):
    draft = quotes.create_quote(deal, {"issued_on": date(2026, 3, 1)})
    quotes.delete_quote(draft)
    assert quotes.create_quote(deal, {"issued_on": date(2026, 3, 1)}).number == "Q-2026-0002"
    assert AuditLog.objects.filter(action="quote.delete", summary__contains="Q-2026-0001").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_concurrent_quotes_never_share_or_skip_a_number(customer):
    from solocrm.sales.deals.services import create_deal

    the_deal = create_deal({"title": "Busy", "contact": customer})
    errors: list[Exception] = []

    def make_three() -> None:
        try:
            for _ in range(3):
                quotes.create_quote(the_deal, {"issued_on": date(2026, 5, 1)})
        except Exception as error:  # reported below; a thread must not die silently
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=make_three) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(Quote.objects.values_list("number", flat=True))
    assert numbers == [f"Q-2026-{n:04d}" for n in range(1, 13)]
    assert NumberSequence.objects.get(key="Q-2026").last == 12


# --- defaults and bad input ---------------------------------------------------------------------


def test_a_new_quote_is_valid_for_30_days_in_the_deals_currency_for_its_contact(deal, customer):
    quote = quotes.create_quote(deal, {"issued_on": date(2026, 3, 1)})
    assert (quote.valid_until, quote.currency, quote.contact, quote.status) == (
        date(2026, 3, 31),
        "EUR",
        customer,
        QuoteStatus.DRAFT,
    )


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"quantity": D("0")}, "quantity"),
        ({"quantity": D("-2")}, "quantity"),
        ({"quantity": D("1.0001")}, "quantity"),
        ({"quantity": D("1000000001")}, "quantity"),
        ({"unit_price": D("-1")}, "unit price"),
        ({"unit_price": D("1.001")}, "unit price"),
        ({"unit_price": D("1000000000000")}, "unit price"),
        ({"unit_price": "NaN"}, "not a number"),
        ({"unit_price": "abc"}, "not a number"),
        ({"discount_percent": D("100.01")}, "between 0 and 100"),
        ({"tax_rate": D("-1")}, "between 0 and 100"),
        ({"name": "", "product": None}, "needs a name"),
        ({"name": "x" * 201}, "200 characters"),
    ],
)
def test_bad_lines_are_refused_with_a_reason_and_nothing_is_saved(deal, bad, message):
    with pytest.raises(quotes.QuoteError, match=message):
        quotes.create_quote(deal, lines=[line(), {**line(), **bad}])
    assert not Quote.objects.exists()
    assert not NumberSequence.objects.filter(last__gt=0).exists()


def test_the_total_may_not_exceed_the_largest_amount_stored(deal):
    huge = line(quantity="1000000", price="999999999.00")
    with pytest.raises(quotes.QuoteError, match="too large"):
        quotes.create_quote(deal, lines=[huge])


def test_a_quote_cannot_be_valid_until_before_it_is_issued(deal):
    with pytest.raises(quotes.QuoteError, match="before it is issued"):
        quotes.create_quote(deal, {"issued_on": date(2026, 3, 2), "valid_until": date(2026, 3, 1)})


def test_more_than_200_lines_are_refused(deal):
    with pytest.raises(quotes.QuoteError, match="200"):
        quotes.create_quote(deal, lines=[line()] * 201)


def test_a_closed_deal_gets_no_new_quote(deal):
    lose_deal(deal, "price")
    with pytest.raises(quotes.QuoteStateError):
        quotes.create_quote(deal)


def test_a_product_line_copies_the_products_name_and_price_and_keeps_them(deal, product):
    quote = quotes.create_quote(deal, lines=[quotes.line_from_product(product)])
    product.price, product.name = D("95.00"), "Design hour (new)"
    product.save()
    stored = quote.lines.get()
    assert (stored.name, stored.unit_price, stored.product) == ("Design hour", D("80.00"), product)
    product.delete()
    stored.refresh_from_db()
    assert (stored.name, stored.product) == ("Design hour", None)


# --- drafts, freezing, revising -----------------------------------------------------------------


def test_editing_a_draft_replaces_its_lines_and_recomputes(deal):
    quote = quotes.create_quote(deal, lines=[line(price="10.00")])
    quotes.update_quote(
        quote, {"discount_percent": D("10")}, lines=[line(price="50.00"), line(price="50.00")]
    )
    quote.refresh_from_db()
    assert (quote.lines.count(), quote.subtotal, quote.total) == (2, D("100.00"), D("90.00"))
    assert list(quote.lines.values_list("position", flat=True)) == [0, 1]


def test_a_sent_quote_is_frozen(deal, mailoutbox):
    quote = sent_quote(deal)
    with pytest.raises(quotes.QuoteStateError, match="revise"):
        quotes.update_quote(quote, {"discount_percent": D("50")})
    with pytest.raises(quotes.QuoteStateError):
        quotes.delete_quote(quote)
    quote.refresh_from_db()
    assert quote.discount_percent == D("0")


def test_revising_a_sent_quote_copies_it_under_a_new_number_and_withdraws_the_old(deal, mailoutbox):
    old = sent_quote(deal, introduction="Hello")
    new = quotes.revise_quote(old)
    old.refresh_from_db()
    assert old.status == QuoteStatus.WITHDRAWN
    assert (new.status, new.introduction, new.issued_on) == (QuoteStatus.DRAFT, "Hello", timezone.localdate())
    assert new.number != old.number
    assert [(ln.name, ln.total) for ln in new.lines.all()] == [(ln.name, ln.total) for ln in old.lines.all()]
    assert new.total == old.total


def test_a_draft_is_edited_not_revised(deal):
    with pytest.raises(quotes.QuoteStateError):
        quotes.revise_quote(quotes.create_quote(deal))


def test_preview_counts_unnamed_lines_and_explains_what_is_missing(deal):
    ok = quotes.preview(
        [{"name": "", "quantity": "2", "unit_price": "5", "discount_percent": "", "tax_rate": "0"}], ""
    )
    assert isinstance(ok, quotes.Totals) and ok.total == D("10.00")
    missing = quotes.preview([{"name": "x", "quantity": "", "unit_price": "5"}], "0")
    assert isinstance(missing, str) and "quantity" in missing


def test_the_accept_link_expires_at_the_end_of_the_validity_day_in_local_time(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    timezone.activate("Europe/Berlin")
    try:
        end = quotes.expires_at(date(2026, 3, 31))
        assert end.isoformat() == "2026-04-01T00:00:00+02:00"
        assert end - timedelta(seconds=1) < end
    finally:
        timezone.deactivate()
