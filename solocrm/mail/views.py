"""The Mail pages: the conversations list, one conversation with its messages (sanitised HTML in
a sandboxed frame, remote images blocked until asked for), attachment downloads, and the link
from a timeline entry to its conversation. Everybody with a role reads them."""

from __future__ import annotations

import re

import nh3
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from pydantic import ValidationError

from solocrm.contacts.models import Contact
from solocrm.lib import email_links
from solocrm.lib.access import get_for, role_required
from solocrm.lib.roles import Action

from . import parsing, services, sync
from .filters import ThreadFilter
from .forms_accounts import ThreadFilterForm
from .models import MailAttachment, MailMessage, MailThread

THREADS_PER_PAGE = 30

# The frame's own policy: nothing is loaded but pictures inside the message (data:/cid:), and
# remote ones only once the reader asked; no script could run anyway (sandbox without scripts).
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data: cid:{remote}"
_FRAME = (
    '<!doctype html><html><head><meta charset="utf-8">'
    '<meta http-equiv="Content-Security-Policy" content="{csp}">'
    '<meta name="referrer" content="no-referrer"><base target="_blank">'
    "<style>body{{font:15px/1.5 system-ui,sans-serif;margin:8px;overflow-wrap:anywhere}}"
    "img{{max-width:100%;height:auto}}</style></head><body>{body}</body></html>"
)
_REMOTE = re.compile(r'\sdata-remote-src="([^"]*)"')


def _thread_filter(request: HttpRequest) -> ThreadFilter:
    try:
        return ThreadFilter.model_validate(request.GET.dict())
    except ValidationError:
        messages.warning(request, _("Some filters were not understood and are ignored."))
        return ThreadFilter()


@role_required(Action.VIEW)
def inbox(request: HttpRequest) -> HttpResponse:
    """Conversations, the latest first, each with its newest message."""
    thread_filter = _thread_filter(request)
    paginator = Paginator(thread_filter.apply(services.threads()), THREADS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    services.with_latest(page.object_list)
    accounts = list(services.accounts())
    contact = Contact.objects.filter(uuid=thread_filter.contact).first() if thread_filter.contact else None
    context = {
        "page": page,
        "filter_form": ThreadFilterForm(initial=request.GET.dict(), accounts=accounts),
        "filtered": any(request.GET.get(name) for name in ("q", "account", "direction", "contact")),
        "has_accounts": bool(accounts),
        "contact": contact,
    }
    return render(request, "mail/inbox.html", context)


def frame_document(message: MailMessage, *, remote_images: bool) -> str:
    """The HTML document of a message's frame (srcdoc): the stored, nh3-clean HTML, with remote
    images restored (and cleaned again) only when asked for."""
    body = message.html
    if remote_images and message.has_remote_images:
        body = nh3.clean(_REMOTE.sub(r' src="\1"', body), url_schemes=parsing.URL_SCHEMES)
    csp = _CSP.format(remote=" https: http:" if remote_images else "")
    return _FRAME.format(csp=csp, body=body)


def _compose_url(**query: str) -> str:
    """The compose page with ``query``; '' when e-mail cannot be sent from the CRM now."""
    return email_links.compose_url(**query)


@role_required(Action.VIEW)
def thread(request: HttpRequest, public_id) -> HttpResponse:
    conversation = get_for(request.user, MailThread.objects.select_related("contact"), public_id)
    show_images = request.GET.get("images", "")
    items = []
    for message in services.thread_messages(conversation):
        remote = show_images in {"all", str(message.uuid)}
        items.append(
            {
                "message": message,
                "frame": frame_document(message, remote_images=remote) if message.html else "",
                "images_shown": remote,
                "reply_url": _compose_url(reply_to=str(message.uuid)),
                "forward_url": _compose_url(forward=str(message.uuid)),
            }
        )
    if not items:
        raise Http404
    context = {"thread": conversation, "items": items}
    return render(request, "mail/thread.html", context)


@role_required(Action.VIEW)
def message(request: HttpRequest, public_id) -> HttpResponse:
    """A message's place in its conversation (timeline entries link here)."""
    found = get_for(request.user, MailMessage.objects.select_related("thread"), public_id)
    return redirect(reverse("mail:thread", args=[found.thread.uuid]) + f"#m-{found.uuid}")


@role_required(Action.VIEW)
def attachment(request: HttpRequest, public_id) -> HttpResponse:
    """An attachment, always as a download: never shown inline, never sniffed as another type."""
    found = get_for(request.user, MailAttachment, public_id)
    path = sync.attachment_path(found)
    if not path.is_file():
        raise Http404
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=found.filename or "attachment",
        content_type=found.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
