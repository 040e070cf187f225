"""Who is who: the one set of rules that decides whether a person arriving from an import row,
the API, a lead form or (later) an inbound e-mail is a contact we already have. The importer, the
API, the lead forms and the duplicates page all use these rules, so they never disagree.

A newcomer *is* a known contact only when their identities agree:

* the same external id (the record's id in the system it came from); or
* the same e-mail address, primary or other, compared by ``email_key`` (case-insensitive, the
  domain normalised); or
* the same phone number, but only when neither side has a different e-mail address and their
  names do not conflict (``choose_by_phone`` says which one when several qualify).

Anything weaker — a shared phone with different e-mails or names (an office switchboard, a
family landline), a similar name — is never merged automatically: such contacts stay apart and
the duplicates page lists them with the reason (``dedupe.py``).

The database backs the e-mail rule: one contact per normalised primary e-mail
(``contact_email_ci_unique``), so concurrent creators get one success and a conflict."""

from __future__ import annotations

import contextlib
import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connections, router

from .models import Contact

# Reasons, strongest first: the first three join automatically, the others only make candidates.
EXTERNAL_ID = "external_id"
EMAIL = "email"
PHONE = "phone"
SHARED_PHONE = "shared_phone"
NAME = "name"


def email_key(address: str) -> str:
    """The form an e-mail address is stored and compared in: lower case, the domain without a
    trailing dot and in Unicode (``xn--`` labels decoded, NFC), so ``Ada@Bücher.DE.`` and
    ``ada@xn--bcher-kva.de`` are one address. Addresses are already validated; '' stays ''."""
    address = address.strip()
    if address.isascii() and "xn--" not in address and not address.endswith("."):
        return address.lower()  # the common case, on every import row: no work beyond lower()
    local, at, domain = address.rpartition("@")
    if not at:
        return address.lower()
    labels = []
    for label in domain.rstrip(".").lower().split("."):
        if label.startswith("xn--"):
            # not valid punycode: keep the text as it is rather than lose it
            with contextlib.suppress(UnicodeError):
                label = label.encode("ascii").decode("idna")
        labels.append(label)
    return f"{local.lower()}@{unicodedata.normalize('NFC', '.'.join(labels))}"


def _name_parts(value: str) -> list[str]:
    return [part.strip(".").casefold() for part in value.replace("-", " ").split() if part.strip(".")]


def _names_agree(a: str, b: str) -> bool:
    """'Ada' and 'ada', 'A.' and 'Ada', 'Ann' and 'Ann Marie' agree; 'Ann' and 'Bob' do not."""
    left, right = _name_parts(a), _name_parts(b)
    if not left or not right:
        return True
    for x, y in zip(left, right, strict=False):
        if x == y or (len(x) == 1 and y.startswith(x)) or (len(y) == 1 and x.startswith(y)):
            continue
        return False
    return True


def names_conflict(first_a: str, last_a: str, first_b: str, last_b: str) -> bool:
    """True when both sides give a first (or last) name and those names cannot be one person's."""
    return not (_names_agree(first_a, first_b) and _names_agree(last_a, last_b))


def emails_conflict(ours: Iterable[str], theirs: Iterable[str]) -> bool:
    """True when both sides have e-mail addresses and none is shared."""
    ours, theirs = set(ours), set(theirs)
    return bool(ours and theirs and not ours & theirs)


@dataclass(frozen=True)
class Person:
    """What the identity rules look at, for a newcomer or a stored contact."""

    emails: tuple[str, ...] = ()
    first_name: str = ""
    last_name: str = ""

    @classmethod
    def of(cls, contact: Contact) -> Person:
        return cls(
            tuple(e for e in (contact.email, *(contact.other_emails or ())) if e),
            contact.first_name,
            contact.last_name,
        )


def may_join_by_phone(newcomer: Person, known: Person) -> bool:
    """A shared phone is enough only when nothing else says these are two people."""
    if emails_conflict(newcomer.emails, known.emails):
        return False
    return not names_conflict(newcomer.first_name, newcomer.last_name, known.first_name, known.last_name)


def choose_by_phone(newcomer: Person, known: Sequence[tuple[object, Person]]) -> object | None:
    """The known contact (given as (handle, person), oldest first) that a newcomer sharing its
    phone is, or None when nothing fits. Among several that fit, the one with the newcomer's
    very names and e-mails, else its very names, else the oldest: the choice does not depend on
    the order rows arrive in, so a re-import finds the contact its first import chose."""
    best, best_rank = None, 3
    names = _name_parts(newcomer.first_name), _name_parts(newcomer.last_name)
    for handle, person in known:
        if not may_join_by_phone(newcomer, person):
            continue
        rank = 2
        if (_name_parts(person.first_name), _name_parts(person.last_name)) == names:
            rank = 0 if set(person.emails) == set(newcomer.emails) else 1
        if rank < best_rank:
            best, best_rank = handle, rank
            if rank == 0:
                break
    return best


# -- finding stored contacts -----------------------------------------------------------------------


def ids_by_email(keys: Iterable[str]) -> list[tuple[str, int]]:
    """(e-mail key, contact id) of contacts whose primary or other e-mail is one of ``keys``,
    primary matches first, then by id (the oldest contact wins a shared address)."""
    keys = list(dict.fromkeys(k for k in keys if k))
    if not keys:
        return []
    connection = connections[router.db_for_read(Contact)]
    primary = query_in(
        connection,
        # ``email > ''`` lets both databases use the partial unique index on lower(email).
        "SELECT lower(email), id FROM contacts_contact WHERE email > '' AND lower(email) {IN}",
        keys,
    )
    if connection.vendor == "postgresql":
        other_sql = (
            "SELECT e.value, c.id FROM contacts_contact c "
            "CROSS JOIN LATERAL jsonb_array_elements_text(c.other_emails) AS e(value) "
            "WHERE c.other_emails <> '[]'::jsonb AND c.other_emails ?| %s::text[] AND e.value {IN}"
        )
    else:
        other_sql = (
            "SELECT e.value, c.id FROM contacts_contact c, json_each(c.other_emails) AS e "
            "WHERE c.other_emails <> '[]' AND e.value {IN}"
        )
    others = query_in(connection, other_sql, keys, pg_prefix=[keys])
    primary.sort(key=lambda pair: pair[1])
    others.sort(key=lambda pair: pair[1])
    return primary + others


def query_in(connection, sql: str, values: list, pg_prefix: list | None = None) -> list[tuple]:
    """Run ``sql`` with ``{IN}`` standing for a membership test of ``values``, passed as one
    parameter: an array on PostgreSQL, a JSON array read by ``json_each`` on SQLite. One query a
    batch, not one per chunk of 900 values: the other-e-mail test reads every contact that has
    other e-mails, so chunks would read them again and again."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(sql.replace("{IN}", "= ANY(%s)"), [*(pg_prefix or []), values])
        else:
            cursor.execute(sql.replace("{IN}", "IN (SELECT value FROM json_each(%s))"), [json.dumps(values)])
        return list(cursor.fetchall())


def find_contact(
    *, email: str = "", phone: str = "", first_name: str = "", last_name: str = "", external_id: str = ""
) -> tuple[Contact | None, str]:
    """The stored contact a newcomer with these identities is, and the reason ('' when none):
    the API, lead forms and inbound e-mail use this; the importer applies the same rules in bulk."""
    contacts = Contact.objects.select_related("company").order_by("id")
    if external_id and (found := contacts.filter(external_id=external_id).first()):
        return found, EXTERNAL_ID
    key = email_key(email) if email else ""
    if key and (pairs := ids_by_email([key])):
        return contacts.get(pk=pairs[0][1]), EMAIL
    if phone:
        newcomer = Person((key,) if key else (), first_name, last_name)
        sharers = [(c, Person.of(c)) for c in contacts.filter(phone=phone)[:100]]
        chosen = choose_by_phone(newcomer, sharers)
        if chosen is not None:
            return chosen, PHONE  # type: ignore[return-value]
    return None, ""
