"""Contacts and companies in global search (lib.search), answered by their search-text index."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from solocrm.lib.search import SearchQuery, provider, result
from solocrm.lib.search_index import matching_ids

from .models import Company, Contact


@provider("contacts", order=10)
def contacts(query: SearchQuery, user, limit: int):
    # A few more rows than shown, ranked here: the index answers "which", not "best first".
    ids = matching_ids(Contact, query, limit * 3)
    found = (
        Contact.objects.filter(pk__in=ids)
        .select_related("company")
        .only("uuid", "first_name", "last_name", "email", "phone", "company__name")
        .order_by()
    )
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
    ids = matching_ids(Company, query, limit * 3)
    found = Company.objects.filter(pk__in=ids).only("uuid", "name", "domain", "industry").order_by()
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
