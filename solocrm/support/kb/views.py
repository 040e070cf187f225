"""The knowledge base's staff pages (log-in; owner and assistant edit, a viewer reads): the
articles list, an article with both language versions, the editor with its live preview, the
categories and the help centre's switches, and the reply composer's article links.

Views only route: roles are checked through solocrm.lib.access, the work is in
solocrm.support.kb.services (through the forms)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from pydantic import ValidationError

from solocrm.lib.access import get_for, require, role_required
from solocrm.lib.http import vary_on_htmx, wants_partial
from solocrm.lib.roles import Action

from . import services
from .choices import Language
from .filters import ArticleFilter
from .forms import SUFFIXES, ArticleFilterForm, ArticleForm, CategoryForm, HelpCenterForm
from .markdown import render as render_markdown
from .models import Article, Category

ARTICLES_PER_PAGE = 50
LINKS = 8
FILTERS = ("q", "category", "status", "language", "ordering")


def _article_filter(request: HttpRequest) -> ArticleFilter:
    try:
        return ArticleFilter.model_validate({key: request.GET.get(key, "") for key in FILTERS})
    except ValidationError:
        messages.warning(request, _("Some filters were not understood and are ignored."))
        return ArticleFilter()


@role_required(Action.VIEW)
def article_list(request: HttpRequest) -> HttpResponse:
    article_filter = _article_filter(request)
    categories = list(services.categories())
    context = {
        "page": Paginator(services.staff_articles(article_filter), ARTICLES_PER_PAGE).get_page(
            request.GET.get("page")
        ),
        "filter_form": ArticleFilterForm(initial=request.GET.dict(), categories=categories),
        "filtered": any(request.GET.get(name) for name in FILTERS[:4]),
        "languages": Language.choices,
    }
    template = (
        "support/kb/_article_results.html" if wants_partial(request) else "support/kb/article_list.html"
    )
    return vary_on_htmx(render(request, template, context))


@role_required(Action.VIEW)
def article_detail(request: HttpRequest, public_id) -> HttpResponse:
    article = get_for(request.user, services.with_versions(Article.objects.all()), public_id)
    versions = article.versions()
    context = {
        "article": article,
        "versions": [
            (code, label, versions.get(code), _html(versions[code].body) if code in versions else "")
            for code, label in Language.choices
        ],
        "public_url": services.public_url(article, request) if article.is_published else "",
        "help_center": services.help_center(),
    }
    return render(request, "support/kb/article_detail.html", context)


def _html(markdown: str) -> str:
    return mark_safe(render_markdown(markdown))  # noqa: S308 - sanitised by nh3


@role_required(Action.EDIT)
def article_create(request: HttpRequest) -> HttpResponse:
    return _article_form(request, None)


def article_edit(request: HttpRequest, public_id) -> HttpResponse:
    article = get_for(request.user, services.with_versions(Article.objects.all()), public_id, Action.EDIT)
    return _article_form(request, article)


def _article_form(request: HttpRequest, article: Article | None) -> HttpResponse:
    form = ArticleForm(request.POST or None, instance=article)
    if request.method == "POST" and form.is_valid():
        try:
            saved = form.save(actor=request.user)
        except services.ArticleError:
            pass  # the form carries the message
        else:
            messages.success(request, _("Article “%(title)s” saved.") % {"title": saved.title or saved.slug})
            return redirect("kb:detail", saved.uuid)
    context = {
        "form": form,
        "article": article,
        "versions": [
            (code, label, form[f"title_{SUFFIXES[code]}"], form[f"body_{SUFFIXES[code]}"], SUFFIXES[code])
            for code, label in Language.choices
        ],
    }
    return render(request, "support/kb/article_form.html", context)


def article_delete(request: HttpRequest, public_id) -> HttpResponse:
    """A confirmation page; the POST deletes the article and its votes (owners only)."""
    article = get_for(request.user, services.with_versions(Article.objects.all()), public_id, Action.DELETE)
    if request.method == "POST":
        title = article.title or article.slug
        services.delete_article(article, actor=request.user)
        messages.success(request, _("Article “%(title)s” deleted.") % {"title": title})
        return redirect("kb:list")
    return render(request, "support/kb/article_confirm_delete.html", {"article": article})


@role_required(Action.EDIT)
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The editor's live preview: the Markdown of the text area of ``?language=``, as the page
    will show it (sanitised). htmx posts the whole form, so the language names the one."""
    suffix = SUFFIXES.get(request.GET.get("language", ""), "")
    text = request.POST.get(f"body_{suffix}", "") if suffix else ""
    return render(request, "support/kb/_preview.html", {"html": _html(text[: services.MAX_PREVIEW])})


# --- categories and the help centre's switches ----------------------------------------------------


@role_required(Action.VIEW)
def category_list(request: HttpRequest) -> HttpResponse:
    form = CategoryForm(request.POST or None)
    if request.method == "POST":
        require(request.user, Action.EDIT)
        if form.is_valid():
            try:
                category = form.save(actor=request.user)
            except services.ArticleError:
                pass
            else:
                messages.success(request, _("Category “%(name)s” added.") % {"name": category})
                return redirect("kb:categories")
    context = {
        "categories": services.categories_with_counts(),
        "form": form,
        "center_form": HelpCenterForm(instance=services.help_center()),
    }
    return render(request, "support/kb/category_list.html", context)


def category_edit(request: HttpRequest, public_id) -> HttpResponse:
    category = get_for(request.user, Category, public_id, Action.EDIT)
    form = CategoryForm(request.POST or None, instance=category)
    if request.method == "POST" and form.is_valid():
        try:
            form.save(actor=request.user)
        except services.ArticleError:
            pass
        else:
            messages.success(request, _("Category “%(name)s” saved.") % {"name": category})
            return redirect("kb:categories")
    return render(request, "support/kb/category_form.html", {"form": form, "category": category})


def category_delete(request: HttpRequest, public_id) -> HttpResponse:
    """A confirmation page; the POST deletes the category, its articles stay (owners only)."""
    category = get_for(request.user, Category, public_id, Action.DELETE)
    if request.method == "POST":
        services.delete_category(category, actor=request.user)
        messages.success(request, _("Category “%(name)s” deleted.") % {"name": category})
        return redirect("kb:categories")
    context = {"category": category, "article_count": category.articles.count()}
    return render(request, "support/kb/category_confirm_delete.html", context)


@role_required(Action.EDIT)
@require_POST
def help_center_settings(request: HttpRequest) -> HttpResponse:
    form = HelpCenterForm(request.POST, instance=services.help_center())
    if form.is_valid():
        form.save(actor=request.user)
        messages.success(request, _("Help centre settings saved."))
    return redirect("kb:categories")


# --- the reply composer's links -------------------------------------------------------------------


@role_required(Action.VIEW)
@require_GET
def links(request: HttpRequest) -> HttpResponse:
    """Published articles matching ``q`` as Markdown links, each a button that inserts
    ``[title](address)`` into the text area named by ``target`` (support/kb/insert-link.js);
    without JavaScript the link is shown to copy. An HTML fragment, for htmx."""
    query = (request.GET.get("q") or "")[: services.MAX_QUERY]
    found = services.search_articles(query, language=request.GET.get("lang") or None, limit=LINKS)
    items = [
        {
            "title": article.found.title,
            "language": article.found.language,
            "markdown": services.markdown_link(article, request),
        }
        for article in found
    ]
    context = {"items": items, "query": query.strip(), "target": _target(request.GET.get("target", ""))}
    return vary_on_htmx(render(request, "support/kb/_links.html", context))


def _target(value: str) -> str:
    """An element id for the insert script (anything else is dropped)."""
    return value if value.replace("-", "").replace("_", "").isalnum() and len(value) <= 100 else ""
