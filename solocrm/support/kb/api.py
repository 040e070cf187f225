"""REST endpoints for the knowledge base: articles with their language versions, and their
categories (see solocrm.api for how roles are checked: GET view, POST/PATCH edit, DELETE
delete — the owner only).

An article's versions travel as ``translations``, keyed by language: ``{"en": {"title": …,
"body": …}, "zh-hans": {…}}``. In a PATCH, a language left out is left alone and ``null``
removes that version."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from solocrm.lib import access
from solocrm.lib.api import Pagination, RequiredText, Text, WriteSchema, partial, ref, resolve, responses
from solocrm.lib.roles import Action

from . import services
from .choices import ArticleStatus, Language
from .filters import ArticleFilter
from .forms import MAX_BODY
from .markdown import render
from .models import Article, ArticleTranslation, Category

router = Router(tags=["knowledge base"])

Slug = Annotated[str, Field(max_length=120, pattern=r"^[-a-zA-Z0-9_]*$")]

# --- categories -----------------------------------------------------------------------------------


class CategoryIn(WriteSchema):
    name_en: Text(100) = Field("", description="Name in English")
    name_zh_hans: Text(100) = Field("", description="Name in Simplified Chinese (one name is required)")
    slug: Slug = Field("", description="The end of the public address; blank: made from the name")
    order: int = Field(0, ge=0, le=32767, description="Lower comes first on the home page")


CategoryPatch = partial(CategoryIn)


class CategoryOut(Schema):
    uuid: uuid.UUID
    name_en: str
    name_zh_hans: str
    slug: str
    order: int
    url: str = Field(description="The public page")

    @staticmethod
    def resolve_url(obj: Category, context: dict[str, Any]) -> str:
        return services.public_base_url(context["request"]) + obj.get_absolute_url()


@router.get("/article-categories", response=responses({200: list[CategoryOut]}))
@paginate(Pagination)
def list_categories(request: HttpRequest):
    """Categories in their home-page order."""
    return services.categories()


@router.post("/article-categories", response=responses({201: CategoryOut}))
def create_category(request: HttpRequest, payload: CategoryIn):
    return Status(201, services.create_category(payload.model_dump(), actor=request.user))


@router.get("/article-categories/{uuid}", response=responses({200: CategoryOut}))
def get_category(request: HttpRequest, uuid: str):
    return access.get_for(request.user, Category, uuid)


@router.patch("/article-categories/{uuid}", response=responses({200: CategoryOut}))
def update_category(request: HttpRequest, uuid: str, payload: CategoryPatch):
    category = access.get_for(request.user, Category, uuid, Action.EDIT)
    return services.update_category(category, payload.model_dump(exclude_unset=True), actor=request.user)


@router.delete("/article-categories/{uuid}", response=responses({204: None}))
def delete_category(request: HttpRequest, uuid: str):
    """Delete a category; its articles stay, without a category (owner only)."""
    services.delete_category(access.get_for(request.user, Category, uuid, Action.DELETE), actor=request.user)
    return Status(204, None)


# --- articles -------------------------------------------------------------------------------------


class VersionIn(WriteSchema):
    title: RequiredText(200)
    body: Text(MAX_BODY) = Field("", description="Markdown (raw HTML is shown as text)")


class VersionOut(Schema):
    title: str
    body: str = Field(description="Markdown, as written")
    html: str = Field(description="The body as the help centre shows it (sanitised HTML)")
    updated_at: datetime

    @staticmethod
    def resolve_html(obj: ArticleTranslation) -> str:
        return render(obj.body)


class ArticleIn(WriteSchema):
    category: uuid.UUID | None = Field(None, description="Public id of the category")
    slug: Slug = Field("", description="The end of the public address; blank: made from the title")
    status: ArticleStatus = ArticleStatus.DRAFT
    indexable: bool = Field(True, description="Search engines may index it")
    translations: dict[Language, VersionIn | None] = Field(
        {},  # pydantic copies a default: each request gets its own dict
        description="The language versions by language (en, zh-hans); null removes one",
    )


ArticlePatch = partial(ArticleIn)


class ArticleOut(Schema):
    uuid: uuid.UUID
    slug: str
    category: uuid.UUID | None = Field(description="Public id of the category")
    status: str
    indexable: bool = Field(description="Search engines may index it (if the help centre allows)")
    published_at: datetime | None = Field(description="First published")
    created_at: datetime
    updated_at: datetime
    url: str = Field(description="The public page (404 while a draft)")
    helpful_yes: int = Field(description="Visitors who found it helpful")
    helpful_no: int = Field(description="Visitors who did not")
    translations: dict[str, VersionOut] = Field(description="The language versions by language")

    @staticmethod
    def resolve_category(obj: Article) -> uuid.UUID | None:
        return ref(obj.category)

    @staticmethod
    def resolve_url(obj: Article, context: dict[str, Any]) -> str:
        return services.public_url(obj, context["request"])

    @staticmethod
    def resolve_translations(obj: Article) -> dict[str, ArticleTranslation]:
        return obj.versions()


def _article_data(request: HttpRequest, payload: WriteSchema, partial_update: bool = False):
    data = payload.model_dump(exclude_unset=partial_update)
    versions = {str(code): value for code, value in (data.pop("translations", None) or {}).items()}
    if "category" in data:
        data["category"] = resolve(request.user, Category, data["category"], "category")
    return data, versions


def _fresh(article: Article) -> Article:
    return services.with_versions(Article.objects.filter(pk=article.pk)).get()


@router.get("/articles", response=responses({200: list[ArticleOut]}))
@paginate(Pagination)
def list_articles(request: HttpRequest, filters: Query[ArticleFilter]):
    """Every article, drafts too, newest change first (``ordering``: updated, published, slug,
    helpful); ``q`` finds words in either language, Chinese included."""
    return services.staff_articles(filters)


@router.post("/articles", response=responses({201: ArticleOut}))
def create_article(request: HttpRequest, payload: ArticleIn):
    """Create an article. A published one needs a version in at least one language."""
    data, versions = _article_data(request, payload)
    article = services.create_article(data, versions, actor=request.user)
    return Status(201, _fresh(article))


@router.get("/articles/{uuid}", response=responses({200: ArticleOut}))
def get_article(request: HttpRequest, uuid: str):
    return access.get_for(request.user, services.with_versions(Article.objects.all()), uuid)


@router.patch("/articles/{uuid}", response=responses({200: ArticleOut}))
def update_article(request: HttpRequest, uuid: str, payload: ArticlePatch):
    """Change the fields given; ``{"status": "published"}`` publishes it,
    ``{"translations": {"zh-hans": null}}`` removes the Chinese version."""
    article = access.get_for(request.user, Article, uuid, Action.EDIT)
    data, versions = _article_data(request, payload, partial_update=True)
    services.update_article(article, data, versions, actor=request.user)
    return _fresh(article)


@router.delete("/articles/{uuid}", response=responses({204: None}))
def delete_article(request: HttpRequest, uuid: str):
    """Delete an article with its versions and votes (owner only)."""
    services.delete_article(access.get_for(request.user, Article, uuid, Action.DELETE), actor=request.user)
    return Status(204, None)
