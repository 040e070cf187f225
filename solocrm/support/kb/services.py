"""The knowledge base's work: writing articles and categories (with the audit log), finding
published articles (the help centre, the help form's suggestions, the reply composer's links),
and the votes of "was this helpful?".

Views (staff and public), the API and the other parts of support call these functions.

**The interface other parts use** (keep it stable): ``search_articles(query, language, limit)``
→ published articles, best first, each with ``.found`` (the language version that matched),
and ``Article.get_absolute_url(language=None)``, the public page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.text import slugify
from django.utils.translation import gettext as _

from solocrm.contacts.services import apply_changes
from solocrm.lib.search import MAX_TERMS, SearchQuery, Term, fold, rank
from solocrm.lib.search_index import index_match
from solocrm.users.models import AuditLog

from .choices import ArticleStatus, Language
from .models import Article, ArticleTranslation, ArticleVote, Category, HelpCenter, normalise_language

SLUG = re.compile(r"[-a-zA-Z0-9_]+")
MIN_INDEXED = 3  # the trigram index looks up three characters or more
CANDIDATES = 50  # language versions read to pick the best few: a help centre is small
MAX_QUERY = 200
MAX_PREVIEW = 100_000
VOTE_TOKEN_SALT = "solocrm.support.kb.vote"  # noqa: S105 - a salt, not a secret
VOTE_TOKEN_MAX_AGE = 24 * 3600

# --- reading ------------------------------------------------------------------------------------


def help_center() -> HelpCenter:
    return HelpCenter.current()


def with_versions(articles: QuerySet[Article]) -> QuerySet[Article]:
    """Articles with their category and language versions (three queries for any number)."""
    return articles.select_related("category").prefetch_related("translations")


def published_articles() -> QuerySet[Article]:
    return with_versions(Article.objects.filter(status=ArticleStatus.PUBLISHED))


def _slug_or_none(slug: str, max_length: int) -> str | None:
    """``slug`` when it could be one (what the URL brought may hold anything, NUL included)."""
    slug = str(slug)
    return slug if len(slug) <= max_length and SLUG.fullmatch(slug) else None


def public_article(slug: str) -> Article | None:
    """The published article at ``slug`` when the help centre is open, else None (a draft,
    an unknown or malformed slug and a closed help centre look alike)."""
    slug = _slug_or_none(slug, 120)
    if slug is None or not help_center().public:
        return None
    return published_articles().filter(slug=slug).first()


def public_category(slug: str) -> Category | None:
    slug = _slug_or_none(slug, 100)
    if slug is None or not help_center().public:
        return None
    return Category.objects.filter(slug=slug).first()


def categories() -> QuerySet[Category]:
    return Category.objects.all()


def categories_with_counts() -> QuerySet[Category]:
    """Categories with ``article_count`` and ``published_count`` (one query)."""
    published = Count("articles", filter=Q(articles__status=ArticleStatus.PUBLISHED))
    return Category.objects.annotate(article_count=Count("articles"), published_count=published)


def public_sections(language: str) -> list[tuple[Category | None, list[Article]]]:
    """The home page: each category with its published articles (those without a category
    last), categories without any left out. Four queries."""
    articles = list(published_articles().order_by("category__order", "category_id", "-published_at", "-id"))
    by_category: dict[int | None, list[Article]] = {}
    for article in articles:
        by_category.setdefault(article.category_id, []).append(article)
    sections: list[tuple[Category | None, list[Article]]] = [
        (category, by_category[category.pk]) for category in categories() if category.pk in by_category
    ]
    if None in by_category:
        sections.append((None, by_category[None]))
    for _category, items in sections:
        items.sort(key=lambda article: _title_key(article, language))
    return sections


def _title_key(article: Article, language: str) -> str:
    version = article.translation_for(language)
    return version.title.casefold() if version else ""


def category_articles(category: Category) -> list[Article]:
    return list(published_articles().filter(category=category).order_by("-published_at", "-id"))


# --- search -------------------------------------------------------------------------------------


def query_words(text: str | None) -> list[str]:
    """The folded words of a query (at most MAX_TERMS), without the characters a search text
    never holds on their own."""
    text = (text or "")[:MAX_QUERY].replace("\x00", "")
    return list(dict.fromkeys(w for w in fold(text).split() if w.strip("\"'")))[:MAX_TERMS]


def matching_versions(words: list[str]) -> Q:
    """The condition on ArticleTranslation "every word is in the title or the body".

    Words of three characters or more are looked up in the trigram index (lib.search_index);
    shorter ones ("退款", "tv") cannot be, and become a substring match on the search text,
    narrowed by the index when the query has a longer word too, else a scan of the help
    centre's versions (a few thousand at most), stopped at CANDIDATES matches by the caller."""
    condition = Q()
    long_words = [w for w in words if len(w) >= MIN_INDEXED]
    if long_words:
        query = SearchQuery(" ".join(long_words), tuple(Term(w, (w,)) for w in long_words))
        condition &= index_match(ArticleTranslation, query)
    for word in words:
        if len(word) < MIN_INDEXED:
            condition &= Q(search_text__contains=word)
    return condition


def _ranked(versions: list[ArticleTranslation], words: list[str], language: str | None) -> list[Article]:
    """One article per match, best first: how well the title matches (lib.search.rank), then
    the version in the asked language, then the most helpful."""
    query = SearchQuery(" ".join(words), tuple(Term(w, (w,)) for w in words))
    best: dict[int, tuple[tuple, ArticleTranslation]] = {}
    for version in versions:
        key = (
            -rank(version.title, "", query),
            0 if language is None or version.language == language else 1,
            -version.article.helpful_yes,
            -(version.article.published_at or version.article.created_at).timestamp(),
        )
        if version.article_id not in best or key < best[version.article_id][0]:
            best[version.article_id] = (key, version)
    found = []
    for _key, version in sorted(best.values(), key=lambda item: item[0]):
        article = version.article
        article.found = version
        found.append(article)
    return found


def find_articles(
    text: str | None, *, language: str | None = None, limit: int = 5, published_only: bool = True
) -> list[Article]:
    """Articles whose title or body holds every word of ``text``; see ``search_articles``.
    ``published_only=False`` is the staff's search (global search, the articles list)."""
    words = query_words(text)
    if not words or limit < 1:
        return []
    versions = ArticleTranslation.objects.filter(matching_versions(words))
    if published_only:
        versions = versions.filter(article__status=ArticleStatus.PUBLISHED)
    language = normalise_language(language)
    if language:
        versions = versions.filter(language=language)
    versions = versions.select_related("article__category").prefetch_related("article__translations")
    # No ORDER BY: the database stops at the first CANDIDATES matches; they are ranked here.
    return _ranked(list(versions.order_by()[:CANDIDATES]), words, language)[:limit]


def search_articles(query: str, language: str | None = None, limit: int = 5) -> list[Article]:
    """Published articles matching ``query``, best first (the help form's suggestions as the
    visitor types, the reply composer's links). Chinese and short words are found inside words
    ("退款" in "申请退款"). ``language`` ("en", "zh-hans", also "zh-CN"…) keeps to articles that
    have a version in it; each article carries ``.found``, the version that matched (its title
    and language: link to ``article.get_absolute_url(article.found.language)``). Nothing is
    found while the help centre is closed to the public: its links would not open."""
    if not help_center().public:
        return []
    return find_articles(query, language=language, limit=limit)


# --- the staff's list ---------------------------------------------------------------------------


def staff_articles(article_filter) -> QuerySet[Article]:
    """Every article (drafts too) through the list's filter (kb.filters.ArticleFilter)."""
    return article_filter.apply(with_versions(Article.objects.all()))


# --- writing ------------------------------------------------------------------------------------


class ArticleError(ValueError):
    """A refused article (the message says why; ``field`` names the field when one is at fault)."""

    def __init__(self, message: str, field: str = "__all__") -> None:
        super().__init__(message)
        self.field = field


def unique_slug(text: str, model: type[Article] | type[Category], exclude_pk: int | None = None) -> str:
    """A free slug from ``text`` ("Refunds & returns" → "refunds-returns", "-2" when taken);
    text with no Latin letters ("退款") gets a short random one."""
    base = slugify(text)[:90].strip("-")
    if not base:
        base = ("article-" if model is Article else "category-") + get_random_string(
            8, "abcdefghijklmnopqrstuvwxyz0123456789"
        )
    taken = set(
        model.objects.filter(slug__startswith=base).exclude(pk=exclude_pk).values_list("slug", flat=True)
    )
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _check_versions(versions: dict[str, dict[str, str] | None]) -> dict[str, dict[str, str] | None]:
    """{language: {"title", "body"}} with a blank version meaning "remove it"; a body without a
    title is refused (the page and the lists need a title)."""
    clean: dict[str, dict[str, str] | None] = {}
    for code, value in versions.items():
        language = normalise_language(code)
        if language is None:
            raise ArticleError(_("Unknown language “%(code)s”.") % {"code": code}, "translations")
        title = ((value or {}).get("title") or "").strip()
        body = (value or {}).get("body") or ""
        if not title and body.strip():
            raise ArticleError(
                _("Give the %(language)s version a title.") % {"language": Language(language).label},
                f"title_{language}",
            )
        clean[language] = {"title": title, "body": body} if title else None
    return clean


def _write_versions(article: Article, versions: dict[str, dict[str, str] | None]) -> dict[str, list]:
    changes: dict[str, list] = {}
    existing = {t.language: t for t in article.translations.all()}
    for language, value in versions.items():
        current = existing.get(language)
        if value is None:
            if current is not None:
                current.delete()
                changes[language] = [current.title, None]
            continue
        if current is None:
            current = ArticleTranslation(article=article, language=language)
        elif current.title == value["title"] and current.body == value["body"]:
            continue
        old_title = current.title or None
        current.title, current.body = value["title"], value["body"]
        _validated(current)
        changes[language] = [old_title, current.title]
    return changes


def _validated(obj) -> None:
    try:
        obj.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise ArticleError(f"{field}: {' '.join(messages)}", field) from None
    obj.save()


def _check_publishable(article: Article) -> None:
    if article.status == ArticleStatus.PUBLISHED and not article.translations.exists():
        raise ArticleError(_("An article needs a title in at least one language before it is published."))


def _set_status_dates(article: Article) -> None:
    # The first publication is the date shown; later edits show as "updated".
    if article.status == ArticleStatus.PUBLISHED and article.published_at is None:
        article.published_at = timezone.now()


def _save_article(article: Article) -> None:
    try:
        with transaction.atomic():
            _validated(article)
    except IntegrityError:
        raise ArticleError(_("Another article already has this address."), "slug") from None


@transaction.atomic
def create_article(
    data: dict[str, Any], versions: dict[str, dict[str, str] | None], *, actor=None
) -> Article:
    """Create an article from validated ``data`` (category, slug, status, indexable) and its
    language versions ({"en": {"title": …, "body": …}, "zh-hans": …})."""
    versions = _check_versions(versions)
    article = Article(**data)
    article.created_by = actor if getattr(actor, "is_authenticated", False) else None
    if not article.slug:
        first = next((v["title"] for v in versions.values() if v), "")
        article.slug = unique_slug(first, Article)
    _set_status_dates(article)
    _save_article(article)
    _write_versions(article, versions)
    _check_publishable(article)
    AuditLog.record(actor, "article.create", article, summary=article.slug)
    return article


@transaction.atomic
def update_article(
    article: Article,
    data: dict[str, Any],
    versions: dict[str, dict[str, str] | None] | None = None,
    *,
    actor=None,
) -> Article:
    """Change the fields in ``data`` and the language versions given (None removes one)."""
    changes = apply_changes(article, data)
    if "slug" in data and not article.slug:
        article.slug = unique_slug(article.title, Article, exclude_pk=article.pk)
    _set_status_dates(article)
    _save_article(article)
    changes.update(_write_versions(article, _check_versions(versions or {})))
    _check_publishable(article)
    if changes:
        Article.objects.filter(pk=article.pk).update(updated_at=timezone.now())
        AuditLog.record(actor, "article.update", article, summary=article.slug, changes=changes)
    return article


@transaction.atomic
def delete_article(article: Article, *, actor=None) -> None:
    AuditLog.record(actor, "article.delete", article, summary=article.slug)
    article.delete()


def _save_category(category: Category) -> None:
    if not (category.name_en.strip() or category.name_zh_hans.strip()):
        raise ArticleError(_("Give the category a name in at least one language."), "name_en")
    if not category.slug:
        category.slug = unique_slug(category.name_en or category.name_zh_hans, Category, category.pk)
    try:
        with transaction.atomic():
            _validated(category)
    except IntegrityError:
        raise ArticleError(_("Another category already has this address."), "slug") from None


@transaction.atomic
def create_category(data: dict[str, Any], *, actor=None) -> Category:
    category = Category(**data)
    _save_category(category)
    AuditLog.record(actor, "category.create", category, summary=str(category))
    return category


@transaction.atomic
def update_category(category: Category, data: dict[str, Any], *, actor=None) -> Category:
    changes = apply_changes(category, data)
    _save_category(category)
    if changes:
        AuditLog.record(actor, "category.update", category, summary=str(category), changes=changes)
    return category


@transaction.atomic
def delete_category(category: Category, *, actor=None) -> None:
    """Delete a category; its articles stay, without a category."""
    AuditLog.record(actor, "category.delete", category, summary=str(category))
    category.delete()


@transaction.atomic
def update_help_center(data: dict[str, Any], *, actor=None) -> HelpCenter:
    center = help_center()
    changes = apply_changes(center, data)
    if changes:
        center.save()
        AuditLog.record(actor, "helpcenter.update", None, summary="help centre", changes=changes)
    return center


# --- "was this helpful?" ------------------------------------------------------------------------


def vote_token(article: Article) -> str:
    """The signed token the vote form carries: a vote needs the page first."""
    return signing.dumps(str(article.uuid), salt=VOTE_TOKEN_SALT, compress=False)


def check_vote_token(article: Article, token: str) -> bool:
    try:
        value = signing.loads(token or "", salt=VOTE_TOKEN_SALT, max_age=VOTE_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return False
    return value == str(article.uuid)


@dataclass(frozen=True)
class VoteResult:
    counted: bool  # False: the same answer again, nothing changed
    changed: bool  # the visitor changed their answer


@transaction.atomic
def record_vote(article: Article, visitor: str, helpful: bool) -> VoteResult:
    """Count one visitor's answer once; a changed answer moves the count (never a second vote).
    ``visitor`` is lib.ratelimit.hashed_ip of the request."""
    vote, created = ArticleVote.objects.select_for_update().get_or_create(
        article=article, visitor=visitor, defaults={"helpful": helpful}
    )
    if created:
        field = "helpful_yes" if helpful else "helpful_no"
        Article.objects.filter(pk=article.pk).update(**{field: F(field) + 1})
        return VoteResult(counted=True, changed=False)
    if vote.helpful == helpful:
        return VoteResult(counted=False, changed=False)
    vote.helpful = helpful
    vote.save(update_fields=["helpful", "updated_at"])
    up, down = ("helpful_yes", "helpful_no") if helpful else ("helpful_no", "helpful_yes")
    Article.objects.filter(pk=article.pk).update(**{up: F(up) + 1, down: F(down) - 1})
    return VoteResult(counted=True, changed=True)


# --- addresses ----------------------------------------------------------------------------------


def public_base_url(request: HttpRequest | None) -> str:
    """Where visitors reach this server: SOLOCRM_PUBLIC_URL, else the address of the request."""
    if settings.SOLOCRM_PUBLIC_URL or request is None:
        return settings.SOLOCRM_PUBLIC_URL
    return f"{request.scheme}://{request.get_host()}"


def public_url(article: Article, request: HttpRequest | None = None, language: str | None = None) -> str:
    """The article's public page as an absolute URL (for links in e-mails and replies)."""
    return public_base_url(request) + article.get_absolute_url(language)


def markdown_link(article: Article, request: HttpRequest | None = None) -> str:
    """``[title](absolute address)`` of a found article (search_articles), in the language that
    matched; brackets in the title are escaped so the link stays one link."""
    version = getattr(article, "found", None) or article.translation_for(None)
    language = version.language if version else None
    title = (version.title if version else article.slug).replace("\\", "\\\\")
    title = title.replace("[", "\\[").replace("]", "\\]")
    return f"[{title}]({public_url(article, request, language)})"
