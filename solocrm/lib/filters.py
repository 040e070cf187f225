"""What every list filter shares (the web lists, the API and the CLI export use the same
FilterSchema): blank means no filter, text must be storable, search boxes match every word,
and ``apply`` filters then orders."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, ClassVar

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from ninja import FilterSchema
from pydantic import field_validator

# NUL is refused by PostgreSQL and lone surrogates cannot be encoded as UTF-8: text holding
# either would fail deep in the database driver, so it is rejected where it comes in.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: Any) -> Any:
    """Return ``value`` (a str, or lists/dicts of them) unchanged, or raise ValueError."""
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            raise ValueError(_("contains characters that cannot be stored (NUL or invalid Unicode)"))
    elif isinstance(value, list | tuple):
        for item in value:
            storable(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            storable(key)
            storable(item)
    return value


def words(value: str | None, limit: int = 5) -> list[str]:
    """The first few words of a search box; more only slow the query down."""
    return (value or "").split()[:limit]


def every_word(value: str | None, *lookups: str) -> Q:
    """A search box's condition: each word must match at least one of ``lookups``
    (``"email__icontains"``…), so "ada acme" finds Ada at Acme."""
    q = Q()
    for word in words(value):
        any_field = Q()
        for lookup in lookups:
            any_field |= Q(**{lookup: word})
        q &= any_field
    return q


class ListFilter(FilterSchema):
    """Base of every list filter: blank means no filter, text must be storable, and
    ``apply`` filters then orders by one of ``orderings``."""

    orderings: ClassVar[dict[str, tuple[str, ...]]] = {}
    default_ordering: ClassVar[str] = ""

    @field_validator("*", mode="before")
    @classmethod
    def _blank_means_no_filter(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return storable(value)

    def filter_ordering(self, value: str | None) -> Q:
        return Q()  # not a condition: used by apply()

    def needs_distinct(self) -> bool:
        """True when a filter joins a many-valued relation and could repeat rows."""
        return False

    def apply(self, queryset: QuerySet, ordering: str | None = None) -> QuerySet:
        """Filter and order ``queryset``; ``ordering`` overrides the filter's own."""
        qs = self.filter(queryset)
        if self.needs_distinct():
            qs = qs.distinct()
        key = ordering or getattr(self, "ordering", None) or self.default_ordering
        return qs.order_by(*self.orderings.get(key, self.orderings[self.default_ordering]))


def date_range(field: str, after: date | None, before: date | None) -> Q:
    q = Q()
    if after:
        q &= Q(**{f"{field}__date__gte": after})
    if before:
        q &= Q(**{f"{field}__date__lte": before})
    return q
