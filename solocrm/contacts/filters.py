"""The one filter definition per list of contacts, companies and interactions: used by the web
lists, the API and the CLI export.

A filter is a ninja FilterSchema, so the API documents it; it only builds Django queries, so the
web list and the CLI can use it too: ``ContactFilter.model_validate(request.GET.dict()).apply(qs)``.
Blank values (an empty ``<select>`` in a form) mean "no filter"; ``ordering`` is validated
against the orderings the list offers, so an unknown one is an error rather than a silent default.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Literal
from uuid import UUID

from django.db import connection
from django.db.models import Q
from pydantic import Field

from solocrm.lib.business import business_settings
from solocrm.lib.filters import ListFilter, date_range, every_word, words
from solocrm.lib.normalize import case_variants, phone_search
from solocrm.lib.search import parse_query
from solocrm.lib.search_index import index_match

from .choices import Channel, InteractionKind, LifecycleStage
from .models import Contact

MAX_WORDS = 5  # more words only slow the query down
MAX_NAME_CUT = 4  # a family name written without a space before the given name has 1-4 characters

CONTACT_ORDERINGS = {
    "name": ("last_name", "first_name", "id"),
    "-name": ("-last_name", "-first_name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}


class ContactFilter(ListFilter):
    orderings = CONTACT_ORDERINGS
    default_ordering = "name"

    q: str | None = Field(None, max_length=200, description="Search in name, e-mail, phone and company")
    stage: LifecycleStage | None = Field(None, description="Lifecycle stage")
    channel: Channel | None = Field(None, description="Acquisition channel")
    tag: str | None = Field(None, max_length=60, description="Tag name")
    company: str | None = Field(None, max_length=200, description="Company name (contains)")
    company_uuid: UUID | None = Field(None, description="Company (public id)")
    has_email: bool | None = Field(None, description="Only contacts with (or without) an e-mail address")
    consent: bool | None = Field(None, description="E-mail marketing consent")
    created_after: date | None = None
    created_before: date | None = None
    ordering: Literal["name", "-name", "created", "-created"] | None = None

    def filter_q(self, value: str | None) -> Q:
        return contact_search(value or "")

    def filter_stage(self, value: str | None) -> Q:
        return Q(lifecycle_stage=value) if value else Q()

    def filter_tag(self, value: str | None) -> Q:
        return Q(tags__name__iexact=value) if value else Q()

    def filter_company(self, value: str | None) -> Q:
        return Q(company__name__icontains=value) if value else Q()

    def filter_company_uuid(self, value: UUID | None) -> Q:
        return Q(company__uuid=value) if value else Q()

    def filter_has_email(self, value: bool | None) -> Q:
        if value is None:
            return Q()
        return ~Q(email="") if value else Q(email="")

    def filter_consent(self, value: bool | None) -> Q:
        return Q() if value is None else Q(email_consent=value)

    def filter_created_after(self, value: date | None) -> Q:
        return date_range("created_at", value, None)

    def filter_created_before(self, value: date | None) -> Q:
        return date_range("created_at", None, value)

    def needs_distinct(self) -> bool:
        return bool(self.tag)


def contact_search(text: str) -> Q:
    """Every word of ``text`` must match: a name, e-mail (or part of one), phone number typed in
    any format, or company.

    The search-text index (lib.search_index, the one global search uses) picks the candidate
    rows; the conditions below, one per word over the contact row and its company, then decide
    as before, so for a word of three characters or more, a phone number or a CJK word the index
    only makes the list fast. A word of one or two other characters ("ma") is found at the start
    of a word, as in global search: "Mary" and "Martínez", not "Emma" (a substring that short
    would scan every row)."""
    region = business_settings().phone_region
    query = parse_query(text, region)
    q = index_match(Contact, query) if query else Q()
    numbers, others = phone_search(text, region)
    for typed, texts in numbers[:MAX_WORDS]:
        any_number = Q()
        for found in texts:
            any_number |= Q(phone__contains=found) | Q(other_phones__icontains=found)
        # a single word of digits may also be part of an e-mail address ("p12345@…")
        q &= (any_number | Q(email__icontains=typed)) if " " not in typed else any_number
    for word in words(" ".join(others), MAX_WORDS):
        q &= _word(word)
    return q


def _word(word: str) -> Q:
    """Where one word may be found. Each condition costs a scan of the column, so a word is only
    looked for where it can be: phone numbers hold digits, e-mail addresses are stored in lower
    case, and only a word in a script written without spaces can be a whole name."""
    # SQLite's LIKE ignores case for ASCII letters only: look for the usual casings of the word.
    sqlite_cased = connection.vendor == "sqlite" and not word.isascii()
    found = Q()
    for variant in case_variants(word) if sqlite_cased else [word]:
        found |= (
            Q(first_name__icontains=variant)
            | Q(last_name__icontains=variant)
            | Q(company__name__icontains=variant)
        )
        if _written_without_spaces(variant):
            found |= _whole_name(variant)
    lower = word.lower()
    found |= Q(email__icontains=lower)
    if "@" in word or "." in word:  # an address or a domain: the other e-mails too (a JSON scan)
        found |= Q(other_emails__icontains=lower)
    if any(c.isdigit() for c in word):
        found |= Q(phone__contains=word)
    return found


def _whole_name(word: str) -> Q:
    """ "张伟", "山田太郎", "김민수": a family name (stored whole) followed by the start of a given
    name, or the other way round. Equality on one part is much cheaper per row than matching the
    two parts joined."""
    found = Q()
    for cut in range(1, min(len(word), MAX_NAME_CUT + 1)):
        head, tail = word[:cut], word[cut:]
        found |= Q(last_name=head, first_name__startswith=tail) | Q(
            first_name=head, last_name__startswith=tail
        )
    return found


def _written_without_spaces(word: str) -> bool:
    """True for a word of two or more characters with a wide (Chinese, Japanese, Korean) one."""
    return len(word) > 1 and any(unicodedata.east_asian_width(c) in "WF" for c in word)


class CompanyFilter(ListFilter):
    orderings = {
        "name": ("name", "id"),
        "-name": ("-name", "-id"),
        "created": ("created_at", "id"),
        "-created": ("-created_at", "-id"),
    }
    default_ordering = "name"

    q: str | None = Field(None, max_length=200, description="Search in name, web domain and industry")
    industry: str | None = Field(None, max_length=100, description="Industry (contains)")
    country: str | None = Field(None, max_length=60, description="Country (exact, any case)")
    tag: str | None = Field(None, max_length=60, description="Tag name")
    created_after: date | None = None
    created_before: date | None = None
    ordering: Literal["name", "-name", "created", "-created"] | None = None

    def filter_q(self, value: str | None) -> Q:
        return every_word(value, "name__icontains", "domain__icontains", "industry__icontains")

    def filter_industry(self, value: str | None) -> Q:
        return Q(industry__icontains=value) if value else Q()

    def filter_country(self, value: str | None) -> Q:
        return Q(country__iexact=value) if value else Q()

    def filter_tag(self, value: str | None) -> Q:
        return Q(tags__name__iexact=value) if value else Q()

    def filter_created_after(self, value: date | None) -> Q:
        return date_range("created_at", value, None)

    def filter_created_before(self, value: date | None) -> Q:
        return date_range("created_at", None, value)

    def needs_distinct(self) -> bool:
        return bool(self.tag)


class InteractionFilter(ListFilter):
    orderings = {
        "-occurred": ("-occurred_at", "-id"),
        "occurred": ("occurred_at", "id"),
    }
    default_ordering = "-occurred"

    q: str | None = Field(None, max_length=200, description="Search in subject and text")
    kind: InteractionKind | None = Field(None, description="Kind of interaction")
    contact: UUID | None = Field(None, description="Contact (public id)")
    company: UUID | None = Field(None, description="Company (public id)")
    after: date | None = Field(None, description="Occurred on or after this day")
    before: date | None = Field(None, description="Occurred on or before this day")
    ordering: Literal["-occurred", "occurred"] | None = None

    def filter_q(self, value: str | None) -> Q:
        return every_word(value, "subject__icontains", "body__icontains")

    def filter_contact(self, value: UUID | None) -> Q:
        return Q(contact__uuid=value) if value else Q()

    def filter_company(self, value: UUID | None) -> Q:
        return Q(company__uuid=value) if value else Q()

    def filter_after(self, value: date | None) -> Q:
        return date_range("occurred_at", value, None)

    def filter_before(self, value: date | None) -> Q:
        return date_range("occurred_at", None, value)
