"""Workflows on contacts shared by the web pages, the API and the CLI. Each writes the
timeline and the audit log itself (explicit calls, no signals)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from solocrm.users.models import AuditLog

from .choices import InteractionKind
from .models import Contact, Interaction


@transaction.atomic
def add_interaction(
    contact: Contact,
    *,
    kind: str = InteractionKind.NOTE,
    subject: str = "",
    body: str = "",
    actor=None,
    occurred_at: datetime | None = None,
) -> Interaction:
    """Add an entry to ``contact``'s timeline (a note, a logged call, an e-mail…)."""
    interaction = Interaction.objects.create(
        contact=contact,
        company=contact.company,
        kind=kind,
        subject=subject[:300],
        body=body,
        occurred_at=occurred_at or timezone.now(),
        author=actor if getattr(actor, "is_authenticated", False) else None,
    )
    AuditLog.record(actor, "interaction.create", interaction, summary=str(interaction))
    return interaction
