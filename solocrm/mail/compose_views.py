"""Writing e-mail in the CRM: the compose page (opened from a contact, company, deal, Today
item, or as a reply / forward), its preview, the messages written here (scheduled, failed,
sent), the templates and the user's signature. Views only route: the role is checked through
solocrm.lib.access and the work is done by mail/outgoing.py and mail/templating.py."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from solocrm.contacts.models import Company, Contact
from solocrm.lib.access import get_for, require, role_required
from solocrm.lib.business import outbox_message
from solocrm.lib.http import next_url, wants_partial
from solocrm.lib.roles import Action
from solocrm.sales.deals.models import Deal
from solocrm.sales.quotes.attachments import ENVELOPE_BYTES, too_large_message

from . import outgoing, templating
from .forms import MAX_FILES, ComposeForm, MailTemplateForm, SignatureForm
from .models import MailMessage, MailTemplate, SendStatus

PER_PAGE = 50


# --- compose -----------------------------------------------------------------------------------


def _messages():
    return MailMessage.objects.select_related("contact", "contact__company", "thread", "deal")


def _start(request: HttpRequest) -> dict[str, Any]:
    """What the page starts from, read from ?contact= ?deal= ?company= ?reply_to= ?forward=
    ?template= (each looked up through the access helper; an unknown id is a 404)."""
    get = request.GET
    start: dict[str, Any] = {
        "contact": None,
        "deal": None,
        "company": None,
        "reply_to": None,
        "forward": None,
    }
    initial: dict[str, Any] = {"when": "now", "include_attachments": True}
    if key := get.get("reply_to"):
        parent = start["reply_to"] = get_for(request.user, _messages(), key, Action.EDIT)
        start["contact"], start["deal"] = parent.contact, parent.deal
        initial.update(outgoing.reply_defaults(parent), reply_to=parent.uuid)
    if key := get.get("forward"):
        original = start["forward"] = get_for(request.user, _messages(), key, Action.EDIT)
        start["deal"] = original.deal
        initial.update(outgoing.forward_defaults(original), forward=original.uuid)
    if key := get.get("deal"):
        deal = start["deal"] = get_for(request.user, Deal.objects.select_related("contact"), key, Action.EDIT)
        start["contact"] = start["contact"] or deal.contact
    if key := get.get("contact"):
        start["contact"] = get_for(request.user, Contact.objects.select_related("company"), key, Action.EDIT)
    if key := get.get("company"):
        start["company"] = get_for(request.user, Company, key, Action.EDIT)
    if start["deal"] is not None:
        initial["deal"] = start["deal"].uuid
    if key := get.get("template"):
        template = get_for(request.user, MailTemplate, key, Action.EDIT)
        initial.update(subject=template.subject, body=template.body)
        start["template"] = template
    if start["contact"] is not None:
        initial["to"] = start["contact"].email
    initial["next"] = get.get("next", "")
    start["initial"] = initial
    return start


def _recipients_of(company: Company | None) -> list[Contact]:
    if company is None:
        return []
    return list(company.contacts.exclude(email="").order_by("last_name", "first_name", "id")[:50])


def _back_url(request: HttpRequest, start: dict[str, Any]) -> str:
    """Where Cancel and a sent message lead: the page the writer came from."""
    if start.get("deal") is not None:
        default = reverse("sales:deal_detail", args=[start["deal"].uuid])
    elif start.get("contact") is not None:
        default = reverse("contacts:detail", args=[start["contact"].uuid])
    elif start.get("company") is not None:
        default = reverse("contacts:company_detail", args=[start["company"].uuid])
    else:
        default = reverse("mail_compose:sent")
    return next_url(request, default)


def _context(request: HttpRequest, form: ComposeForm, start: dict[str, Any], **extra) -> dict[str, Any]:
    query = {
        k: request.GET[k]
        for k in ("contact", "deal", "company", "reply_to", "forward", "next")
        if k in request.GET
    }
    return {
        "form": form,
        "start": start,
        "company_contacts": _recipients_of(start.get("company")),
        "templates": list(templating.templates().only("uuid", "name")),
        "template_query": query,
        "fields": templating.FIELDS,
        "back_url": _back_url(request, start),
        "can_compose": outgoing.can_compose(),
        "max_files": MAX_FILES,
        "attachment_limit": settings.SOLOCRM_MAX_ATTACHMENT_BYTES,
        **extra,
    }


def _too_large(request: HttpRequest) -> bool:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return declared > MAX_FILES * settings.SOLOCRM_MAX_ATTACHMENT_BYTES + ENVELOPE_BYTES


# CSRF is checked by hand (csrf_protect below) once the size is known to be acceptable: the
# middleware would read the whole upload to find the token before it could be refused.
@csrf_exempt
def compose(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.EDIT)
    start = _start(request)
    if request.method == "POST" and _too_large(request):
        messages.error(request, too_large_message())
        return redirect(request.get_full_path())
    return _compose(request, start)


@csrf_protect
def _compose(request: HttpRequest, start: dict[str, Any]) -> HttpResponse:
    if request.method != "POST":
        form = ComposeForm(initial=start["initial"])
        return render(request, "mail/compose.html", _context(request, form, start))
    form = ComposeForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "mail/compose.html", _context(request, form, start), status=422)
    if request.POST.get("action") == "preview":
        return _preview(request, form, start)
    try:
        message = _send(request, form, start)
    except ValidationError as error:
        form.add_error(None, error)
        return render(request, "mail/compose.html", _context(request, form, start), status=422)
    except outgoing.SendError as error:
        form.add_error(None, _("The e-mail was not sent: %(error)s") % {"error": error})
        failed = error.message
        return render(request, "mail/compose.html", _context(request, form, start, failed=failed), status=502)
    messages.success(request, _sent_text(message))
    return redirect(_back_url(request, start))


def _send(request: HttpRequest, form: ComposeForm, start: dict[str, Any]) -> MailMessage:
    data = form.cleaned_data
    contact = outgoing.find_recipient(data["to"])
    files: list = list(data.get("attachments") or [])
    if start.get("forward") is not None and data.get("include_attachments"):
        files = [*start["forward"].attachments.all(), *files]
    return outgoing.send_mail(
        to=contact,
        subject=data["subject"],
        body=data["body"],
        user=request.user,
        reply_to=start.get("reply_to"),
        cc=data["cc"],
        attachments=files,
        send_at=data["send_at"] if data["when"] == "later" else None,
        deal=start.get("deal"),
    )


def _sent_text(message: MailMessage) -> str:
    to = ", ".join(message.to_addresses)
    if message.status == SendStatus.SCHEDULED:
        when = formats.date_format(timezone.localtime(message.send_at), "DATETIME_FORMAT")
        return _("E-mail to %(to)s scheduled for %(when)s.") % {"to": to, "when": when}
    if message.status == SendStatus.OUTBOX:
        return outbox_message(_("E-mail to %(to)s"), to=to)
    return _("E-mail sent to %(to)s.") % {"to": to}


def _preview(request: HttpRequest, form: ComposeForm, start: dict[str, Any]) -> HttpResponse:
    data = form.cleaned_data
    context: dict[str, Any] = {}
    try:
        contact = outgoing.find_recipient(data["to"])
        result = outgoing.preview(to=contact, subject=data["subject"], body=data["body"], user=request.user)
    except ValidationError as error:
        context["preview_error"] = " ".join(error.messages)
    else:
        # markdown_html is Markdown with raw HTML off, cleaned by nh3: safe to show as it is
        context["preview"] = {**result, "html": mark_safe(result["html"])}  # noqa: S308
    if wants_partial(request):
        return render(request, "mail/compose_preview.html", context)
    return render(request, "mail/compose.html", _context(request, form, start, **context))


@role_required(Action.EDIT)
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The preview panel (htmx): the merged subject and the HTML as it will be sent."""
    form = ComposeForm(request.POST)
    if not form.is_valid():
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        return render(request, "mail/compose_preview.html", {"preview_error": " ".join(errors)})
    request.GET = request.GET.copy()  # the preview knows nothing of the page's start
    return _preview(request, form, {"initial": {}})


# --- messages written here ---------------------------------------------------------------------


@role_required(Action.VIEW)
def sent(request: HttpRequest) -> HttpResponse:
    """E-mail written in the CRM: scheduled, failed and sent, newest first."""
    status = request.GET.get("status", "")
    rows = outgoing.written_here()
    if status in SendStatus.values:
        rows = rows.filter(status=status)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request, "mail/compose_sent.html", {"page": page, "status": status, "statuses": SendStatus.choices}
    )


@require_POST
def cancel(request: HttpRequest, public_id) -> HttpResponse:
    message = get_for(request.user, MailMessage, public_id, Action.EDIT)
    try:
        outgoing.cancel(message)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("The scheduled e-mail “%(subject)s” was cancelled.") % {"subject": message}
        )
    return redirect(next_url(request, "mail_compose:sent"))


@require_POST
def send_again(request: HttpRequest, public_id) -> HttpResponse:
    message = get_for(request.user, MailMessage, public_id, Action.EDIT)
    try:
        outgoing.send_again(message, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        message.refresh_from_db()
        if message.status == SendStatus.FAILED:
            messages.error(request, _("The e-mail was not sent: %(error)s") % {"error": message.send_error})
        else:
            messages.success(
                request,
                _("“%(subject)s”: %(status)s.")
                % {"subject": message, "status": message.get_status_display()},
            )
    return redirect(next_url(request, "mail_compose:sent"))


# --- templates ---------------------------------------------------------------------------------


@role_required(Action.EDIT)
def template_list(request: HttpRequest) -> HttpResponse:
    return render(request, "mail/templates_list.html", {"templates": templating.templates()})


@role_required(Action.EDIT)
def template_create(request: HttpRequest) -> HttpResponse:
    return _template_form(request, None)


def template_edit(request: HttpRequest, public_id) -> HttpResponse:
    return _template_form(request, get_for(request.user, MailTemplate, public_id, Action.EDIT))


def _template_form(request: HttpRequest, template: MailTemplate | None) -> HttpResponse:
    form = MailTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        saved = templating.save_template(form.instance, actor=request.user)
        messages.success(request, _("Template “%(name)s” saved.") % {"name": saved.name})
        return redirect("mail_compose:templates")
    context = {"form": form, "template": template, "fields": templating.FIELDS}
    return render(request, "mail/templates_form.html", context, status=422 if form.errors else 200)


def template_delete(request: HttpRequest, public_id) -> HttpResponse:
    template = get_for(request.user, MailTemplate, public_id, Action.EDIT)
    if request.method == "POST":
        templating.delete_template(template, actor=request.user)
        messages.success(request, _("Template “%(name)s” deleted.") % {"name": template.name})
        return redirect("mail_compose:templates")
    return render(request, "mail/templates_confirm_delete.html", {"template": template})


# --- signature ---------------------------------------------------------------------------------


@role_required(Action.EDIT)
def signature(request: HttpRequest) -> HttpResponse:
    """The signing user's own signature (each user has one)."""
    form = SignatureForm(request.POST or None, initial={"body": outgoing.signature_of(request.user)})
    if request.method == "POST" and form.is_valid():
        outgoing.save_signature(request.user, form.cleaned_data["body"])
        messages.success(request, _("Your signature was saved."))
        return redirect("mail_compose:signature")
    context = {"form": form, "fields": templating.FIELDS}
    return render(request, "mail/signature.html", context, status=422 if form.errors else 200)
