"""Files on deals and contacts: upload (from the _attachments.html partial on those pages),
download and delete. The checks (size, type by extension and content) and the storage live in
solocrm.sales.attachments."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from solocrm.contacts.models import Contact
from solocrm.lib.access import get_for
from solocrm.lib.roles import Action
from solocrm.sales.deals.models import Deal
from solocrm.sales.quotes import attachments
from solocrm.sales.quotes.forms import AttachmentForm
from solocrm.sales.quotes.models import Attachment
from solocrm.sales.quotes.views import deal_url

# Room for the multipart envelope and the other form fields around the file itself.
OWNER_MODELS = {"deal": Deal, "contact": Contact}


def owner_url(owner: Deal | Contact) -> str:
    """The page the attachment list is on."""
    if isinstance(owner, Contact):
        return reverse("contacts:detail", args=[owner.uuid])
    return deal_url(owner) or reverse("sales:quote_list")


def _owner(request: HttpRequest, kind: str, owner_id, action: str):
    model = OWNER_MODELS.get(kind)
    if model is None:
        raise Http404
    return get_for(request.user, model, owner_id, action)


# CSRF is checked by hand (csrf_protect below) once the size is known to be acceptable: the
# middleware would read the whole body to find the token before the size could be refused.
@csrf_exempt
@require_POST
def attachment_upload(request: HttpRequest, kind: str, owner_id) -> HttpResponse:
    owner = _owner(request, kind, owner_id, Action.EDIT)
    if attachments.declared_too_large(request):
        messages.error(request, attachments.too_large_message())
        return redirect(owner_url(owner))
    return _upload(request, owner)


@csrf_protect
def _upload(request: HttpRequest, owner: Deal | Contact) -> HttpResponse:
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file to attach."))
        return redirect(owner_url(owner))
    target = {"deal": owner} if isinstance(owner, Deal) else {"contact": owner}
    try:
        attachment = attachments.store_attachment(form.cleaned_data["file"], actor=request.user, **target)
    except attachments.AttachmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("“%(name)s” attached.") % {"name": attachment.original_name})
    return redirect(owner_url(owner))


def attachment_download(request: HttpRequest, public_id) -> HttpResponse:
    attachment = get_for(request.user, Attachment, public_id, Action.VIEW)
    return attachments.download_response(attachment)


def attachment_delete(request: HttpRequest, public_id) -> HttpResponse:
    """A confirmation page; the POST deletes the file (owners only)."""
    attachment = get_for(
        request.user, Attachment.objects.select_related("deal", "contact"), public_id, Action.DELETE
    )
    owner = attachment.deal or attachment.contact
    if request.method == "POST":
        name = attachment.original_name
        attachments.delete_attachment(attachment, actor=request.user)
        messages.success(request, _("“%(name)s” deleted.") % {"name": name})
        return redirect(owner_url(owner) if owner else "web:home")
    context = {"attachment": attachment, "back": owner_url(owner) if owner else reverse("web:home")}
    return render(request, "sales/attachment_confirm_delete.html", context)
