"""Contacts and companies in global search (lib.search), answered by their search-text index."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from solocrm.lib.search import SearchQuery, provider, result
from solocrm.lib.search_index import matching

from .models import Company, Contact


@provider("contacts", order=10)
def contacts(query: SearchQuery, user, limit: int):
    # A few more rows than shown, ranked here: the index answers "which", not "best first".
    fields = ("uuid", "first_name", "last_name", "email", "phone", "company__name")
    found = matching(Contact.objects.select_related("company").only(*fields), query, limit * 3)
    for contact in found:
        details = [contact.email, contact.phone, contact.company.name if contact.company else ""]
        yield result(
            query,
            kind="contact",
            kind_label=_("Contact"),
            title=str(contact),
            subtitle=" · ".join(d for d in details if d),
            url=reverse("contacts:detail", args=[contact.uuid]),
            icon="user",
            uuid=contact.uuid,
        )


@provider("companies", order=20)
def companies(query: SearchQuery, user, limit: int):
    found = matching(Company.objects.only("uuid", "name", "domain", "industry"), query, limit * 3)
    for company in found:
        yield result(
            query,
            kind="company",
            kind_label=_("Company"),
            title=company.name,
            subtitle=" · ".join(d for d in (company.domain, company.industry) if d),
            url=reverse("contacts:company_detail", args=[company.uuid]),
            icon="building-2",
            uuid=company.uuid,
        )
