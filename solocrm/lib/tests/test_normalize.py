from decimal import Decimal

import pytest

from solocrm.lib.normalize import (
    finite_number,
    normalize_currency,
    normalize_email,
    normalize_name,
    normalize_phone,
    parse_money,
    split_full_name,
)


def test_it_lower_cases_and_trims_emails():
    assert normalize_email("  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"
    assert normalize_email("mailto:a@b.io") == "a@b.io"
    assert normalize_email("") == ""


@pytest.mark.parametrize("bad", ["ada", "ada@", "@x.com", "a b@c.com", "x" * 300 + "@a.com"])
def test_it_rejects_bad_email(bad):
    with pytest.raises(ValueError):
        normalize_email(bad)


def test_it_writes_phones_in_e164_using_the_default_region():
    assert normalize_phone("(202) 555-0143", "US") == "+12025550143"
    assert normalize_phone("030 1234567", "DE") == "+49301234567"
    assert normalize_phone("0044 20 7946 0958", "US") == "+442079460958"
    assert normalize_phone("138 0013 8000", "CN") == "+8613800138000"


@pytest.mark.parametrize("bad", ["abc", "12", "+1" + "9" * 30])
def test_it_rejects_bad_phones(bad):
    with pytest.raises(ValueError):
        normalize_phone(bad, "US")


def test_names_keep_the_case_they_were_typed_in():
    assert normalize_name("  ada   lovelace ") == "ada lovelace"  # spaces tidied, case kept
    assert normalize_name("IBM") == "IBM"
    assert normalize_name("danah boyd") == "danah boyd"
    assert normalize_name("ADA LOVELACE") == "ADA LOVELACE"
    assert normalize_name("Ada McLovelace") == "Ada McLovelace"
    assert normalize_name("王小明") == "王小明"


def test_it_splits_full_names_in_three_conventions():
    assert split_full_name("Ada Lovelace") == ("Ada", "Lovelace")
    assert split_full_name("Lovelace, Ada") == ("Ada", "Lovelace")
    assert split_full_name("王小明") == ("小明", "王")
    assert split_full_name("Müller, Jürgen") == ("Jürgen", "Müller")
    assert split_full_name("danah boyd") == ("danah", "boyd")


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1,234.50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("$12", "12.00"),
        ("¥ 88", "88.00"),
        ("-3.5", "-3.50"),
        ("12,5", "12.50"),
        ("", "0.00"),
    ],
)
def test_it_parses_money_in_common_notations(text, amount):
    assert parse_money(text) == Decimal(amount)


@pytest.mark.parametrize("bad", ["abc", "1e400", "99999999999999999"])
def test_it_rejects_impossible_amounts(bad):
    with pytest.raises(ValueError):
        parse_money(bad)


def test_currency_codes_are_three_letters():
    assert normalize_currency("eur", "USD") == "EUR"
    assert normalize_currency("", "USD") == "USD"
    with pytest.raises(ValueError):
        normalize_currency("euro", "USD")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, 3.0), ("2.5", 2.5), (Decimal("1.25"), 1.25), (None, None), (True, None), ("abc", None),
     (float("nan"), None), (float("inf"), None), ([1], None)],
)  # fmt: skip
def test_finite_number_gives_a_float_or_none_for_anything_unusable(value, expected):
    assert finite_number(value) == expected


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("(12.00)", "-12.00"),
        ("12 EUR", "12.00"),
        ("EUR 1 234,56", "1234.56"),
        ("1 234,56 €", "1234.56"),
        ("CHF 1'234.50", "1234.50"),
        ("$-5", "-5.00"),
    ],
)
def test_it_parses_one_amount_with_a_currency_and_one_locales_separators(text, amount):
    assert parse_money(text) == Decimal(amount)


@pytest.mark.parametrize("guess", ["1/2", "12-34", "3+4", "12 34", "1,23,4", "12.3.4", "(12", "--5"])
def test_money_text_that_is_not_one_number_is_refused_not_guessed(guess):
    with pytest.raises(ValueError, match="not an amount of money"):
        parse_money(guess)
