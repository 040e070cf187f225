"""`solocrm search`: global search from the command line, and the index's upkeep."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from solocrm.contacts.models import Company, Contact
from solocrm.lib import search_index
from solocrm.lib.business import business_settings
from solocrm.lib.search import search

SEARCHABLE = (Company, Contact)  # companies first: a contact's text holds its company's name


class Command(BaseCommand):
    help = (
        "Search contacts, companies, deals, quotes, orders and tasks (as the web's palette does), "
        "or check and rebuild the search index."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("query", nargs="?", help="What to look for")
        parser.add_argument("--limit", type=int, default=10, help="At most this many results of each kind")
        parser.add_argument("--json", action="store_true", help="One JSON object per line")
        parser.add_argument("--check", action="store_true", help="Say whether the index is complete")
        parser.add_argument(
            "--reindex", action="store_true", help="Recreate the index and recompute every search text"
        )

    def handle(self, *args, **options) -> None:
        if options["check"] or options["reindex"]:
            self._upkeep(options["reindex"])
            return
        if not options["query"]:
            raise CommandError("Give a query, --check or --reindex.")
        # The command line acts as the owner: whoever can run it can read the database anyway.
        owner = get_user_model().objects.filter(is_superuser=True).first()
        if owner is None:  # search() shows nothing to someone without a role
            raise CommandError("Create the owner first (solocrm createuser).")
        _query, results = search(
            options["query"], owner, limit=options["limit"], region=business_settings().phone_region
        )
        for result in results:
            if options["json"]:
                row = {"kind": result.kind, "title": result.title, "subtitle": result.subtitle}
                row |= {"url": result.url, "uuid": result.uuid, "score": result.score}
                self.stdout.write(json.dumps(row, ensure_ascii=False))
            else:
                self.stdout.write(f"{result.kind_label:10} {result.title}  {result.subtitle}  {result.url}")

    def _upkeep(self, rebuild: bool) -> None:
        missing = False
        for model in SEARCHABLE:
            table = model._meta.db_table
            absent = search_index.check_installed(model)
            if rebuild:
                # The index first (idempotent; SQLite re-reads the table), then the texts, which
                # it follows from then on (PostgreSQL cannot build an index after the updates
                # in the same transaction).
                search_index.install(connection, table)
                written = search_index.refresh(model.search_queryset())
                self.stdout.write(f"{table}: {written} search texts rewritten, index rebuilt")
            elif absent:
                missing = True
                self.stdout.write(f"{table}: missing {', '.join(absent)} (run solocrm search --reindex)")
            else:
                self.stdout.write(f"{table}: index complete")
        if missing:
            raise CommandError("The search index is incomplete.")
