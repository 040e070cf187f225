"""Small helpers the views of every app share: safe "next" URLs and htmx responses."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request: HttpRequest, default: str, *args) -> str:
    """The "next" field of a form or query, if it points into this site; else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(default, *args)


def redirect_next(request: HttpRequest, default: str, *args) -> HttpResponseRedirect:
    return HttpResponseRedirect(next_url(request, default, *args))


def wants_partial(request: HttpRequest) -> bool:
    """An htmx request that swaps part of the page (a history restore needs the full page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and not htmx.boosted


def vary_on_htmx(response: HttpResponse) -> HttpResponse:
    # The same URL answers a full page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response
