"""``GET /api/v1/search``: global search over every kind of record an app registered
(lib.search), ranked, for scripts and other tools."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import field_validator

from solocrm.lib import search as global_search
from solocrm.lib.api import responses
from solocrm.lib.business import business_settings
from solocrm.lib.filters import storable

router = Router(tags=["search"])


class SearchParams(Schema):
    q: str = Field(..., min_length=1, max_length=global_search.MAX_QUERY, description="What to look for")
    limit: int = Field(10, ge=1, le=50, description="At most this many results of each kind")
    kind: list[str] | None = Field(
        None, description="Only these kinds of provider (contacts, companies, deals, …)"
    )

    @field_validator("q")
    @classmethod
    def _storable(cls, value: str) -> str:
        return storable(value)


class SearchHit(Schema):
    kind: str = Field(description="contact, company, deal, quote, order, task, …")
    kind_label: str
    uuid: str
    title: str
    subtitle: str
    url: str = Field(description="The record's page in the web interface")
    icon: str = Field(description="A Lucide icon name")
    score: float = Field(description="Higher is a better match")
    title_html: str = Field(description="The title, HTML-escaped, matched words in <mark>")
    subtitle_html: str


class SearchOut(Schema):
    query: str
    results: list[SearchHit]


@router.get("/search", response=responses({200: SearchOut}))
def search(request: HttpRequest, params: Query[SearchParams]):
    """Contacts (names in any script, e-mail parts, phone numbers in any format), companies,
    deals, quotes, orders and tasks: the best first."""
    _query, results = global_search.search(
        params.q, request.user, limit=params.limit, region=business_settings().phone_region, kinds=params.kind
    )
    return {
        "query": params.q,
        "results": [
            {
                "kind": r.kind,
                "kind_label": r.kind_label,
                "uuid": r.uuid,
                "title": r.title,
                "subtitle": r.subtitle,
                "url": request.build_absolute_uri(r.url),
                "icon": r.icon,
                "score": r.score,
                "title_html": str(r.title_html),
                "subtitle_html": str(r.subtitle_html),
            }
            for r in results
        ],
    }
