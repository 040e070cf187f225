"""Finding contacts that are probably the same person.

Three kinds of evidence, cheapest first:

* the same e-mail address (stored normalised, so equal text means equal address): main addresses
  are unique, so this is a contact's *other* e-mail that is someone else's main address;
* the same phone number (stored in E.164), the same way. The identity rules
  (``identity.may_join_by_phone``) tell two kinds apart: a phone with nothing against it
  ("phone"), and a phone shared by people whose e-mails or names differ ("shared_phone": an
  office switchboard, a family landline), which the importer and the forms keep apart and which
  is listed last;
* nearly the same name at the same company, scored with rapidfuzz. Comparing every pair would
  be quadratic, so contacts are first put in blocks that a duplicate almost surely shares — the
  first two letters of the last name and the first letter of the first name, and again the
  other way round, so one typo anywhere but in both initials is still found. The database sorts
  by the block key and rows are streamed block by block, so memory stays flat.

A name alone is weak evidence (there are many Wang Weis and John Smiths), so a name match needs
both contacts to have a company and the score is taken over "first last company"; and two
contacts whose e-mails *and* phones both differ are taken to be different people.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter

from django.db.models import Count, Q
from django.db.models.functions import Lower, Substr
from rapidfuzz import fuzz, utils

from .identity import Person, may_join_by_phone
from .models import Contact

DEFAULT_THRESHOLD = 90
REASONS = ("email", "phone", "name", "shared_phone")  # strongest first
MAX_EXACT_GROUP = 10  # more contacts on one address is a shared mailbox or switchboard, not a duplicate
MAX_BLOCK = 400  # larger blocks are compared with their sorted neighbours only
WINDOW = 20

Edge = tuple[int, int, str, float]  # (contact id, contact id, reason, score)


@dataclass
class Candidate:
    """A group of contacts that look like one person, and the one to keep."""

    survivor: Contact
    others: list[Contact]
    reason: str  # "email", "phone" or "name": the strongest evidence in the group
    score: float  # 100 for an exact match, else the lowest name score in the group

    @property
    def contacts(self) -> list[Contact]:
        return [self.survivor, *self.others]


def find_duplicate_candidates(
    limit: int | None = None, threshold: float = DEFAULT_THRESHOLD
) -> list[Candidate]:
    """Groups of probable duplicates, strongest evidence first; at most ``limit`` groups."""
    # Main e-mails are unique (contact_email_ci_unique): a shared address is one contact's main
    # address among another's other e-mails.
    edges = [*_extra_edges("email", "other_emails"), *_phone_edges(), *_extra_edges("phone", "other_phones")]
    edges += _name_edges(threshold)
    groups = _groups(edges)
    groups.sort(key=lambda g: (REASONS.index(g[1]), -g[2], min(g[0])))
    if limit is not None:
        groups = groups[:limit]
    return _candidates(groups)


def choose_survivor(contacts: list[Contact]) -> Contact:
    """The contact with the most orders and interactions; the oldest on a tie.
    Contacts need an ``activity`` annotation (see ``with_activity``)."""
    return min(contacts, key=lambda c: (-getattr(c, "activity", 0), c.created_at, c.pk))


def with_activity(queryset):
    # Separate DISTINCT counts: joining both relations at once multiplies the rows.
    return queryset.annotate(activity=Count("orders", distinct=True) + Count("interactions", distinct=True))


# -- exact matches ------------------------------------------------------------------------------


def _phone_edges() -> list[Edge]:
    """Contacts sharing a main phone, each pair labelled by the identity rules."""
    shared = (
        Contact.objects.exclude(phone="")
        .order_by()
        .values("phone")
        .annotate(n=Count("id"))
        .filter(n__gt=1, n__lte=MAX_EXACT_GROUP)
        .values("phone")
    )
    columns = ("phone", "id", "email", "other_emails", "first_name", "last_name")
    rows = Contact.objects.filter(phone__in=shared).order_by("phone", "id").values_list(*columns)
    edges = []
    for _value, group in groupby(rows.iterator(chunk_size=2000), key=itemgetter(0)):
        people = [(pk, Person(tuple(e for e in (mail, *(more or ())) if e), first, last))
                  for _p, pk, mail, more, first, last in group]  # fmt: skip
        first_pk, first_person = people[0]
        for pk, person in people[1:]:
            reason = "phone" if may_join_by_phone(person, first_person) else "shared_phone"
            edges.append((first_pk, pk, reason, 100.0))
    return edges


def _extra_edges(field: str, extra_field: str) -> Iterator[Edge]:
    """A contact whose extra e-mails (phones) include another contact's main one. Only contacts
    that have extras are read, which is a small share of all."""
    with_extras = Contact.objects.exclude(**{extra_field: []}).values_list("id", extra_field)
    for batch in _batches(with_extras.iterator(chunk_size=2000), 500):
        owners = defaultdict(list)
        for pk, extras in batch:
            for value in extras or []:
                owners[value].append(pk)
        # An address on more contacts than a person has is a shared mailbox or switchboard, not a duplicate.
        owners = defaultdict(list, {k: v for k, v in owners.items() if len(v) < MAX_EXACT_GROUP})
        matches = Contact.objects.filter(**{f"{field}__in": list(owners)}).values_list(field, "id")
        for value, pk in matches:
            yield from ((owner, pk, field, 100.0) for owner in owners[value] if owner != pk)


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# -- similar names ------------------------------------------------------------------------------

_NAME_COLUMNS = ("id", "first_name", "last_name", "company__name", "email", "phone")


def _name_edges(threshold: float) -> list[Edge]:
    edges: dict[tuple[int, int], float] = {}
    named = Contact.objects.filter(company__isnull=False).exclude(Q(first_name="") & Q(last_name=""))
    for major, minor in (("last_name", "first_name"), ("first_name", "last_name")):
        rows = (
            named.annotate(k1=Substr(Lower(major), 1, 2), k2=Substr(Lower(minor), 1, 1))
            .order_by("k1", "k2", "id")
            .values_list(*_NAME_COLUMNS, "k1", "k2")
        )
        for _key, block in groupby(rows.iterator(chunk_size=5000), key=itemgetter(6, 7)):
            for a, b, score in _score_block(list(block), threshold):
                edges[(a, b)] = score
    return [(a, b, "name", score) for (a, b), score in edges.items()]


def _score_block(rows: list[tuple], threshold: float) -> Iterator[tuple[int, int, float]]:
    if len(rows) < 2:
        return
    names = [utils.default_process(f"{r[1]} {r[2]}") for r in rows]
    full = [utils.default_process(f"{r[1]} {r[2]} {r[3]}") for r in rows]
    for i, j in _pairs(names):
        if _different_people(rows[i], rows[j]):
            continue
        name_score = fuzz.token_sort_ratio(names[i], names[j], score_cutoff=threshold)
        if not name_score:
            continue
        # The name must match on its own: a long shared company name would otherwise
        # lift "Ann Lee" and "Amy Lee" of the same company over the threshold.
        full_score = fuzz.token_sort_ratio(full[i], full[j], score_cutoff=threshold)
        if full_score:
            a, b = sorted((rows[i][0], rows[j][0]))
            yield a, b, round(min(name_score, full_score), 1)


def _pairs(names: list[str]) -> Iterator[tuple[int, int]]:
    """Every pair in a small block; in a large one (a very common name), each contact with its
    WINDOW nearest neighbours in sorted order (the sorted-neighbourhood method)."""
    n = len(names)
    if n <= MAX_BLOCK:
        yield from ((i, j) for i in range(n) for j in range(i + 1, n))
        return
    order = sorted(range(n), key=names.__getitem__)
    for pos, i in enumerate(order):
        yield from ((i, j) for j in order[pos + 1 : pos + 1 + WINDOW])


def _different_people(a: tuple, b: tuple) -> bool:
    """Different e-mails *and* different phones: two people, however alike their names."""
    email_a, phone_a, email_b, phone_b = a[4], a[5], b[4], b[5]
    return bool(email_a and email_b and email_a != email_b and phone_a and phone_b and phone_a != phone_b)


# -- grouping -----------------------------------------------------------------------------------


def _groups(edges: list[Edge]) -> list[tuple[set[int], str, float]]:
    """Connected groups of contacts (union-find), each with its strongest reason and score."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, _reason, _score in edges:
        parent[find(a)] = find(b)
    members: dict[int, set[int]] = defaultdict(set)
    evidence: dict[int, list[tuple[str, float]]] = defaultdict(list)
    for a, b, reason, score in edges:
        root = find(a)
        members[root] |= {a, b}
        evidence[root].append((reason, score))
    result = []
    for root, ids in members.items():
        best = min(REASONS.index(reason) for reason, _s in evidence[root])
        score = min(s for reason, s in evidence[root] if REASONS.index(reason) == best)
        result.append((ids, REASONS[best], score))
    return result


def _candidates(groups: list[tuple[set[int], str, float]]) -> list[Candidate]:
    ids = {pk for group, _r, _s in groups for pk in group}
    contacts = {c.pk: c for c in with_activity(Contact.objects.filter(pk__in=ids).select_related("company"))}
    candidates = []
    for group, reason, score in groups:
        members = [contacts[pk] for pk in sorted(group) if pk in contacts]
        if len(members) < 2:
            continue
        survivor = choose_survivor(members)
        others = [c for c in members if c.pk != survivor.pk]
        candidates.append(Candidate(survivor=survivor, others=others, reason=reason, score=score))
    return candidates
