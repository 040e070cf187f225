"""What the contacts app itself adds to the contact page's header: when the person was last in
touch (the latest call, meeting, e-mail, chat or form; notes and system events do not count)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from solocrm.lib.contact_page import Figure, key_figures

from .choices import InteractionKind

CONTACT_KINDS = (
    InteractionKind.CALL,
    InteractionKind.MEETING,
    InteractionKind.EMAIL_IN,
    InteractionKind.EMAIL_OUT,
    InteractionKind.CHAT,
    InteractionKind.SOCIAL,
    InteractionKind.FORM,
)


@key_figures("last_contact")
def last_contact(request: HttpRequest, contact) -> list[Figure]:
    """One query on the (contact, occurred_at) index."""
    last = (
        contact.interactions.filter(kind__in=CONTACT_KINDS)
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )
    if last is None:
        return [Figure("last_contact", _("Last contact"), _("never"), order=50)]
    local = timezone.localtime(last)
    hint = _("%(time)s ago") % {"time": timesince(last)} if last <= timezone.now() else ""
    return [
        Figure(
            "last_contact", _("Last contact"), date_format(local, "SHORT_DATE_FORMAT"), hint=hint, order=50
        )
    ]
