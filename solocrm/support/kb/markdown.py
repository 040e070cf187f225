"""Markdown → safe HTML for articles: markdown-it-py (CommonMark, tables, strikethrough) with
raw HTML off, then nh3 as a second line of defence (it keeps only known tags, attributes and
URL schemes), so neither the Markdown nor a bug in the parser can put a script on a page.

Headings get an ``id`` ("h-" + a slug of their text, numbered when repeated), so a reply can
link to a section: ``/help/articles/refunds/#h-how-long-does-it-take``. The prefix keeps ids
written by authors from clashing with the page's own (DOM clobbering)."""

from __future__ import annotations

import html
import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
_NOT_SLUG = re.compile(r"[^\w\- ]+", re.UNICODE)
MAX_RENDERED = 200_000  # characters of Markdown; the API and forms refuse more anyway


def heading_slug(text: str) -> str:
    """ "How long does it take?" → "how-long-does-it-take"; Chinese stays ("退款多久" → itself)."""
    slug = _NOT_SLUG.sub("", text.strip().lower())
    return re.sub(r"[\s\-]+", "-", slug).strip("-")[:80] or "section"


def _anchor_headings(state) -> None:
    """A core rule: give each heading an id from its text (after inline parsing)."""
    seen: dict[str, int] = {}
    tokens: list[Token] = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "heading_open" or i + 1 >= len(tokens):
            continue
        slug = heading_slug(tokens[i + 1].content)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        token.attrSet("id", f"h-{slug}" if count == 0 else f"h-{slug}-{count + 1}")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable(["table", "strikethrough"])
    parser.core.ruler.push("heading_anchors", _anchor_headings)
    return parser


def render(markdown: str) -> str:
    """The article body as sanitised HTML (safe to mark safe in a template)."""
    rendered = _parser().render((markdown or "")[:MAX_RENDERED])
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def plain_text(markdown: str, length: int = 200) -> str:
    """The first ``length`` characters of the body as text (search results' excerpts)."""
    # Tags stripped, entities decoded: the template escapes the text again where it shows it.
    text = " ".join(html.unescape(nh3.clean(render(markdown[: length * 20]), tags=set())).split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
