"""The one filter definition for contact lists: used by the web list, the API and the CLI export."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from ninja import FilterSchema
from pydantic import Field

from .choices import Channel, LifecycleStage

CONTACT_ORDERINGS = {
    "name": ("last_name", "first_name", "id"),
    "-name": ("-last_name", "-first_name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}


class ContactFilter(FilterSchema):
    q: str | None = Field(None, max_length=200, description="Search in name, e-mail, phone and company")
    stage: LifecycleStage | None = Field(None, description="Lifecycle stage")
    channel: Channel | None = Field(None, description="Acquisition channel")
    tag: str | None = Field(None, max_length=60, description="Tag name")
    company: str | None = Field(None, max_length=200, description="Company name (contains)")
    has_email: bool | None = Field(None, description="Only contacts with (or without) an e-mail address")
    consent: bool | None = Field(None, description="E-mail marketing consent")
    created_after: date | None = None
    created_before: date | None = None

    def filter_q(self, value: str | None) -> Q:
        if not value or not value.strip():
            return Q()
        q = Q()
        for word in value.split()[:5]:
            q &= (
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
                | Q(phone__contains=word)
                | Q(company__name__icontains=word)
            )
        return q

    def filter_stage(self, value: str | None) -> Q:
        return Q(lifecycle_stage=value) if value else Q()

    def filter_tag(self, value: str | None) -> Q:
        return Q(tags__name__iexact=value) if value else Q()

    def filter_company(self, value: str | None) -> Q:
        return Q(company__name__icontains=value) if value else Q()

    def filter_has_email(self, value: bool | None) -> Q:
        if value is None:
            return Q()
        return ~Q(email="") if value else Q(email="")

    def filter_consent(self, value: bool | None) -> Q:
        return Q() if value is None else Q(email_consent=value)

    def filter_created_after(self, value: date | None) -> Q:
        return Q(created_at__date__gte=value) if value else Q()

    def filter_created_before(self, value: date | None) -> Q:
        return Q(created_at__date__lte=value) if value else Q()

    def apply(self, queryset: QuerySet, ordering: str | None = None) -> QuerySet:
        """Filter and order ``queryset`` (tags can multiply rows, hence distinct)."""
        qs = self.filter(queryset)
        if self.tag:
            qs = qs.distinct()
        return qs.order_by(*CONTACT_ORDERINGS.get(ordering or "name", CONTACT_ORDERINGS["name"]))
