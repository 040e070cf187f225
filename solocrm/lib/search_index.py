"""The database's own index over ``search_text`` (lib.search), on SQLite and PostgreSQL.

- SQLite: an FTS5 table with the ``trigram`` tokenizer (SQLite ≥ 3.34) that indexes the
  column of the model's own table ("external content": the text is stored once). FTS5 cannot
  follow a table by itself: three triggers keep it current on insert, update of the column and
  delete — they do for SQLite what PostgreSQL does for any index (docs/decisions.md).
- PostgreSQL: a GIN index with ``gin_trgm_ops`` (pg_trgm), which serves ``LIKE '%…%'``.

Migrations call ``install``/``uninstall`` (through ``operations``). A later migration that
makes Django rebuild the table on SQLite (altering a column) drops the triggers with the old
table: such a migration must end with ``operations(table)`` again; ``check_installed`` (run by the
tests and ``solocrm search --check``) says when they are missing; ``solocrm search --reindex``
puts them back.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connections, migrations, router
from django.db.models import Model, Q
from django.db.models.expressions import RawSQL

from .search import SEP, SearchQuery, Term


def fts_table(table: str) -> str:
    return f"{table}_search"


def _sqlite_statements(table: str) -> list[str]:
    # Table names come from models, never from users; nothing here takes a value.
    fts = fts_table(table)
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS \"{fts}\" USING fts5(search_text, content='{table}', "
        "content_rowid='id', tokenize='trigram')",
        f'CREATE TRIGGER IF NOT EXISTS "{fts}_insert" AFTER INSERT ON "{table}" BEGIN '  # noqa: S608
        f'INSERT INTO "{fts}"(rowid, search_text) VALUES (new.id, new.search_text); END',
        f'CREATE TRIGGER IF NOT EXISTS "{fts}_delete" AFTER DELETE ON "{table}" BEGIN '  # noqa: S608
        f'INSERT INTO "{fts}"("{fts}", rowid, search_text) VALUES (\'delete\', old.id, old.search_text); END',
        f'CREATE TRIGGER IF NOT EXISTS "{fts}_update" AFTER UPDATE OF search_text ON "{table}" BEGIN '  # noqa: S608
        f'INSERT INTO "{fts}"("{fts}", rowid, search_text) VALUES (\'delete\', old.id, old.search_text); '
        f'INSERT INTO "{fts}"(rowid, search_text) VALUES (new.id, new.search_text); END',
        # Read the table once more, whatever the index held before.
        f'INSERT INTO "{fts}"("{fts}") VALUES (\'rebuild\')',  # noqa: S608
    ]


def install(connection, table: str) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for sql in _sqlite_statements(table):
                cursor.execute(sql)
        elif connection.vendor == "postgresql":
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            index = f'"{table}_search_trgm" ON "{table}"'
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {index} USING gin (search_text gin_trgm_ops)")


def uninstall(connection, table: str) -> None:
    fts = fts_table(table)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for suffix in ("insert", "delete", "update"):
                cursor.execute(f'DROP TRIGGER IF EXISTS "{fts}_{suffix}"')
            cursor.execute(f'DROP TABLE IF EXISTS "{fts}"')
        elif connection.vendor == "postgresql":
            cursor.execute(f'DROP INDEX IF EXISTS "{table}_search_trgm"')


def operations(table: str) -> migrations.RunPython:
    """The migration operation that creates (and on the way back drops) the index of ``table``."""

    def forwards(apps, schema_editor):
        install(schema_editor.connection, table)

    def backwards(apps, schema_editor):
        uninstall(schema_editor.connection, table)

    return migrations.RunPython(forwards, backwards, elidable=False)


def check_installed(model: type[Model]) -> list[str]:
    """What is missing of ``model``'s index (empty when all is there)."""
    connection = connections[router.db_for_read(model)]
    table = model._meta.db_table
    fts = fts_table(table)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE %s", [f"{fts}%"])
            present = {row[0] for row in cursor.fetchall()}
            wanted = [fts, f"{fts}_insert", f"{fts}_delete", f"{fts}_update"]
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
            present = {row[0] for row in cursor.fetchall()}
            wanted = [f"{table}_search_trgm"]
        else:
            return []
    return [name for name in wanted if name not in present]


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _fts_expression(query: SearchQuery) -> str:
    return " AND ".join(
        "(" + " OR ".join(_fts_phrase(text) for text in term.texts) + ")" for term in query.terms
    )


def index_match(model: type[Model], query: SearchQuery) -> Q:
    """The condition "every term of ``query`` is in the record's search text", answered from the
    index: on SQLite one FTS5 MATCH (a subquery of row ids), on PostgreSQL ``LIKE`` conditions
    that the trigram index serves."""
    if not query:
        return Q()
    connection = connections[router.db_for_read(model)]
    if connection.vendor == "sqlite":
        fts = fts_table(model._meta.db_table)
        # The table name comes from the model; the query is a parameter.
        sql = f'SELECT rowid FROM "{fts}" WHERE "{fts}" MATCH %s'  # noqa: S608
        return Q(pk__in=RawSQL(sql, [_fts_expression(query)]))  # noqa: S611 - the text is a parameter
    found = Q()
    for term in query.terms:
        any_text = Q()
        for text in term.texts:
            any_text |= Q(search_text__contains=text)
        found &= any_text
    return found


def _limited(model: type[Model], query: SearchQuery, limit: int) -> Q:
    """``index_match`` for a query whose caller reads at most ``limit`` rows."""
    connection = connections[router.db_for_read(model)]
    if connection.vendor == "sqlite":
        fts = fts_table(model._meta.db_table)
        # The LIMIT inside: FTS5 stops at it, where a plain IN (…) subquery would first list every
        # match (a third of a million for "a"). The table name comes from the model.
        sql = f'SELECT rowid FROM "{fts}" WHERE "{fts}" MATCH %s LIMIT %s'  # noqa: S608
        return Q(pk__in=RawSQL(sql, [_fts_expression(query), limit]))  # noqa: S611 - parameters
    return index_match(model, query)  # PostgreSQL stops reading at the outer LIMIT


def matching(queryset, query: SearchQuery, limit: int) -> list:
    """Up to ``limit`` records of ``queryset`` that match ``query``, those where every word is
    found at the start of a word first ("ada" finds "Ada Lovelace" before "Canada Goose"): a
    trigram index answers "which", not "best first", so the best are asked for first. One query,
    two when the first finds fewer than ``limit``; no ORDER BY, so the database stops early."""
    if not query:
        return []
    model = queryset.model
    vendor = connections[router.db_for_read(model)].vendor
    at_start = SearchQuery(
        query.text,
        tuple(
            term
            if term.phone or term.texts[0].startswith(SEP) or not _word_start_helps(term.texts[0], vendor)
            else Term(term.typed, (SEP + term.texts[0],))
            for term in query.terms
        ),
    )
    found = list(queryset.filter(_limited(model, at_start, limit)).order_by()[:limit])
    if len(found) < limit and at_start != query:
        seen = {obj.pk for obj in found}
        more = queryset.filter(_limited(model, query, limit + len(seen))).order_by()[: limit + len(seen)]
        found += [obj for obj in more if obj.pk not in seen][: limit - len(found)]
    return found


def _word_start_helps(text: str, vendor: str) -> bool:
    """Whether asking first for ``text`` at the start of a word is cheap enough to be worth it.

    pg_trgm splits the stored text into words at every character that is not a letter or digit,
    so for "gmail.com" or "@web.de" the trigrams of "a word starting with gmail" are in every
    address at gmail.com: the index hands over 120,000 rows at 1M contacts, all of them read and
    rejected (an e-mail address starts after the separator, not its domain), 150-250 ms for
    nothing. Such a fragment goes straight to the substring search. SQLite's FTS5 trigrams keep
    every character, so there the first pass stays exact and cheap."""
    return vendor != "postgresql" or text.replace(" ", "").isalnum()


def write(model: type[Model], rows: Iterable[tuple[str, int]]) -> int:
    """Store (search_text, pk) pairs in one executemany; returns how many were written."""
    rows = list(rows)
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET search_text = %s WHERE id = %s", rows)  # noqa: S608
    return len(rows)


def refresh(queryset, chunk: int = 2000) -> int:
    """Recompute the search text of every record of ``queryset`` (a model's
    ``search_queryset()`` narrowed down), writing only those that changed."""
    model = queryset.model
    written = 0
    last = 0
    while True:
        objects = list(queryset.filter(pk__gt=last).order_by("pk")[:chunk])
        if not objects:
            return written
        last = objects[-1].pk
        written += write(
            model,
            ((text, obj.pk) for obj in objects if (text := obj.search_document()) != obj.search_text),
        )
