"""Numbers, money and dates in the current language: ``{% load formatting %}``.

    {{ line.quantity|quantity }}          2.5 (not 2.500)
    {{ total|amount:quote.currency }}     12,345.60 EUR
    {{ count|intcomma }}                  50,190 (django.contrib.humanize; floatformat:"2g" too)
    {% weekday_date %}                    Monday, 7 December 2026 / 2026年12月7日 星期一

Dates otherwise use Django's named formats: ``|date:"DATE_FORMAT"`` (long) and
``|date:"SHORT_DATE_FORMAT"`` (tables), defined per language in solocrm/formats/."""

from __future__ import annotations

from django import template

from solocrm.lib import l10n

register = template.Library()


@register.filter
def quantity(value) -> str:
    return l10n.quantity(value)


@register.filter
def amount(value, currency: str = "") -> str:
    """Money with two decimals and its currency code (analytics_tags.money is the same in
    SOLOCRM_CURRENCY with whole units, for reports)."""
    return l10n.money(value, currency)


@register.filter
def percent_value(value) -> str:
    """A rate already in percent with its significant decimals: 20.00 -> "20 %"."""
    return l10n.percent(value)


@register.simple_tag
def weekday_date(value=None) -> str:
    return l10n.weekday_date(value)
