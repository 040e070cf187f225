"""The sales module's Today items: tasks due, leads waiting for a reply, deals that stalled or
passed their close date, and sent quotes about to expire. Each provider runs one or two
bounded queries (see solocrm.lib.today)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from solocrm.lib.today import (
    TodayAction,
    TodayContext,
    TodayItem,
    about,
    contact_actions,
    provider,
    value_points,
)
from solocrm.sales.choices import Priority, QuoteStatus, TaskKind
from solocrm.sales.deals.models import Deal
from solocrm.sales.quotes.models import Quote
from solocrm.sales.tasks.models import Task
from solocrm.sales.tasks.reminders import end_of_day

# Base points per kind of item: what an owner would do first, all else equal (docs/today.md).
BASE_OVERDUE_TASK = 60
BASE_TASK_TODAY = 58
BASE_NEW_LEAD = 65
BASE_QUOTE_EXPIRING = 55
BASE_DEAL_LATE = 55
BASE_DEAL_STALLED = 42
QUOTE_WARNING_DAYS = 3
NEW_LEAD_DAYS = 7


def _task_actions(task: Task) -> tuple[TodayAction, ...]:
    actions = [TodayAction(_("Done"), reverse("sales:task_toggle", args=[task.uuid]), primary=True)]
    if task.contact_id and task.kind in (TaskKind.CALL, TaskKind.FOLLOW_UP, TaskKind.MEETING):
        log = reverse("sales:log_activity")
        query = f"?task={task.uuid}&contact={task.contact.uuid}"
        actions.append(TodayAction(_("Log call"), log + query, method="get"))
    actions.append(
        TodayAction(
            _("Snooze"), reverse("sales:task_snooze", args=[task.uuid]), fields=(("until", "tomorrow"),)
        )
    )
    return tuple(actions)


def _task_item(task: Task, base: float, reason: str) -> TodayItem:
    return TodayItem(
        key=f"task:{task.uuid}",
        kind="task",
        title=about(task.title, task.contact if task.contact_id else None),
        reason=reason,
        score=base + 4 * (task.priority - Priority.NORMAL),
        url=reverse("contacts:detail", args=[task.contact.uuid])
        if task.contact_id
        else reverse("sales:task_list"),
        when=task.due_at,
        actions=_task_actions(task),
        snoozable=False,
    )


@provider("tasks")
def tasks_due(ctx: TodayContext):
    tasks = Task.objects.open().select_related("contact").order_by("due_at", "-priority", "id")
    for task in tasks.filter(due_at__lt=ctx.now)[: ctx.limit]:
        days = (ctx.today - timezone.localdate(task.due_at)).days
        reason = (
            ngettext("Overdue by %(days)d day", "Overdue by %(days)d days", days) % {"days": days}
            if days
            else _("Was due earlier today")
        )
        yield _task_item(task, BASE_OVERDUE_TASK + min(days, 10), reason)
    for task in tasks.filter(due_at__gte=ctx.now, due_at__lt=end_of_day(ctx.now))[: ctx.limit]:
        due = timezone.localtime(task.due_at)
        reason = (
            _("Due today")
            if task.all_day
            else _("Due today at %(time)s") % {"time": date_format(due, "TIME_FORMAT")}
        )
        yield _task_item(task, BASE_TASK_TODAY, reason)


@provider("leads")
def new_leads(ctx: TodayContext):
    from solocrm.sales.leadforms.services import leads_waiting_for_reply

    # "New" leads: arrived (first form submission, else created) in the last week.
    for lead in leads_waiting_for_reply(ctx.take("lead"), days=NEW_LEAD_DAYS, now=ctx.now, newest_first=True):
        hours = max(0, int((ctx.now - lead.arrived_at).total_seconds() // 3600))
        reason = (
            ngettext("Waiting %(n)d hour for a first reply", "Waiting %(n)d hours for a first reply", hours)
            % {"n": hours}
            if hours < 48
            else ngettext(
                "Waiting %(n)d day for a first reply", "Waiting %(n)d days for a first reply", hours // 24
            )
            % {"n": hours // 24}
        )
        source = f" · {lead.source}" if lead.source else ""  # where they came from, not a name
        # Replies within the hour win the most leads: fresh leads rank highest, then decay.
        freshness = max(0.0, 10.0 - hours / 6)
        yield TodayItem(
            key=f"lead:{lead.uuid}",
            kind="lead",
            title=f"{lead}{source}",
            reason=reason,
            score=BASE_NEW_LEAD + freshness,
            url=reverse("contacts:detail", args=[lead.uuid]),
            when=lead.arrived_at,
            actions=contact_actions(lead),
        )


@provider("deals")
def stalled_deals(ctx: TodayContext):
    deals = (
        Deal.objects.stalled(ctx.now)
        .select_related("stage", "contact")
        .order_by(F("expected_close").asc(nulls_last=True), "last_activity_at")[: ctx.take("deal")]
    )
    for deal in deals:
        late = deal.expected_close is not None and deal.expected_close < ctx.today
        if late:
            days = (ctx.today - deal.expected_close).days
            reason = ngettext(
                "Expected to close %(days)d day ago", "Expected to close %(days)d days ago", days
            ) % {"days": days}
        else:
            days = (ctx.now - deal.last_activity_at).days
            reason = ngettext("No activity for %(days)d day", "No activity for %(days)d days", days) % {
                "days": days
            }
        reason += " · " + _("%(stage)s, %(probability)d%%") % {
            "stage": deal.stage.name,
            "probability": deal.stage.probability,
        }
        yield TodayItem(
            key=f"deal:{deal.uuid}",
            kind="deal",
            title=about(deal.title, deal.contact if deal.contact_id else None),
            reason=reason,
            score=(BASE_DEAL_LATE if late else BASE_DEAL_STALLED) + value_points(deal.weighted_amount),
            url=reverse("sales:deal_detail", args=[deal.uuid]),
            amount=deal.amount,
            currency=deal.currency,
            actions=(
                TodayAction(_("Open deal"), reverse("sales:deal_detail", args=[deal.uuid]), method="get"),
            ),
        )


@provider("quotes")
def expiring_quotes(ctx: TodayContext):
    soon = ctx.today + timedelta(days=QUOTE_WARNING_DAYS)
    quotes = (
        Quote.objects.filter(status=QuoteStatus.SENT, valid_until__gte=ctx.today, valid_until__lte=soon)
        .select_related("contact")
        .order_by("valid_until", "id")[: ctx.take("quote")]
    )
    for quote in quotes:
        days = (quote.valid_until - ctx.today).days
        reason = (
            _("Expires today")
            if days == 0
            else ngettext("Expires in %(days)d day", "Expires in %(days)d days", days) % {"days": days}
        )
        url = reverse("sales:quote_detail", args=[quote.uuid])
        yield TodayItem(
            key=f"quote:{quote.uuid}",
            kind="quote",
            title=about(
                _("Quote %(number)s") % {"number": quote.number}, quote.contact if quote.contact_id else None
            ),
            reason=reason,
            score=BASE_QUOTE_EXPIRING + (QUOTE_WARNING_DAYS - days) * 2 + value_points(quote.total),
            url=url,
            when=quote.valid_until,
            amount=quote.total,
            currency=quote.currency,
            actions=(TodayAction(_("Open quote"), url, method="get"),),
        )
