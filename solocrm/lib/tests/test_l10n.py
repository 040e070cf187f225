"""Dates, numbers, quantities and money in each language (solocrm/formats, solocrm.lib.l10n)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django import forms
from django.template import Context, Template
from django.utils import formats, translation
from django.utils.dateformat import format as date_format

from solocrm.lib import l10n

DAY = dt.date(2026, 12, 7)  # a Monday
MOMENT = dt.datetime(2026, 12, 7, 15, 4)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "en",
            {
                "DATE_FORMAT": "7 December 2026",
                "SHORT_DATE_FORMAT": "7 Dec 2026",
                "DATETIME_FORMAT": "7 December 2026, 15:04",
                "SHORT_DATETIME_FORMAT": "7 Dec 2026, 15:04",
                "TIME_FORMAT": "15:04",
                "YEAR_MONTH_FORMAT": "December 2026",
            },
        ),
        (
            "zh-hans",
            {
                "DATE_FORMAT": "2026年12月7日",
                "SHORT_DATE_FORMAT": "2026-12-07",
                "DATETIME_FORMAT": "2026年12月7日 15:04",
                "SHORT_DATETIME_FORMAT": "2026-12-07 15:04",
                "TIME_FORMAT": "15:04",
                "YEAR_MONTH_FORMAT": "2026年12月",
            },
        ),
    ],
)
def test_one_long_and_one_short_date_format_per_language(lang, expected):
    with translation.override(lang):
        got = {name: formats.date_format(MOMENT, name) for name in expected}
    assert got == expected


@pytest.mark.parametrize(
    ("lang", "expected"), [("en", "Monday, 7 December 2026"), ("zh-hans", "2026年12月7日 星期一")]
)
def test_the_long_date_with_the_weekday(lang, expected):
    with translation.override(lang):
        assert l10n.weekday_date(DAY) == expected
        assert (
            Template("{% load formatting %}{% weekday_date day %}").render(Context({"day": DAY})) == expected
        )


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_numbers_are_grouped_by_thousands_in_both_languages(lang):
    with translation.override(lang):
        assert l10n.number(50190) == "50,190"
        assert l10n.money(Decimal("1234567.5"), "CNY") == "1,234,567.50 CNY"
        rendered = Template('{% load humanize %}{{ n|intcomma }} {{ x|floatformat:"2g" }}').render(
            Context({"n": 50190, "x": Decimal("50190.5")})
        )
        assert rendered == "50,190 50,190.50"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("2.500"), "2.5"),
        (Decimal("2.000"), "2"),
        (Decimal("10"), "10"),  # not 1E+1
        (Decimal("1000.000"), "1,000"),
        (Decimal("0.125"), "0.125"),
        (None, "—"),
        ("not a number", "—"),
    ],
)
def test_quantities_show_only_their_significant_decimals(value, expected):
    with translation.override("zh-hans"):
        assert l10n.quantity(value) == expected
        assert Template("{% load formatting %}{{ q|quantity }}").render(Context({"q": value})) == expected


def test_money_and_rates_in_templates():
    with translation.override("en"):
        template = Template(
            '{% load formatting %}{{ t|amount:"EUR" }}|{{ r|percent_value }}|{{ z|percent_value }}'
        )
        assert template.render(
            Context({"t": Decimal("912.5"), "r": Decimal("20.00"), "z": Decimal("12.50")})
        ) == ("912.50 EUR|20 %|12.5 %")


def test_a_date_field_writes_iso_dates_in_chinese_for_the_browsers_date_picker():
    class DayForm(forms.Form):
        day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    with translation.override("zh-hans"):
        assert 'value="2026-12-07"' in str(DayForm(initial={"day": DAY})["day"])
        form = DayForm(data={"day": "2026年12月7日"})
        assert form.is_valid() and form.cleaned_data["day"] == DAY
        assert date_format(DAY, "l") == "星期一"


def test_a_quantity_field_shows_its_significant_decimals():
    from solocrm.sales.quotes.forms import QuoteLineForm

    form = QuoteLineForm(initial={"name": "Work", "quantity": Decimal("2.500"), "unit_price": Decimal("1")})
    assert 'value="2.5"' in str(form["quantity"])
    assert l10n.significant(Decimal("10.000")) == "10" and l10n.significant(Decimal("0.125")) == "0.125"
    assert l10n.significant("") is None
    # What the user typed is shown back as typed.
    bound = QuoteLineForm(data={"name": "Work", "quantity": "2.50", "unit_price": "1"})
    assert 'value="2.50"' in str(bound["quantity"])
