"""Articles in global search (lib.search): drafts too, since only the team searches there; each
result opens the article's staff page. The words are found like the help centre finds them
(services.find_articles): Chinese and short words inside words."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy

from solocrm.lib.search import SearchQuery, provider, result

from . import services


@provider("articles", order=70)
def articles(query: SearchQuery, user, limit: int):
    if any(term.phone for term in query.terms):
        return
    text = " ".join(term.typed for term in query.terms)
    for article in services.find_articles(text, limit=limit, published_only=False):
        details = [str(article.category) if article.category else "", str(article.get_status_display())]
        yield result(
            query,
            kind="article",
            kind_label=gettext_lazy("Article"),
            title=article.found.title,
            subtitle=" · ".join(d for d in details if d),
            url=reverse("kb:detail", args=[article.uuid]),
            icon="circle-help",
            uuid=article.uuid,
        )
