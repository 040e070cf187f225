"""The articles list's one filter, used by the staff page and the API."""

from __future__ import annotations

import uuid
from typing import Literal

from django.db.models import Q
from ninja import Field

from solocrm.lib.filters import ListFilter

from . import services
from .choices import ArticleStatus, Language
from .models import ArticleTranslation


class ArticleFilter(ListFilter):
    """The articles list's one filter (web list, API)."""

    q: str | None = Field(None, max_length=services.MAX_QUERY, description="Words in the title or text")
    category: str | None = Field(
        None, max_length=100, description="Category slug or public id; “none”: without a category"
    )
    status: ArticleStatus | None = None
    language: Language | None = Field(None, description="Has a version in this language")

    ordering: Literal["updated", "published", "slug", "helpful"] | None = None

    orderings = {
        "updated": ("-updated_at", "-id"),
        "published": ("-published_at", "-id"),
        "slug": ("slug",),
        "helpful": ("-helpful_yes", "-id"),
    }
    default_ordering = "updated"

    def filter_q(self, value: str | None) -> Q:
        words = services.query_words(value)
        if not words:
            return Q()
        return Q(
            pk__in=ArticleTranslation.objects.filter(services.matching_versions(words)).values("article_id")
        )

    def filter_category(self, value: str | None) -> Q:
        if not value:
            return Q()
        if value == "none":
            return Q(category__isnull=True)
        try:
            return Q(category__uuid=uuid.UUID(value)) | Q(category__slug=value)
        except ValueError:
            return Q(category__slug=value)

    def filter_status(self, value: str | None) -> Q:
        return Q(status=value) if value else Q()

    def filter_language(self, value: str | None) -> Q:
        return Q(translations__language=value) if value else Q()
