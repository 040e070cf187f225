"""The customer's side of a quote: /q/<token>/ shows it and lets them accept or decline.

No log-in: the signed token in the link is the key (see solocrm.sales.quotes.accept_token). A
bad, expired or used link gets a page that says so (400, 410 or 409) and changes nothing; a bad
link reveals nothing about any quote. Rate-limited per visitor. The page is on our own site,
so Django's CSRF protection works as everywhere else."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from solocrm.lib import ratelimit
from solocrm.lib.business import business_settings
from solocrm.sales.quotes import services as quotes
from solocrm.sales.quotes.forms import AcceptQuoteForm, DeclineQuoteForm
from solocrm.sales.quotes.models import Quote

# Generous for a person reading and deciding, tight for somebody guessing tokens.
VIEWS_PER_HOUR = 60
DECISIONS_PER_HOUR = 10


def _refused(request: HttpRequest, error: quotes.LinkError) -> HttpResponse:
    # The quote is shown only when the link was genuine (an expired or closed one).
    context = {"message": error.message, "quote": error.quote if error.status != 400 else None}
    return render(request, "sales/public_quote_refused.html", context, status=error.status)


def _page(request: HttpRequest, quote: Quote, status: int = 200, **forms) -> HttpResponse:
    context = {
        "quote": quote,
        "business": quotes.business_name(),
        "accept_form": forms.get("accept_form") or AcceptQuoteForm(),
        "decline_form": forms.get("decline_form") or DeclineQuoteForm(),
        "business_address": business_settings().business_address,
    }
    return render(request, "sales/public_quote.html", context, status=status)


def _too_many(request: HttpRequest) -> HttpResponse:
    context = {"message": _("Too many requests from your network. Please wait a while and try again.")}
    return render(request, "sales/public_quote_refused.html", context, status=429)


@login_not_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def show(request: HttpRequest, token: str) -> HttpResponse:
    if not ratelimit.hit("quote-view", request, limit=VIEWS_PER_HOUR):
        return _too_many(request)
    if request.method == "POST":
        return _decide(request, token)
    try:
        quote = quotes.quote_for_token(token)
    except quotes.LinkError as error:
        return _refused(request, error)
    return _page(request, quote)


def _decide(request: HttpRequest, token: str) -> HttpResponse:
    if not ratelimit.hit("quote-decide", request, limit=DECISIONS_PER_HOUR):
        return _too_many(request)
    try:
        quote = quotes.quote_for_token(token)
    except quotes.LinkError as error:
        return _refused(request, error)
    decision = request.POST.get("decision")
    if decision == "accept":
        form = AcceptQuoteForm(request.POST)
        if not form.is_valid():
            return _page(request, quote, 400, accept_form=form)
        action, args = quotes.accept_quote, (token, form.cleaned_data["name"])
    elif decision == "decline":
        form = DeclineQuoteForm(request.POST)
        if not form.is_valid():
            return _page(request, quote, 400, decline_form=form)
        action, args = quotes.decline_quote, (token, form.cleaned_data["reason"])
    else:
        return _page(request, quote, 400)
    try:
        action(*args)
    except quotes.LinkError as error:
        return _refused(request, error)
    except quotes.QuoteError as error:
        form.add_error(None, str(error))
        return _page(request, quote, 400, **{f"{decision}_form": form})
    # Post/redirect/get: a reload shows the decision instead of posting it again.
    return redirect("public_quotes:show", token)
