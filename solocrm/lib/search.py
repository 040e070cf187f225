"""Global search: the registry every app adds its kinds of records to, and the search text they
share.

An app registers a provider from its AppConfig.ready() (``contacts/search.py``,
``sales/search.py``), so the search page, the command palette and the API never import the
apps' internals::

    from solocrm.lib.search import SearchResult, provider

    @provider("tickets", order=60)
    def tickets(query, user, limit):
        for ticket in Ticket.objects.filter(index_match(Ticket, query))[:limit]:
            yield SearchResult(kind="ticket", title=ticket.subject, url=..., icon="life-buoy", ...)

A provider returns at most ``limit`` results with a bounded number of queries; ``search()``
ranks them together (``rank``: the title matched whole, at its start, at a word's start, …).

**The search text.** A record that can be found among a million carries a precomputed,
normalised ``search_text`` (``lib.models.Searchable``): every word folded (NFKC + casefold),
accent-free copies, the tails of words written without spaces ("张伟" → "伟"), e-mails, and phone
numbers as their E.164 digits. Words are joined by two spaces and the text starts
with two, so "  ab" is found only at the start of a word: a one- or two-character query, which a
trigram index cannot look up, becomes a three-character "word starts with" query that it can
(see ``lib/search_index.py`` for the SQLite FTS5 and PostgreSQL pg_trgm indexes, and
docs/decisions.md).
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils.safestring import SafeString, mark_safe

from .normalize import phone_search

logger = logging.getLogger(__name__)

SEP = "  "  # between the words of a search text, and before the first
MIN_INDEXED = 3  # a trigram index looks up three characters or more
MAX_TERMS = 5  # more words only slow the query down
MAX_QUERY = 200


# --- the search text ----------------------------------------------------------------------------


def fold(text: str) -> str:
    """Compatibility forms unified ("Ｆｕｌｌ" → "full") and case folded ("Straße" → "strasse")."""
    return unicodedata.normalize("NFKC", text or "").casefold()


def _unaccented(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def _add_word(words: dict[str, None], word: str) -> None:
    if not word:
        return
    words[word] = None
    plain = _unaccented(word)
    if plain != word:
        words[plain] = None
    if len(word) > 1 and any(_wide(c) for c in word):
        # Chinese, Japanese and Korean names are written without spaces: every tail is a word
        # too, so a short query finds "伟" inside "张伟" like a longer one finds any substring.
        for start in range(1, len(word)):
            if _wide(word[start]):
                words[word[start:]] = None


def search_text(
    *texts: str | None, emails: Iterable[str] = (), phones: Iterable[str] = (), codes: Iterable[str] = ()
) -> str:
    """The normalised text a record is found by (see the module docstring).

    ``texts`` are split into words; ``emails`` are kept whole; ``phones`` (E.164) as their digits,
    which hold every national form without its trunk prefix (what ``parse_query`` looks for);
    ``codes`` (a quote or order number) are kept whole."""
    words: dict[str, None] = {}
    for text in texts:
        for word in fold(text or "").split():
            _add_word(words, word)
    for code in codes:
        _add_word(words, fold(code).replace(" ", ""))
    # Every character costs the index (a trigram each): an e-mail's domain and a number's
    # national form are found inside the whole address and the E.164 digits already.
    for email in emails:
        address = fold(email).strip()
        if address:
            words[address] = None
    for number in phones:
        digits = re.sub(r"\D", "", number or "")
        if digits:
            words[digits] = None
    return SEP + SEP.join(words) if words else ""


# --- the query ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One word of a query: what was typed and the texts any of which a match contains (a phone
    number has several forms; a short word is looked for at a word's start: "  ab")."""

    typed: str
    texts: tuple[str, ...]
    phone: bool = False


@dataclass(frozen=True)
class SearchQuery:
    text: str
    terms: tuple[Term, ...]

    def __bool__(self) -> bool:
        return bool(self.terms)

    @property
    def short(self) -> bool:
        """True when no word is long enough for substring matching (prefix matching only)."""
        return all(t.texts[0].startswith(SEP) for t in self.terms)


def parse_query(text: str | None, region: str | None = None) -> SearchQuery:
    """Split what was typed into terms: phone numbers in any format (lib.normalize.phone_search)
    and words, folded like the search text."""
    text = (text or "")[:MAX_QUERY].replace("\x00", "")
    numbers, others = phone_search(text, region)
    terms: list[Term] = []
    for typed, texts in numbers:
        forms = tuple(dict.fromkeys(t.lstrip("+") for t in texts))
        terms.append(Term(typed, forms, phone=True))
    for word in others:
        folded = fold(word)
        if not folded:
            continue
        terms.append(Term(word, (folded if len(folded) >= MIN_INDEXED else SEP + folded,)))
    return SearchQuery(text=text.strip(), terms=tuple(terms[:MAX_TERMS]))


# --- highlighting and ranking -------------------------------------------------------------------


def _needles(query: SearchQuery) -> list[str]:
    needles = []
    for term in query.terms:
        if term.phone:
            continue  # a number is shown as stored (+44…), not as typed
        needles.append(term.texts[0].lstrip())
    return [n for n in needles if n]


def highlight(text: str, query: SearchQuery) -> SafeString:
    """``text`` escaped, with every matched word wrapped in ``<mark>``. Matching is on the folded
    text, so "ADA" marks "Ada"; folding keeps the length of most text, and when it does not
    ("ß" → "ss") the text is shown escaped but unmarked rather than marked in the wrong place."""
    text = text or ""
    folded = fold(text)
    needles = _needles(query)
    if not needles or len(folded) != len(text):
        return mark_safe(html.escape(text))  # noqa: S308 - escaped just now
    marks = [False] * len(text)
    for needle in needles:
        start = folded.find(needle)
        while start >= 0:
            for i in range(start, start + len(needle)):
                marks[i] = True
            start = folded.find(needle, start + len(needle))
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and marks[j] == marks[i]:
            j += 1
        chunk = html.escape(text[i:j])
        out.append(f"<mark>{chunk}</mark>" if marks[i] else chunk)
        i = j
    return mark_safe("".join(out))  # noqa: S308 - every chunk escaped above


def rank(title: str, subtitle: str, query: SearchQuery) -> float:
    """Points for how well a result's title (and subtitle) matches: the whole title typed
    (100), the title starting with the query (80), every word at a word's start (60), found
    inside the title (40), in the subtitle (20), elsewhere (10: a phone, another e-mail)."""
    needles = _needles(query)
    if not needles:
        return 10.0
    folded, sub = fold(title), fold(subtitle)
    joined = " ".join(needles)
    if folded == joined or folded.replace(" ", "") == joined.replace(" ", ""):
        return 100.0
    if folded.startswith(needles[0]) and all(n in folded for n in needles):
        return 80.0
    starts = [w for w in re.split(r"[\s@.,\-_/]+", folded) if w]
    if all(any(w.startswith(n) for w in starts) for n in needles):
        return 60.0
    if all(n in folded for n in needles):
        return 40.0
    if all(n in folded or n in sub for n in needles):
        return 20.0
    return 10.0


# --- the registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    kind: str  # "contact", "company", "deal", …
    kind_label: str  # the kind in words, translated ("Contact")
    title: str
    url: str
    icon: str  # a Lucide icon name
    subtitle: str = ""
    score: float = 0.0
    uuid: str = ""
    title_html: SafeString = field(default=SafeString(""))
    subtitle_html: SafeString = field(default=SafeString(""))


Provider = Callable[[SearchQuery, object, int], Iterable[SearchResult]]


@dataclass(frozen=True)
class _Registered:
    func: Provider
    order: int  # a tie between two equal scores goes to the lower order (contacts first)
    action: str  # the role action needed to see these records


_providers: dict[str, _Registered] = {}


def provider(name: str, *, order: int = 50, action: str = "view") -> Callable[[Provider], Provider]:
    """Register a provider of search results under ``name`` (registering again replaces it)."""

    def decorator(func: Provider) -> Provider:
        _providers[name] = _Registered(func, order, action)
        return func

    return decorator


def registered() -> dict[str, Provider]:
    return {name: entry.func for name, entry in _providers.items()}


def result(
    query: SearchQuery,
    *,
    kind: str,
    kind_label: str,
    title: str,
    url: str,
    icon: str,
    subtitle: str = "",
    uuid="",
) -> SearchResult:
    """A result with its score and highlighted title and subtitle (providers build them here)."""
    return SearchResult(
        kind=kind,
        kind_label=str(kind_label),
        title=title,
        url=url,
        icon=icon,
        subtitle=subtitle,
        score=rank(title, subtitle, query),
        uuid=str(uuid),
        title_html=highlight(title, query),
        subtitle_html=highlight(subtitle, query),
    )


def search(
    text: str | None,
    user=None,
    *,
    limit: int = 8,
    region: str | None = None,
    kinds: Iterable[str] | None = None,
) -> tuple[SearchQuery, list[SearchResult]]:
    """Ask every provider the user may see for ``limit`` results; best first."""
    from .access import can

    query = parse_query(text, region)
    if not query:
        return query, []
    wanted = set(kinds) if kinds else None
    found: list[tuple[float, int, int, SearchResult]] = []
    for name, entry in _providers.items():
        if (wanted is not None and name not in wanted) or not can(user, entry.action):
            continue
        try:
            items = list(entry.func(query, user, limit))[:limit]
        except Exception:
            # One broken module must not take search down for the others.
            logger.exception("search provider %s failed", name)
            continue
        found.extend((-item.score, entry.order, i, item) for i, item in enumerate(items))
    found.sort(key=lambda row: row[:3])
    return query, [row[3] for row in found]
