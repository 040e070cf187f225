"""Benchmark: global search and the contacts list's search box at 1M contacts.

    python bench/search.py [--rows 1000000] [--database sqlite|postgres] [--pg-name NAME]
                           [--data-dir DIR] [--queries 200] [--reuse]

Fills a database with ``--rows`` realistic contacts (Western and Chinese names, e-mails, phone
numbers of three countries, 2% at one of 20,000 companies…) by bulk SQL: the rows and their
search text are written without the index, which is built once afterwards (as the migration
does). ``--reuse`` keeps a database filled by an earlier run (same ``--data-dir`` or
``--pg-name``) and skips the fill.

Then runs ``--queries`` varied queries (whole names, family names, CJK names with and without a
space, one and two characters, phone numbers typed in local and international formats, parts
of e-mail addresses, company names, words that match nothing) through ``lib.search.search``
(every registered kind, as the palette and /search/ ask) and through the contacts list's filter
(first page + count, as /contacts/?q= does), and prints one JSON line: p50/p95/max in ms of
each, beside a primary-key lookup of a random contact measured in the same run (the baseline).
Budget (docs/benchmarks.md): global search p95 <= 100 ms at 1M contacts."""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from import_contacts import POSTGRES_SERVER  # noqa: E402

FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Hedy",
    "Katherine",
    "Rosalind",
    "Max",
    "Marie",
    "Emmy",
    "Oliver",
    "Amelia",
    "George",
    "Isla",
    "Harry",
    "Sophia",
    "Jack",
    "Emily",
    "Noah",
    "Olivia",
    "Liam",
    "Ava",
    "Lucas",
    "Mia",
    "Ethan",
    "Chloe",
    "Mason",
    "Lily",
    "Logan",
    "Zoe",
    "Elena",
    "Pablo",
    "Lucía",
    "Mateo",
    "Björn",
    "Åsa",
    "Jürgen",
    "Zoë",
    "François",
    "Chloé",
    "Иван",
    "Ольга",
    "Dmitri",
    "Priya",
    "Arjun",
    "Ananya",
    "Kenji",
    "Yuki",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Torvalds",
    "Lamarr",
    "Johnson",
    "Franklin",
    "Planck",
    "Curie",
    "Noether",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Davies",
    "Evans",
    "Thomas",
    "Roberts",
    "Walker",
    "Wright",
    "Robinson",
    "Thompson",
    "White",
    "Hughes",
    "Müller",
    "Schmidt",
    "Schneider",
    "García",
    "Martínez",
    "López",
    "Dubois",
    "Lefèvre",
    "Rossi",
    "Bianchi",
    "Петров",
    "Иванова",
    "Sharma",
    "Patel",
    "Tanaka",
    "Suzuki",
    "Nakamura",
    "Okafor",
    "Mensah",
    "Kowalski",
    "Nowak",
    "Jensen",
    "Nielsen",
    "Virtanen",
]
CJK_FAMILY = [
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "高",
    "林",
    "罗",
    "欧阳",
    "司马",
]
CJK_GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "小明",
    "建华",
    "志强",
]
SYLLABLES = [
    "ka",
    "ri",
    "mo",
    "ne",
    "sa",
    "lu",
    "ta",
    "vi",
    "ro",
    "den",
    "bel",
    "mar",
    "tin",
    "son",
    "ley",
    "ford",
    "ham",
    "wick",
    "ston",
    "ber",
    "gar",
]
DOMAINS = [
    "gmail.com",
    "outlook.com",
    "example.com",
    "mail.example",
    "yahoo.co.uk",
    "qq.com",
    "163.com",
    "web.de",
]
COMPANIES = 20_000


def person(rng: random.Random, i: int) -> dict:
    """One contact: a quarter with a Chinese name, some with a made-up rare family name."""
    if i % 4 == 0:
        first, last = rng.choice(CJK_GIVEN), rng.choice(CJK_FAMILY)
        local = f"user{i}"
    else:
        first = rng.choice(FIRST)
        last = rng.choice(LAST) if i % 5 else "".join(rng.sample(SYLLABLES, 3)).capitalize()
        local = f"{first.lower()}.{last.lower()}{i}" if first.isascii() and last.isascii() else f"u{i}"
    email = f"{local}@{rng.choice(DOMAINS)}" if i % 30 != 7 else ""
    country = i % 3
    if country == 0:
        phone = f"+447{rng.randrange(100_000_000, 999_999_999)}"  # UK mobile
    elif country == 1:
        phone = f"+1{rng.randrange(201, 990)}{rng.randrange(2_000_000, 9_999_999)}"  # NANP
    else:
        phone = f"+861{rng.randrange(3, 9)}{rng.randrange(100_000_000, 999_999_999)}"  # China mobile
    company = rng.randrange(COMPANIES) + 1 if i % 50 == 0 else None
    return {"first_name": first, "last_name": last, "email": email, "phone": phone, "company_id": company}


def setup_django(database: str, data_dir: Path, pg_name: str, reuse: bool) -> None:
    os.environ["SOLOCRM_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    if database == "postgres":
        import psycopg
        from psycopg import sql

        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [pg_name]).fetchone()
            if not (reuse and exists):
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(pg_name))
                )
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(pg_name)))
        os.environ["DATABASE_URL"] = f"{POSTGRES_SERVER}/{pg_name}"
    elif not reuse:
        for name in ("solocrm.sqlite3", "solocrm.sqlite3-wal", "solocrm.sqlite3-shm"):
            (data_dir / name).unlink(missing_ok=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solocrm.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(rows: int, seed: int = 11) -> float:
    """Write ``rows`` contacts and the companies by bulk SQL, then build the search index once."""
    from django.db import connection, transaction
    from django.utils import timezone

    from solocrm.contacts.importing.base import RawInserter
    from solocrm.contacts.importing.contacts import INSERTED
    from solocrm.contacts.models import Company, Contact, contact_search_text
    from solocrm.lib import search_index
    from solocrm.lib.search import search_text

    began = time.perf_counter()
    rng = random.Random(seed)
    for table in ("contacts_contact", "contacts_company"):
        search_index.uninstall(connection, table)  # filled first, indexed once
    from solocrm.contacts.importing.contacts import COMPANY_INSERTED

    companies = RawInserter(Company, list(COMPANY_INSERTED))
    contacts = RawInserter(Contact, list(INSERTED))
    now = contacts.prep("created_at", timezone.now())
    empty_list, empty_dict = contacts.prep("other_emails", []), contacts.prep("custom_fields", {})
    blank = {name: "" for name in INSERTED}
    blank.update(birthday=None, lifecycle_stage="customer", email_consent=False, email_consent_at=None)
    blank.update(other_emails=empty_list, other_phones=empty_list, custom_fields=empty_dict)
    kinds = ["Ltd", "GmbH", "Studio", "Labs"]
    names = [f"{''.join(rng.sample(SYLLABLES, 2)).title()} {rng.choice(kinds)}" for _ in range(COMPANIES)]
    with transaction.atomic():
        keys = companies.new_uuids(COMPANIES)
        blanks = ("",) * (len(COMPANY_INSERTED) - 6)  # street … external_id
        companies.insert(
            [(k, now, now, n, *blanks, empty_dict, search_text(n)) for k, n in zip(keys, names, strict=True)]
        )
    first_company = Company.objects.order_by("id").values_list("id", flat=True).first()
    chunk = 20_000
    for start in range(0, rows, chunk):
        count = min(chunk, rows - start)
        batch = []
        for key, i in zip(contacts.new_uuids(count), range(start, start + count), strict=True):
            row = dict(blank, uuid=key, created_at=now, updated_at=now, **person(rng, i))
            company = row["company_id"]
            row["company_id"] = company and first_company + company - 1
            company_name = names[company - 1] if company else ""
            row["search_text"] = contact_search_text(
                row["first_name"], row["last_name"], row["email"], (), row["phone"], (), company_name
            )
            batch.append(tuple(row[name] for name in INSERTED))
        with transaction.atomic():
            contacts.insert(batch)
        print(f"filled {start + count:,}", file=sys.stderr, end="\r")
    for table in ("contacts_company", "contacts_contact"):
        search_index.install(connection, table)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the planners' statistics, as after any big load
    print(file=sys.stderr)
    return time.perf_counter() - began


def national(e164: str) -> list[str]:
    """The ways people type a stored number: local with spaces, international with spaces or
    dashes, 00 instead of +, and a part of it."""
    import phonenumbers

    number = phonenumbers.parse(e164)
    local = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    world = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return [local, world, "00" + world[1:].replace(" ", "-"), e164[-7:]]


def queries(count: int, seed: int = 5) -> list[tuple[str, str]]:
    """(kind, text) pairs drawn from stored contacts, so most find something."""
    from solocrm.contacts.models import Contact

    rng = random.Random(seed)
    top = Contact.objects.order_by("-id").values_list("id", flat=True).first() or 1
    sample = []
    while len(sample) < count:
        pk = rng.randrange(1, top + 1)
        row = Contact.objects.filter(pk=pk).values("first_name", "last_name", "email", "phone").first()
        if row:
            sample.append(row)
    made: list[tuple[str, str]] = []
    for i, row in enumerate(sample):
        first, last, email, phone = row["first_name"], row["last_name"], row["email"], row["phone"]
        cjk = not last.isascii()
        kind = i % 10
        if kind == 0:
            made.append(("full name", f"{last}{first}" if cjk else f"{first} {last}"))
        elif kind == 1:
            made.append(("cjk name", rng.choice(["张伟", "张 伟", "王小明", "欧阳娜", "李秀英"])))
        elif kind == 2:
            made.append(("family name", last))
        elif kind == 3:
            made.append(("phone", rng.choice(national(phone))))
        elif kind == 4:
            made.append(("e-mail part", email.split("@")[0][-9:] if email else "gmail.com"))
        elif kind == 5:
            made.append(("e-mail domain", email.split("@")[1] if email else "qq.com"))
        elif kind == 6:
            made.append(("1-2 characters", rng.choice([first[:1], last[:2], "张", "欧阳", "a", "ma"])))
        elif kind == 7:
            made.append(("name + phone part", f"{first} {phone[-6:]}"))
        elif kind == 8:
            made.append(("no match", rng.choice(["zzqxv", "nobody@nowhere.invalid", "07000 000000", "ÿþ"])))
        else:
            made.append(("prefix", (last if rng.random() < 0.5 else first)[:3]))
    return made


def timed(func, repeat: int = 1) -> float:
    began = time.perf_counter()
    for _ in range(repeat):
        func()
    return (time.perf_counter() - began) * 1000 / repeat


def summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
        "max_ms": round(ordered[-1], 2),
    }


def run(args) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from solocrm.contacts.filters import ContactFilter
    from solocrm.contacts.models import Contact
    from solocrm.lib.search import search

    user = get_user_model().objects.filter(is_superuser=True).first()
    if user is None:
        user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-pass-123")
    region = settings.SOLOCRM_PHONE_REGION or "GB"
    cases = queries(args.queries)
    top = Contact.objects.order_by("-id").values_list("id", flat=True).first()
    rng = random.Random(3)

    def pk_lookup():
        Contact.objects.filter(pk=rng.randrange(1, top + 1)).first()

    def list_search(text):
        qs = ContactFilter.model_validate({"q": text}).apply(Contact.objects.select_related("company"))
        list(qs[:25])
        qs.count()

    for _kind, text in cases[:10]:  # warm the caches the way a running server has them warm
        search(text, user, region=region)
    # Two passes: global search beside the baseline, then the list (whose one- and two-letter
    # scans would otherwise evict the caches global search runs with).
    base, found, per_kind, empty = [], [], {}, 0
    for kind, text in cases:
        base.append(timed(pk_lookup))
        began = time.perf_counter()
        _query, results = search(text, user, region=region, limit=8)
        elapsed = (time.perf_counter() - began) * 1000
        found.append(elapsed)
        per_kind.setdefault(kind, []).append(elapsed)
        empty += kind != "no match" and not results
    listed, list_kind = [], {}
    if not args.skip_list:
        for kind, text in cases:
            elapsed = timed(lambda text=text: list_search(text))
            listed.append(elapsed)
            list_kind.setdefault(kind, []).append(elapsed)
    return {
        "database": connection.vendor,
        "contacts": Contact.objects.count(),
        "queries": len(cases),
        "search": summary(found),
        "baseline_pk_lookup": summary(base),
        "search_p95_by_kind_ms": {kind: summary(times)["p95_ms"] for kind, times in per_kind.items()},
        "queries_finding_nothing": empty,
        "contacts_list_search": summary(listed) if listed else None,
        "list_p95_by_kind_ms": {kind: summary(times)["p95_ms"] for kind, times in list_kind.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--pg-name", default="solocrm_bench_search", help="PostgreSQL database (dropped unless --reuse)"
    )
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "solocrm-bench-search")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="keep an already filled database")
    parser.add_argument("--skip-list", action="store_true", help="time global search only")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    setup_django(args.database, args.data_dir, args.pg_name, args.reuse)
    from solocrm.contacts.models import Contact

    fill_seconds = None
    if not (args.reuse and Contact.objects.count() >= args.rows):
        fill_seconds = round(fill(args.rows), 1)
    result = run(args)
    result["fill_seconds"] = fill_seconds
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
