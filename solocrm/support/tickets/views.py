"""The support desk's pages: the queue (filters, bulk actions), a ticket (conversation, notes,
events, reply with canned replies, controls, links, merge), a new ticket, canned replies and the
SLA policy. Every write goes through services.py; a stale form answers 409 with the reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from solocrm.contacts.models import Contact
from solocrm.contacts.views import _filter_from
from solocrm.lib.access import can, get_for, role_required
from solocrm.lib.business import business_settings
from solocrm.lib.http import vary_on_htmx, wants_partial
from solocrm.lib.roles import Action
from solocrm.sales.models import Deal, Order

from . import services
from .choices import EventKind, Priority, TicketSource, TicketStatus
from .filters import TicketFilter
from .forms import (
    BulkForm,
    CannedReplyForm,
    LinkForm,
    MergeForm,
    NoteForm,
    ReplyForm,
    SlaPolicyForm,
    TicketFilterForm,
    TicketForm,
    TicketUpdateForm,
)
from .models import CannedReply, Ticket

TICKETS_PER_PAGE = 50


def _tickets():
    return Ticket.objects.select_related("contact", "assignee", "sla_policy").prefetch_related("tags")


def _with_sla(tickets, now=None) -> list[Ticket]:
    now = now or timezone.now()
    rows = list(tickets)
    for ticket in rows:
        ticket.sla = services.sla_summary(ticket, now)
    return rows


# --- the queue --------------------------------------------------------------------------------


@role_required(Action.VIEW)
def queue(request: HttpRequest) -> HttpResponse:
    ticket_filter, filter_error = _filter_from(request, TicketFilter)
    if not request.GET:
        ticket_filter = TicketFilter(status="unsolved")  # the desk opens on what needs doing
    page = Paginator(ticket_filter.apply(_tickets()), TICKETS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = _with_sla(page.object_list)
    initial = request.GET.dict() if request.GET else {"status": "unsolved"}
    context = {
        "page": page,
        "filter_form": TicketFilterForm(initial=initial),
        "filter_error": filter_error,
        "filtered": any(v for k, v in request.GET.items() if k not in ("page", "ordering")),
        "bulk_form": BulkForm(auto_id="bulk_%s"),
    }
    template = (
        "support/tickets/_queue_results.html" if wants_partial(request) else "support/tickets/queue.html"
    )
    return vary_on_htmx(render(request, template, context))


@require_POST
@role_required(Action.EDIT)
def bulk(request: HttpRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    ids = request.POST.getlist("tickets")[: TICKETS_PER_PAGE * 4]
    back = redirect(f"{_url('support:queue')}?{request.POST.get('query', '')}")
    if not ids:
        messages.warning(request, _("Tick the tickets to change first."))
        return back
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return back
    action = form.cleaned_data["action"]
    value = _bulk_value(form.cleaned_data)
    try:
        chosen = _tickets().filter(uuid__in=[i for i in ids if _is_uuid(i)])
        count = services.bulk_update(chosen, action, value, user=request.user)
    except services.TicketError as error:
        messages.error(request, str(error))
        return back
    messages.success(request, _("%(count)s ticket(s) changed.") % {"count": count})
    return back


def _bulk_value(data: dict) -> Any:
    action = data["action"]
    if action == "assign":
        username = data.get("assignee")
        return services.assignable_users().filter(username=username).first() if username else None
    return {
        "status": data.get("status"),
        "priority": data.get("priority"),
        "tag": (data.get("tag") or "").strip(),
    }[action]


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _url(name: str, *args) -> str:
    from django.urls import reverse

    return reverse(name, args=args)


# --- one ticket -------------------------------------------------------------------------------


def _ticket(request: HttpRequest, public_id, action: str = Action.VIEW) -> Ticket:
    qs = Ticket.objects.select_related(
        "contact", "assignee", "sla_policy", "deal", "order", "merged_into", "thread"
    ).prefetch_related("tags")
    return get_for(request.user, qs, public_id, action)


def _detail_context(request: HttpRequest, ticket: Ticket, forms: dict | None = None) -> dict:
    forms = forms or {}
    events = list(ticket.events.select_related("author", "message").order_by("created_at", "id"))
    conversation = [
        e for e in events if e.kind in (EventKind.CUSTOMER_REPLY, EventKind.AGENT_REPLY, EventKind.NOTE)
    ]
    changes = [e for e in events if e not in conversation]
    for event in changes:
        event.summary = _change_summary(event)
    reply_initial: dict[str, Any] = {"version": ticket.version, **_inserted(request, ticket)}
    ticket.sla = services.sla_summary(ticket)
    return {
        "ticket": ticket,
        "conversation": conversation,
        "changes": changes,
        "merged_tickets": ticket.merged_tickets.order_by("number"),
        "reply_form": forms.get("reply") or ReplyForm(initial=reply_initial, auto_id="reply_%s"),
        "note_form": forms.get("note") or NoteForm(initial={"version": ticket.version}, auto_id="note_%s"),
        "update_form": forms.get("update")
        or TicketUpdateForm(initial=TicketUpdateForm.initial_for(ticket), auto_id="update_%s"),
        "link_form": forms.get("link")
        or LinkForm(
            ticket=ticket,
            initial={
                "version": ticket.version,
                "deal": str(ticket.deal.uuid) if ticket.deal else "",
                "order": str(ticket.order.uuid) if ticket.order else "",
            },
            auto_id="link_%s",
        ),
        "merge_form": forms.get("merge")
        or MergeForm(initial={"version": ticket.version}, auto_id="merge_%s"),
        "canned_replies": CannedReply.objects.order_by("title").only("uuid", "title"),
        "can_reply": bool(ticket.contact and ticket.contact.email),
    }


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _change_summary(event) -> str:
    """What a change event says after its kind: "Status changed: Solved"."""
    data = event.data or {}
    if event.kind == EventKind.STATUS:
        return _label(TicketStatus, data.get("to"))
    if event.kind == EventKind.PRIORITY:
        return _label(Priority, data.get("to"))
    if event.kind == EventKind.ASSIGN:
        return data.get("to") or _("nobody")
    if event.kind == EventKind.TAGS:
        return ", ".join(data.get("tags") or []) or "—"
    if event.kind == EventKind.MERGE:
        number = data.get("into") or data.get("from")
        return f"#{number}" if number else ""
    if event.kind == EventKind.LINK:
        return " · ".join(str(v) for v in (data.get("deal"), data.get("order")) if v)
    return str(data.get("to") or "")


def _inserted(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    """The reply box's text after "Insert": what was typed (sent along by htmx) followed by
    the canned reply picked, its merge fields filled in. A GET: nothing is saved."""
    typed = request.GET.get("body", "")[: services.MAX_BODY].rstrip()
    pieces = [typed] if typed else []
    initial: dict[str, Any] = {}
    canned_id = request.GET.get("canned", "")
    canned = CannedReply.objects.filter(uuid=canned_id).first() if _is_uuid(canned_id) else None
    if canned is not None:
        pieces.append(services.fill_canned(canned, ticket))
        initial["canned"] = canned.uuid
    if pieces:
        initial["body"] = "\n\n".join(pieces)
    return initial


@role_required(Action.VIEW)
def ticket_detail(request: HttpRequest, public_id) -> HttpResponse:
    ticket = _ticket(request, public_id)
    context = _detail_context(request, ticket)
    if wants_partial(request) and request.GET.get("canned"):
        return vary_on_htmx(render(request, "support/tickets/_reply_box.html", context))
    return vary_on_htmx(render(request, "support/tickets/ticket_detail.html", context))


def _act(
    request: HttpRequest, ticket: Ticket, form_name: str, form, work: Callable[[dict], Any], done: str
) -> HttpResponse:
    """Run ``work(cleaned_data)`` for a valid form; a refused change shows the page again with
    the reason (422), a stale one with the 409 reason."""
    status = 422
    if form.is_valid():
        try:
            work(form.cleaned_data)
        except IntegrityError as error:  # StaleTicket, a Conflict
            messages.error(request, str(error))
            status = 409
        except services.TicketError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, done)
            return redirect("support:ticket", ticket.uuid)
    if status == 409:
        ticket = _ticket(request, ticket.uuid)
        return render(
            request, "support/tickets/ticket_detail.html", _detail_context(request, ticket), status=409
        )
    context = _detail_context(request, ticket, {form_name: form})
    return render(request, "support/tickets/ticket_detail.html", context, status=status)


@require_POST
@role_required(Action.EDIT)
def ticket_reply(request: HttpRequest, public_id) -> HttpResponse:
    ticket = _ticket(request, public_id, Action.EDIT)
    form = ReplyForm(request.POST, auto_id="reply_%s")

    def work(data: dict) -> None:
        canned = CannedReply.objects.filter(uuid=data["canned"]).first() if data.get("canned") else None
        services.reply(
            ticket,
            data["body"],
            user=request.user,
            version=data["version"],
            status=data["status"] or None,
            canned=canned,
        )

    return _act(request, ticket, "reply", form, work, _("Reply saved; it is being sent."))


@require_POST
@role_required(Action.EDIT)
def ticket_note(request: HttpRequest, public_id) -> HttpResponse:
    ticket = _ticket(request, public_id, Action.EDIT)
    form = NoteForm(request.POST, auto_id="note_%s")

    def work(data: dict) -> None:
        services.add_note(ticket, data["body"], user=request.user, version=data["version"])

    return _act(request, ticket, "note", form, work, _("Note added."))


@require_POST
@role_required(Action.EDIT)
def ticket_update(request: HttpRequest, public_id) -> HttpResponse:
    ticket = _ticket(request, public_id, Action.EDIT)
    form = TicketUpdateForm(request.POST, auto_id="update_%s")

    def work(data: dict) -> None:
        username = data["assignee"]
        assignee = services.assignable_users().filter(username=username).first() if username else None
        services.update_ticket(
            ticket,
            user=request.user,
            version=data["version"],
            status=data["status"],
            priority=data["priority"],
            assignee=assignee,
            tags=data["tags"],
        )

    return _act(request, ticket, "update", form, work, _("Ticket saved."))


@require_POST
@role_required(Action.EDIT)
def ticket_link(request: HttpRequest, public_id) -> HttpResponse:
    ticket = _ticket(request, public_id, Action.EDIT)
    form = LinkForm(request.POST, ticket=ticket, auto_id="link_%s")

    def work(data: dict) -> None:
        deal = get_for(request.user, Deal, data["deal"]) if data["deal"] else None
        order = get_for(request.user, Order, data["order"]) if data["order"] else None
        services.link(ticket, user=request.user, version=data["version"], deal=deal, order=order)

    return _act(request, ticket, "link", form, work, _("Links saved."))


@require_POST
@role_required(Action.EDIT)
def ticket_merge(request: HttpRequest, public_id) -> HttpResponse:
    ticket = _ticket(request, public_id, Action.EDIT)
    form = MergeForm(request.POST, auto_id="merge_%s")
    target: list[Ticket] = []

    def work(data: dict) -> None:
        into = Ticket.objects.filter(number=data["into"]).first()
        if into is None:
            raise services.TicketError(_("There is no ticket #%(number)s.") % {"number": data["into"]})
        target.append(services.merge_tickets(ticket, into, user=request.user, version=data["version"]))

    response = _act(request, ticket, "merge", form, work, _("Tickets merged."))
    return redirect("support:ticket", target[0].uuid) if target else response


@role_required(Action.EDIT)
def ticket_create(request: HttpRequest) -> HttpResponse:
    contact = None
    contact_id = request.GET.get("contact") or request.POST.get("contact")
    if contact_id and _is_uuid(contact_id):
        contact = Contact.objects.filter(uuid=contact_id).first()
    if request.method == "POST":
        form = TicketForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.create_ticket(
                    contact=data["email"],
                    subject=data["subject"],
                    body=data["body"],
                    source=TicketSource.MANUAL,
                    user=request.user,
                    priority=data["priority"],
                )
            except services.TicketError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Ticket #%(number)s opened.") % {"number": ticket.number})
                return redirect("support:ticket", ticket.uuid)
        return render(
            request, "support/tickets/ticket_form.html", {"form": form, "contact": contact}, status=422
        )
    form = TicketForm(initial={"email": contact.email if contact else ""})
    return render(request, "support/tickets/ticket_form.html", {"form": form, "contact": contact})


# --- canned replies ---------------------------------------------------------------------------


@role_required(Action.VIEW)
def canned_list(request: HttpRequest) -> HttpResponse:
    form = CannedReplyForm()
    status = 200
    if request.method == "POST":
        if not can(request.user, Action.EDIT):
            raise PermissionDenied
        form = CannedReplyForm(request.POST)
        if form.is_valid() and _save_canned(request, form, None):
            return redirect("support:canned_list")
        status = 422
    replies = CannedReply.objects.order_by("title")
    return render(
        request, "support/tickets/canned_list.html", {"replies": replies, "form": form}, status=status
    )


def _save_canned(request: HttpRequest, form: CannedReplyForm, canned: CannedReply | None) -> bool:
    try:
        services.save_canned_reply(
            canned, title=form.cleaned_data["title"], body=form.cleaned_data["body"], user=request.user
        )
    except (IntegrityError, services.TicketError) as error:
        form.add_error("title" if isinstance(error, IntegrityError) else None, str(error))
        return False
    messages.success(request, _("Canned reply saved."))
    return True


@role_required(Action.EDIT)
def canned_edit(request: HttpRequest, public_id) -> HttpResponse:
    canned = get_for(request.user, CannedReply, public_id, Action.EDIT)
    form = CannedReplyForm(instance=canned)
    if request.method == "POST":
        form = CannedReplyForm(request.POST, instance=CannedReply.objects.get(pk=canned.pk))
        if form.is_valid() and _save_canned(request, form, canned):
            return redirect("support:canned_list")
        return render(
            request, "support/tickets/canned_form.html", {"form": form, "canned": canned}, status=422
        )
    return render(request, "support/tickets/canned_form.html", {"form": form, "canned": canned})


@require_POST
@role_required(Action.DELETE)
def canned_delete(request: HttpRequest, public_id) -> HttpResponse:
    canned = get_for(request.user, CannedReply, public_id, Action.DELETE)
    services.delete_canned_reply(canned, user=request.user)
    messages.success(request, _("Canned reply deleted."))
    return redirect("support:canned_list")


# --- the SLA policy ---------------------------------------------------------------------------


@role_required(Action.VIEW)
def sla_policy(request: HttpRequest) -> HttpResponse:
    """The default policy's hours, holidays and targets: everybody reads, the owner edits."""
    policy = services.default_policy()
    form = SlaPolicyForm(initial=SlaPolicyForm.initial_for(policy))
    status = 200
    if request.method == "POST":
        if not can(request.user, Action.ADMIN):
            raise PermissionDenied
        form = SlaPolicyForm(request.POST)
        if form.is_valid():
            try:
                services.save_policy(policy, user=request.user, **form.values())
            except services.TicketError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request, _("SLA policy saved. New tickets use it; open ones keep their deadlines.")
                )
                return redirect("support:sla_policy")
        status = 422
    context = {
        "policy": policy,
        "form": form,
        "read_only": not can(request.user, Action.ADMIN),
        "time_zone": business_settings().time_zone,
    }
    return render(request, "support/tickets/sla_policy.html", context, status=status)
