"""Global search: the results page (works without JavaScript) and the command palette's
fragment. Both ask lib.search, where every app registered its kinds of records."""

from __future__ import annotations

from itertools import groupby

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from solocrm.lib import search as global_search
from solocrm.lib.access import role_required
from solocrm.lib.business import business_settings
from solocrm.lib.roles import Action

PAGE_LIMIT = 20  # results of each kind on the page
PALETTE_LIMIT = 5  # and in the palette


def _grouped(results: list[global_search.SearchResult]) -> list[dict]:
    """Results by kind, the kind of the best result first (``results`` is best first)."""
    order: dict[str, int] = {}
    for i, item in enumerate(results):
        order.setdefault(item.kind, i)
    ordered = sorted(results, key=lambda item: order[item.kind])
    return [
        {"kind": kind, "label": items[0].kind_label, "items": items}
        for kind, items in ((k, list(g)) for k, g in groupby(ordered, key=lambda item: item.kind))
    ]


def _search(request: HttpRequest, limit: int):
    text = request.GET.get("q", "")[: global_search.MAX_QUERY]
    query, results = global_search.search(
        text, request.user, limit=limit, region=business_settings().phone_region
    )
    return text, query, results


@role_required(Action.VIEW)
def search_page(request: HttpRequest) -> HttpResponse:
    text, query, results = _search(request, PAGE_LIMIT)
    context = {"q": text, "searched": bool(query), "results": results, "groups": _grouped(results)}
    return render(request, "web/search.html", context)


@role_required(Action.VIEW)
def search_palette(request: HttpRequest) -> HttpResponse:
    """The palette's list of results (an HTML fragment: the templates escape what users typed)."""
    text, query, results = _search(request, PALETTE_LIMIT)
    context = {"q": text, "searched": bool(query), "groups": _grouped(results)}
    response = render(request, "web/_palette_results.html", context)
    response["Cache-Control"] = "private, no-store"
    return response
