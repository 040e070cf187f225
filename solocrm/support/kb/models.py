"""The knowledge base: categories, articles in English and Simplified Chinese, the votes of
"was this helpful?" and the help centre's own switches (see docs/support.md, "Knowledge base").

An article's words live in one ``ArticleTranslation`` per language (title and Markdown body),
so each language version is searched, indexed and edited on its own; the article itself holds
what both share (category, slug, status, indexable, the vote counts)."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from solocrm.lib.models import PublicModel, Searchable
from solocrm.lib.search import SEP, fold

from .choices import ArticleStatus, Language

MAX_SEARCH_WORD = 100  # a longer "word" (a URL, a base64 blob) is never typed into a search box


def normalise_language(code: str | None) -> str | None:
    """ "zh", "zh-CN", "zh_Hans" → "zh-hans"; "en-GB" → "en"; anything else → None."""
    code = (code or "").strip().lower().replace("_", "-")
    if not code:
        return None
    if code.startswith("zh"):
        # Traditional Chinese readers can read the simplified version better than English.
        return Language.ZH_HANS.value
    if code.split("-")[0] == "en":
        return Language.EN.value
    return None  # plain str values above: they end up in HTTP headers, which want exact str


def other_language(language: str) -> str:
    return Language.EN.value if language == Language.ZH_HANS else Language.ZH_HANS.value


class HelpCenter(models.Model):
    """The help centre's switches (one row, saved on the first change): whether the public pages
    under /help/ are open at all, and whether search engines may index them. With indexing
    off, every page says noindex whatever the article's own flag."""

    public = models.BooleanField(
        _("open to the public"), default=True, help_text=_("Off: the pages under /help/ answer “not found”.")
    )
    indexable = models.BooleanField(
        _("search engines may index the help centre"),
        default=True,
        help_text=_("Off: every page asks search engines not to index it, whatever the article says."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("help centre")
        verbose_name_plural = _("help centre")

    def __str__(self) -> str:
        return str(_("help centre"))

    @classmethod
    def current(cls) -> HelpCenter:
        """The saved switches, else the defaults (unsaved: reading a page writes nothing)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class Category(PublicModel):
    """A group of articles on the help centre's home page, named in each language."""

    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=100, blank=True)
    slug = models.SlugField(_("address"), max_length=100, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0, help_text=_("Lower comes first."))

    class Meta:
        verbose_name = _("article category")
        verbose_name_plural = _("article categories")
        ordering = ["order", "name_en", "name_zh_hans", "id"]

    def __str__(self) -> str:
        return self.name_in(translation.get_language())

    def name_in(self, language: str | None) -> str:
        """The name in ``language``, else in the other one."""
        if normalise_language(language) == Language.ZH_HANS:
            return self.name_zh_hans or self.name_en
        return self.name_en or self.name_zh_hans

    def get_absolute_url(self) -> str:
        return reverse("help:category", args=[self.slug])


class Article(PublicModel):
    """One help article; its title and body are in ``translations`` (one per language)."""

    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
        verbose_name=_("category"),
    )
    slug = models.SlugField(_("address"), max_length=120, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    indexable = models.BooleanField(
        _("search engines may index it"),
        default=True,
        help_text=_("Off: the page asks search engines not to index it (it stays public)."),
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    helpful_yes = models.PositiveIntegerField(_("found it helpful"), default=0, editable=False)
    helpful_no = models.PositiveIntegerField(_("did not find it helpful"), default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["status", "category"], name="kb_article_status_category")]

    def __str__(self) -> str:
        return self.title or self.slug

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED

    def get_absolute_url(self, language: str | None = None) -> str:
        """The public page (``/help/articles/<slug>/``), in ``language`` when given."""
        url = reverse("help:article", args=[self.slug])
        language = normalise_language(language)
        return f"{url}?lang={language}" if language else url

    # --- the language versions (read from ``translations``, prefetched by the lists) ----------

    def versions(self) -> dict[str, ArticleTranslation]:
        """The language versions by language code (uses a prefetch when there is one)."""
        return {t.language: t for t in self.translations.all()}

    def translation_for(self, language: str | None) -> ArticleTranslation | None:
        """The version in ``language``, else the other one (None when the article has none)."""
        versions = self.versions()
        wanted = normalise_language(language) or Language.EN
        return versions.get(wanted) or versions.get(other_language(wanted))

    @property
    def title(self) -> str:
        """The title in the current language, else in the other one."""
        found = self.translation_for(translation.get_language())
        return found.title if found else ""

    @property
    def helpful_votes(self) -> int:
        return self.helpful_yes + self.helpful_no


def article_search_text(*texts: str) -> str:
    """The words an article version is found by: folded (lib.search.fold), each once, with an
    accent-free copy, joined like lib.search's search text so a word's start is "  word".

    Unlike names (lib.search.search_text), a body's Chinese runs get no tails: a paragraph of
    Chinese would otherwise be stored once per character. Short and Chinese queries are
    answered by a substring match instead (services.search_articles)."""
    words: dict[str, None] = {}
    for text in texts:
        for word in fold(text).split():
            word = word[:MAX_SEARCH_WORD]
            words[word] = None
            plain = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
            if plain != word:
                words[plain] = None
    return SEP + SEP.join(words) if words else ""


class ArticleTranslation(Searchable):
    """An article's words in one language: a title and a Markdown body."""

    search_fields = ("title", "body")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(_("language"), max_length=10, choices=Language.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text (Markdown)"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(fields=["article", "language"], name="kb_one_version_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"

    def search_document(self) -> str:
        return article_search_text(self.title, self.body)

    @classmethod
    def search_queryset(cls):
        return cls._default_manager.all()


class ArticleVote(models.Model):
    """One visitor's answer to "was this helpful?" (the visitor is a keyed hash of the address,
    lib.ratelimit.hashed_ip: enough to count one vote each, not to identify anybody)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    visitor = models.CharField(max_length=64)
    helpful = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("article vote")
        verbose_name_plural = _("article votes")
        constraints = [models.UniqueConstraint(fields=["article", "visitor"], name="kb_one_vote_per_visitor")]

    def __str__(self) -> str:
        return f"{self.article_id}: {'yes' if self.helpful else 'no'}"
