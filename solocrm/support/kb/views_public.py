"""The public help centre under /help/: the home page (categories and search), a category,
an article (in the visitor's language, falling back to the other one) with "was this
helpful?", and search.

Strangers need no log-in and get no cookie. A draft, an unknown address and a help centre
closed on its settings page answer the same "not found" page. A GET never changes anything:
the vote is a POST carrying a signed token (so it needs the page first), counted once per
visitor and rate-limited. Pages load no script; the Content-Security-Policy says so."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from solocrm.lib.business import business_settings
from solocrm.lib.ratelimit import hashed_ip, hit

from . import services
from .choices import Language
from .markdown import plain_text
from .markdown import render as render_markdown
from .models import Article, HelpCenter, normalise_language

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' https:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
VOTE_RATE_LIMIT = 30  # votes per visitor per hour, over all articles
SEARCH_RATE_LIMIT = 300  # searches per visitor per hour
RATE_WINDOW = 3600
MAX_VOTE_BODY = 4096
SEARCH_RESULTS = 20
RELATED = 5
# Each language named in itself, as language switches do (not translated on purpose).
AUTONYMS = {Language.EN: "English", Language.ZH_HANS: "简体中文"}


def page_language(request: HttpRequest) -> str:
    """``?lang=`` when it names a language we write in, else the browser's (Accept-Language,
    or the language cookie), else English."""
    asked = normalise_language(request.GET.get("lang"))
    if asked:
        return asked
    return normalise_language(translation.get_language_from_request(request)) or Language.EN.value


def _page(
    request: HttpRequest, template: str, context: dict, language: str, *, indexable: bool, status: int = 200
) -> HttpResponse:
    """A public page in ``language``, with the robots rules, the CSP and the right Vary."""
    config = business_settings()
    context = {
        **context,
        "page_language": language,
        "language_links": _language_links(request, language),
        "business_name": config.business_name,
        "indexable": indexable,
        "query": context.get("query", ""),
    }
    with translation.override(language):
        response = render(request, template, context, status=status)
    response["Content-Security-Policy"] = CSP
    response["Content-Language"] = str(language)
    if not indexable:
        response["X-Robots-Tag"] = "noindex"
    # The language comes from the headers when ?lang= is absent: caches must keep them apart.
    patch_vary_headers(response, ["Accept-Language", "Cookie"])
    return response


def _language_links(request: HttpRequest, current: str) -> list[dict]:
    """This page in each language (the same address with ``?lang=``)."""
    links = []
    for code in Language.values:
        params = request.GET.copy()
        params.pop("thanks", None)
        params["lang"] = code
        links.append(
            {
                "code": code,
                "label": AUTONYMS[code],
                "url": f"{request.path}?{params.urlencode()}",
                "current": code == current,
            }
        )
    return links


def _not_found(request: HttpRequest, language: str | None = None) -> HttpResponse:
    language = language or page_language(request)
    with translation.override(language):
        message = _("This page does not exist. It may have moved: try the search.")
    return _page(
        request, "support/kb/public_message.html", {"message": message}, language, indexable=False, status=404
    )


def _center_or_none() -> HelpCenter | None:
    center = services.help_center()
    return center if center.public else None


@login_not_required
@require_http_methods(["GET", "HEAD"])
def home(request: HttpRequest) -> HttpResponse:
    center = _center_or_none()
    if center is None:
        return _not_found(request)
    language = page_language(request)
    context = {"sections": _sections(services.public_sections(language), language)}
    return _page(request, "support/kb/public_home.html", context, language, indexable=center.indexable)


def _sections(sections, language: str) -> list[dict]:
    return [
        {
            "category": category,
            "name": category.name_in(language) if category else _("Other articles"),
            "links": [_link(article, language) for article in articles],
        }
        for category, articles in sections
    ]


def _link(article: Article, language: str, version=None) -> dict:
    """What a list shows of an article: its title and address in ``language`` (or the other)."""
    version = version or article.translation_for(language)
    return {
        "title": version.title if version else article.slug,
        "url": article.get_absolute_url(version.language if version else None),
        "language": version.language if version else language,
        "foreign": version is not None and version.language != language,
        "excerpt": "",
    }


@login_not_required
@require_http_methods(["GET", "HEAD"])
def category(request: HttpRequest, slug: str) -> HttpResponse:
    center = _center_or_none()
    found = services.public_category(slug) if center else None
    if found is None:
        return _not_found(request)
    language = page_language(request)
    context = {
        "category": found,
        "name": found.name_in(language),
        "links": [_link(article, language) for article in services.category_articles(found)],
    }
    return _page(request, "support/kb/public_category.html", context, language, indexable=center.indexable)


@login_not_required
@require_http_methods(["GET", "HEAD"])
def search(request: HttpRequest) -> HttpResponse:
    center = _center_or_none()
    if center is None:
        return _not_found(request)
    language = page_language(request)
    query = (request.GET.get("q") or "").strip()[: services.MAX_QUERY].replace("\x00", "")
    if query and not hit("kb-search", request, limit=SEARCH_RATE_LIMIT, window=RATE_WINDOW):
        with translation.override(language):
            message = _("You have searched a lot in a short while. Please try again later.")
        return _page(
            request,
            "support/kb/public_message.html",
            {"message": message},
            language,
            indexable=False,
            status=429,
        )
    results = []
    for article in services.search_articles(query, limit=SEARCH_RESULTS) if query else []:
        link = _link(article, language, _preferred(article, language))
        link["excerpt"] = plain_text(article.translation_for(link["language"]).body)
        results.append(link)
    context = {"query": query, "results": results}
    # Result pages are never indexed: search engines should index the articles themselves.
    return _page(request, "support/kb/public_search.html", context, language, indexable=False)


def _preferred(article: Article, language: str):
    """The version to show a result in: the visitor's language when it matched too."""
    versions = article.versions()
    return versions.get(language) or article.found


@login_not_required
@require_http_methods(["GET", "HEAD"])
def article(request: HttpRequest, slug: str) -> HttpResponse:
    found = services.public_article(slug)
    if found is None:
        return _not_found(request)
    language = page_language(request)
    version = found.translation_for(language)
    if version is None:
        return _not_found(request, language)
    center = services.help_center()
    indexable = center.indexable and found.indexable
    base = services.public_base_url(request)
    context = {
        "article": found,
        "version": version,
        "body_html": mark_safe(render_markdown(version.body)),  # noqa: S308 - sanitised by nh3
        "missing_language": version.language != language,
        "category_name": found.category.name_in(language) if found.category else "",
        "alternates": [(code, base + found.get_absolute_url(code)) for code in sorted(found.versions())],
        "canonical": base + found.get_absolute_url(version.language),
        "vote_token": services.vote_token(found),
        "thanks": request.GET.get("thanks") == "1",
        "related": _related(found, language),
    }
    return _page(request, "support/kb/public_article.html", context, language, indexable=indexable)


def _related(article: Article, language: str) -> list[dict]:
    if article.category is None:
        return []
    others = [a for a in services.category_articles(article.category) if a.pk != article.pk]
    return [_link(other, language) for other in others[:RELATED]]


@login_not_required
@csrf_exempt  # no cookie is set on these pages; the signed token in the form stands in for it
@require_POST
def vote(request: HttpRequest, slug: str) -> HttpResponse:
    """Record "was this helpful?" and go back to the article, which thanks the visitor."""
    found = services.public_article(slug)
    language = page_language(request)  # the form's action carries the page's ?lang=
    if found is None:
        return _not_found(request, language)
    if not hit("kb-vote", request, limit=VOTE_RATE_LIMIT, window=RATE_WINDOW):
        return _refused(
            request, language, 429, gettext_lazy("You have answered many times in a short while.")
        )
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = MAX_VOTE_BODY + 1
    answer = request.POST.get("helpful") if length <= MAX_VOTE_BODY else None
    if answer not in ("yes", "no") or not services.check_vote_token(found, request.POST.get("token", "")):
        return _refused(
            request, language, 400, gettext_lazy("Your answer could not be read. Please reload the page.")
        )
    services.record_vote(found, hashed_ip(request), answer == "yes")
    url = found.get_absolute_url(language)
    separator = "&" if "?" in url else "?"
    return HttpResponseRedirect(f"{url}{separator}thanks=1#helpful", status=303)


def _refused(request: HttpRequest, language: str, status: int, message) -> HttpResponse:
    """A message page in the visitor's language (``message`` is lazy: translated here)."""
    with translation.override(language):
        text = str(message)
    return _page(
        request, "support/kb/public_message.html", {"message": text}, language, indexable=False, status=status
    )
