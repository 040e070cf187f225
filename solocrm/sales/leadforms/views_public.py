"""The public lead form: a stranger with no session fills it in on the hosted page or inside an
<iframe> on the owner's website.

No cookie is set or needed (so the embed works with third-party cookies blocked): instead of
Django's CSRF cookie, each page carries a signed token (solocrm.sales.leadforms) that must be
at least a few seconds and at most a day old. Every POST counts against a per-visitor rate
limit; a filled-in honeypot gets the normal thank-you page and nothing is stored. Whether the
e-mail address was known never shows: the answer is the same page with the same status."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from solocrm.lib.ratelimit import hashed_ip, hit
from solocrm.sales.leadforms import services as leadforms
from solocrm.sales.leadforms.forms import PublicLeadForm
from solocrm.sales.leadforms.models import LeadForm

MAX_BODY_BYTES = 128 * 1024  # every field at its limit, percent-encoded, fits easily
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
RATE_WINDOW = 3600

# Our pages load nothing but our own stylesheet and post only to themselves; the embed may be
# framed by any site (the owner's), the hosted page by none.
CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'"


@login_not_required
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def hosted_form(request: HttpRequest, public_id: str) -> HttpResponse:
    return _handle(request, public_id, embed=False)


@login_not_required
@csrf_exempt
@never_cache
@xframe_options_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def embedded_form(request: HttpRequest, public_id: str) -> HttpResponse:
    return _handle(request, public_id, embed=True)


def _handle(request: HttpRequest, public_id: str, *, embed: bool) -> HttpResponse:
    lead_form = leadforms.public_form(public_id)
    if lead_form is None:
        message = _("This form is not available.")
        return _page(request, "sales/public_form_message.html", {"message": message}, embed, status=404)
    if request.method == "POST":
        return _submit(request, lead_form, embed)
    token = leadforms.issue_form_token(lead_form, page_url=request.headers.get("Referer", ""))
    return _show(request, lead_form, PublicLeadForm(lead_form=lead_form, token=token), embed)


def _submit(request: HttpRequest, lead_form: LeadForm, embed: bool) -> HttpResponse:
    if not hit(
        f"leadform:{lead_form.uuid}", request, limit=settings.SOLOCRM_FORM_RATE_LIMIT, window=RATE_WINDOW
    ):
        message = _("You have sent this form several times in a short while. Please try again later.")
        return _page(request, "sales/public_form_message.html", {"message": message}, embed, status=429)
    refusal = _refuse_body(request)
    if refusal is not None:
        return _page(request, "sales/public_form_message.html", {"message": refusal[1]}, embed, refusal[0])
    form = PublicLeadForm(request.POST, lead_form=lead_form)
    if form.is_bot:
        return _thanks(request, lead_form, embed)
    try:
        token = leadforms.check_form_token(lead_form, request.POST.get("token", ""))
    except leadforms.FormTokenError:
        form.is_valid()  # the visitor's input comes back, with a note on top and a fresh token
        form.add_error(
            None, _("The form was sent too quickly or has expired. Please check it and send it again.")
        )
        return _show(request, lead_form, _with_new_token(form, lead_form, ""), embed, status=400)
    if form.is_valid() and form.consent and not leadforms.consent_text_unchanged(lead_form, token):
        form.add_error("consent", _("This text changed since the page was loaded. Please read it again."))
    if not form.is_valid():
        return _show(request, lead_form, _with_new_token(form, lead_form, token.page_url), embed, status=400)
    if not leadforms.spend_form_token(request.POST.get("token", "")):
        return _thanks(request, lead_form, embed)  # sent already: a double click stores it once
    if not hit(
        f"leadform-all:{lead_form.uuid}", None, limit=settings.SOLOCRM_FORM_HOURLY_CAP, window=RATE_WINDOW
    ):
        message = _("This form is receiving too many messages right now. Please try again in an hour.")
        return _page(request, "sales/public_form_message.html", {"message": message}, embed, status=429)
    leadforms.submit_lead_form(
        lead_form,
        form.answers(),
        consent=form.consent,
        page_url=token.page_url,
        ip_hash=hashed_ip(request),
        base_url=leadforms.public_base_url(request),
    )
    return _thanks(request, lead_form, embed)


def _refuse_body(request: HttpRequest) -> tuple[int, str] | None:
    """(status, message) for a body that is no form or is far too big, read before parsing."""
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = MAX_BODY_BYTES + 1
    if length > MAX_BODY_BYTES:
        return 413, _("That is more than this form accepts. Please shorten your message.")
    if request.content_type not in FORM_CONTENT_TYPES:
        return 415, _("Please send the form from its page.")
    return None


def _with_new_token(form: PublicLeadForm, lead_form: LeadForm, page_url: str) -> PublicLeadForm:
    """The same bound form, re-rendered with a fresh token in place of the one sent."""
    form.data = form.data.copy()
    form.data["token"] = leadforms.issue_form_token(lead_form, page_url=page_url)
    return form


def _show(request: HttpRequest, lead_form: LeadForm, form: PublicLeadForm, embed: bool, status: int = 200):
    context = {"lead_form": lead_form, "form": form}
    return _page(request, "sales/public_form.html", context, embed, status)


def _thanks(request: HttpRequest, lead_form: LeadForm, embed: bool) -> HttpResponse:
    return _page(request, "sales/public_form_thanks.html", {"lead_form": lead_form}, embed)


def _page(request: HttpRequest, template: str, context: dict, embed: bool, status: int = 200) -> HttpResponse:
    context = {**context, "embed": embed}
    response = render(request, template, context, status=status)
    ancestors = "*" if embed else "'none'"
    response["Content-Security-Policy"] = f"{CSP}; frame-ancestors {ancestors}"
    return response
