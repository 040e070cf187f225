"""The help desk's pages for strangers (no log-in): the help form, the article suggestions it
shows as the visitor types, and the CSAT answer page.

As with lead forms (solocrm.sales.leadforms.views_public): no cookie is set or needed; the help
form carries a signed token instead of Django's CSRF cookie, the CSAT page is reached through a
signed link. Every POST counts against a per-visitor rate limit; a filled-in honeypot gets the
normal thank-you page and nothing is stored; the thank-you page is the same whether the e-mail
address was known or not. A GET never changes anything: mail scanners follow the CSAT links, so
the link only opens a page with its score preselected, and the page's button records it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from solocrm.lib.ratelimit import hit

from . import services
from .forms import CsatForm, HelpForm

MAX_BODY_BYTES = 64 * 1024
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
RATE_WINDOW = 3600
SUGGEST_LIMIT = 240  # suggestion look-ups per visitor and hour (one per pause in typing)
CSAT_LIMIT = 30  # CSAT answers per visitor and hour
CSAT_VIEW_LIMIT = 300  # CSAT pages opened per visitor and hour (a mail scanner opens five at once)
MIN_SUGGEST_CHARS = 3

# Our own scripts (htmx) and stylesheet only; requests only to ourselves; never framed.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    response["Content-Security-Policy"] = CSP
    return response


def _message(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return _page(request, "support/helpdesk/public_message.html", {"message": message}, status)


def _refuse_body(request: HttpRequest) -> HttpResponse | None:
    """A page for a body that is no form or is far too big, decided before parsing it."""
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = MAX_BODY_BYTES + 1
    if length > MAX_BODY_BYTES:
        return _message(request, _("That is more than this form accepts. Please shorten your message."), 413)
    if request.content_type not in FORM_CONTENT_TYPES:
        return _message(request, _("Please send the form from its page."), 415)
    return None


# --- the help form ------------------------------------------------------------------------------


@login_not_required
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def ask(request: HttpRequest) -> HttpResponse:
    if not services.help_form_enabled():
        return _message(request, _("This form is not available."), 404)
    if request.method == "POST":
        return _submit(request)
    return _show(request, HelpForm(initial={"token": services.issue_form_token()}))


def _submit(request: HttpRequest) -> HttpResponse:
    if not hit("helpform", request, limit=settings.SOLOCRM_FORM_RATE_LIMIT, window=RATE_WINDOW):
        message = _("You have sent this form several times in a short while. Please try again later.")
        return _message(request, message, 429)
    if (refusal := _refuse_body(request)) is not None:
        return refusal
    form = HelpForm(request.POST)
    if form.is_bot:
        return _thanks(request)
    try:
        services.check_form_token(request.POST.get("token", ""))
    except services.FormTokenError:
        form.is_valid()  # the visitor's input comes back, with a note on top and a fresh token
        note = _("The form was sent too quickly or has expired. Please check it and send it again.")
        form.add_error(None, note)
        return _show(request, _with_new_token(form), status=400)
    if not form.is_valid():
        return _show(request, _with_new_token(form), status=400)
    if not services.spend_form_token(request.POST.get("token", "")):
        return _thanks(request)  # sent already: a double click stores it once
    if not hit("helpform-all", None, limit=settings.SOLOCRM_FORM_HOURLY_CAP, window=RATE_WINDOW):
        message = _("This form is receiving too many messages right now. Please try again in an hour.")
        return _message(request, message, 429)
    services.submit_help_request(form.help_request())
    return _thanks(request)


def _with_new_token(form: HelpForm) -> HelpForm:
    form.data = form.data.copy()
    form.data["token"] = services.issue_form_token()
    return form


def _show(request: HttpRequest, form: HelpForm, status: int = 200) -> HttpResponse:
    return _page(request, "support/helpdesk/ask.html", {"form": form}, status)


def _thanks(request: HttpRequest) -> HttpResponse:
    return _page(request, "support/helpdesk/ask_thanks.html", {})


@login_not_required
@never_cache
@require_GET
def suggestions(request: HttpRequest) -> HttpResponse:
    """A short list of published articles matching what the visitor typed (htmx fragment)."""
    if not services.help_form_enabled():
        return _message(request, _("This form is not available."), 404)
    if not hit("helpform-suggest", request, limit=SUGGEST_LIMIT, window=RATE_WINDOW):
        return _page(request, "support/helpdesk/_suggestions.html", {"articles": []}, 429)
    query = " ".join(f"{request.GET.get('subject', '')} {request.GET.get('q', '')}".split())[:200]
    articles = services.suggested_articles(query, get_language()) if len(query) >= MIN_SUGGEST_CHARS else []
    return _page(request, "support/helpdesk/_suggestions.html", {"articles": articles})


# --- the CSAT answer page -----------------------------------------------------------------------


@login_not_required
@csrf_exempt  # the signed link is the credential; strangers have no session or CSRF cookie
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def csat(request: HttpRequest, token: str) -> HttpResponse:
    if not hit("helpdesk-csat-view", request, limit=CSAT_VIEW_LIMIT, window=RATE_WINDOW):
        message = _("This page was opened too often in a short while. Please try again later.")
        return _message(request, message, 429)
    if request.method == "POST":
        if not hit("helpdesk-csat", request, limit=CSAT_LIMIT, window=RATE_WINDOW):
            return _message(request, _("Too many answers in a short while. Please try again later."), 429)
        if (refusal := _refuse_body(request)) is not None:
            return refusal
    try:
        link = services.read_csat_token(token)
    except services.CsatTokenError:
        message = _("This link is not valid. Please use the link from our e-mail as it is.")
        return _message(request, message, 404)
    answer = services.answer_of(link.ticket)
    if request.method != "POST":
        form = CsatForm(initial={"score": link.score, "comment": answer.comment if answer else ""})
        return _csat_page(request, token, link, form, answer)
    form = CsatForm(request.POST)
    if not form.is_valid():
        return _csat_page(request, token, link, form, answer, status=400)
    answer = services.record_csat(link.ticket, form.cleaned_data["score"], form.cleaned_data["comment"])
    return _page(request, "support/helpdesk/csat_thanks.html", {"answer": answer, "token": token})


def _csat_page(request, token, link, form, answer, status: int = 200) -> HttpResponse:
    context = {"form": form, "token": token, "ticket": link.ticket, "answer": answer}
    return _page(request, "support/helpdesk/csat.html", context, status)
