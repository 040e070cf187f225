"""Today items for tickets past or near their SLA deadline (solocrm.lib.today): one bounded
query, the most overdue first."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from solocrm.lib.today import TodayAction, TodayContext, TodayItem, about, provider

from . import services
from .choices import Priority
from .models import Ticket

# Base points (docs/today.md): a breached SLA is a promise already broken to a waiting
# customer, above an overdue task; one due soon sits with tasks due today.
BASE_BREACHED = 62
BASE_DUE_SOON = 56
PRIORITY_POINTS = {Priority.URGENT: 8, Priority.HIGH: 4, Priority.NORMAL: 0, Priority.LOW: -4}


@provider("tickets")
def tickets_near_sla(ctx: TodayContext):
    due = (
        Ticket.objects.filter(next_due__lt=ctx.now + services.DUE_SOON)
        .select_related("contact", "sla_policy")
        .order_by("next_due", "id")
    )
    for ticket in due[: ctx.take("ticket")]:
        summary = services.sla_summary(ticket, ctx.now)
        late = ticket.next_due < ctx.now
        hours_late = max(0.0, (ctx.now - ticket.next_due).total_seconds() / 3600)
        score = (BASE_BREACHED + min(10.0, hours_late) if late else BASE_DUE_SOON) + PRIORITY_POINTS.get(
            ticket.priority, 0
        )
        url = reverse("support:ticket", args=[ticket.uuid])
        yield TodayItem(
            key=f"ticket:{ticket.uuid}",
            kind="ticket",
            title=about(f"#{ticket.number} {ticket.subject}", ticket.contact if ticket.contact_id else None),
            reason=summary["text"] or _("SLA deadline near"),
            score=score,
            url=url,
            when=ticket.next_due,
            actions=(TodayAction(_("Open ticket"), url, method="get", primary=True),),
        )
