"""The conversations list's filter (the Mail page; one definition for the page and any API)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db.models import Exists, OuterRef, Q
from ninja import Field

from solocrm.lib.filters import ListFilter, every_word

from .models import Direction, MailMessage


class ThreadFilter(ListFilter):
    orderings: ClassVar[dict[str, tuple[str, ...]]] = {"-last": ("-last_message_at", "-id")}
    default_ordering: ClassVar[str] = "-last"

    q: str | None = Field(None, max_length=200, description="Search in the subject")
    account: uuid.UUID | None = Field(None, description="Mail account (public id)")
    direction: Direction | None = Field(None, description="in: has received mail; out: has sent mail")
    contact: uuid.UUID | None = Field(None, description="Contact (public id)")

    def filter_q(self, value: str | None) -> Q:
        return every_word(value, "subject__icontains")

    def filter_account(self, value: uuid.UUID | None) -> Q:
        if not value:
            return Q()
        return Q(Exists(MailMessage.objects.filter(thread=OuterRef("pk"), account__uuid=value)))

    def filter_direction(self, value: str | None) -> Q:
        if not value:
            return Q()
        return Q(Exists(MailMessage.objects.filter(thread=OuterRef("pk"), direction=value)))

    def filter_contact(self, value: uuid.UUID | None) -> Q:
        if not value:
            return Q()
        return Q(contact__uuid=value) | Q(
            Exists(MailMessage.objects.filter(thread=OuterRef("pk"), contact__uuid=value))
        )
