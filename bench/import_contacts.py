"""Benchmark: import a generated contacts CSV into a fresh database.

    python bench/import_contacts.py --rows 100000 [--database sqlite|postgres] [--keep]

Prints one JSON line: rows/s of the import, rows/s of a raw ``executemany`` of the rows the import
wrote into the same table, commit included, measured in the same run (the baseline), their ratio
(and the earlier synthetic baseline's; on PostgreSQL also a raw COPY of the same rows), rejected
rows (1% of the file is bad on purpose), what a re-import of the same file created (must be 0),
and the peak RSS of the import. The file is realistic: people share office switchboard numbers
(30 per number) and companies, some give two e-mails or none (see ``generate``). The budget
(docs/benchmarks.md): >= 50,000 rows/s on SQLite and >= 30% of the baseline."""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
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
    "小明",
    "娜",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Pauling",
    "Lamarr",
    "Johnson",
    "Franklin",
    "Planck",
    "Curie",
    "王",
    "李",
]
CITIES = ["London", "Berlin", "Paris", "New York", "Shanghai", "Austin", "Lyon", "Leeds"]
TAGS = ["vip", "newsletter", "b2b", "fair-2024", "wholesale", "friend", "press", "partner"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """A realistic contacts CSV written row by row: names, e-mail, phone in several spellings,
    company, city, tags. Like a real customer list, people share things: a third of the rows
    work at an office whose switchboard number 30 colleagues share (each with their own name
    and e-mail: they must stay 30 contacts); companies are shared by many rows; 5% of rows give
    a second e-mail, 3% no e-mail at all (phone only); every 100th row has a broken e-mail."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        header = ["First Name", "Last Name", "E-mail", "E-mail 2", "Phone", "Company", "City", "Tags"]
        out.writerow([*header, "Newsletter"])
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"person{i}@example.com" if i % 100 != 99 else f"person{i}-at-example.com"
            if i % 100 in (13, 47, 81):  # phone only
                email = ""
            second = f"p{i}.home@mail.example" if i % 20 == 5 else ""
            area, line = 200 + i % 700, i % 10_000_000
            if i % 3 == 0:  # an office: 30 colleagues share its switchboard number and its name
                office = i // 90
                phone, company = f"+1303{office:07d}", f"Office {office}"
            else:
                phone = (
                    f"({area}) {line // 10000 % 1000:03d}-{line % 10000:04d}"
                    if i % 2
                    else f"+1{area}{line:07d}"
                )
                company = f"Company {rng.randrange(2000)}" if i % 3 == 1 else ""
            tags = ", ".join(rng.sample(TAGS, rng.randrange(3)))
            newsletter = "yes" if i % 4 == 0 else ""
            out.writerow([first, last, email, second, phone, company, rng.choice(CITIES), tags, newsletter])


def setup_django(database: str, data_dir: Path, pg_name: str = "solocrm_bench") -> None:
    """A fresh database: SQLite in ``data_dir``, or the PostgreSQL database ``pg_name``, dropped
    and created again (so give it a name of its own)."""
    os.environ["SOLOCRM_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    if database == "postgres":
        import psycopg
        from psycopg import sql

        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(pg_name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(pg_name)))
        os.environ["DATABASE_URL"] = f"{POSTGRES_SERVER}/{pg_name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solocrm.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed_import(path: Path) -> tuple[float, object]:
    from solocrm.contacts.importing import run_import

    started = time.perf_counter()
    report = run_import("contacts", path)
    return time.perf_counter() - started, report


def clear_contacts() -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("contacts_interaction", "contacts_contact_tags", "contacts_contact"):
            cursor.execute(f"DELETE FROM {table}")


def imported_rows() -> list[tuple]:
    """The rows the import wrote, as the driver returns them (the INSERTED columns, no id)."""
    from django.db import connection

    from solocrm.contacts.importing.contacts import INSERTED

    columns = ", ".join(connection.ops.quote_name(c) for c in INSERTED)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM contacts_contact ORDER BY id")
        return cursor.fetchall()


def insert_sql() -> str:
    from django.db import connection

    from solocrm.contacts.importing.contacts import INSERTED

    columns = ", ".join(connection.ops.quote_name(c) for c in INSERTED)
    marks = ", ".join(["?" if connection.vendor == "sqlite" else "%s"] * len(INSERTED))
    return f"INSERT INTO contacts_contact ({columns}) VALUES ({marks})"


def baseline(rows: list[tuple]) -> float:
    """Seconds to insert the very rows the import wrote (read back before they were deleted) with
    the driver's executemany, in one transaction, commit included: the same data, so the same
    index work (random phone and uuid keys, company links) as the import had to do."""
    from django.db import connection, transaction

    sql = insert_sql()
    began = time.perf_counter()
    with transaction.atomic():
        connection.connection.cursor().executemany(sql, rows)
    return time.perf_counter() - began


def copy_baseline(rows: list[tuple]) -> float:
    """PostgreSQL: seconds to COPY the very rows the import wrote, commit included — the raw
    figure the import (which writes new contacts with COPY) is compared with there."""
    from django.db import connection, transaction

    from solocrm.contacts.importing.contacts import INSERTED

    columns = ", ".join(connection.ops.quote_name(c) for c in INSERTED)
    began = time.perf_counter()
    sql = f"COPY contacts_contact ({columns}) FROM STDIN"
    with transaction.atomic(), connection.connection.cursor().copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
    return time.perf_counter() - began


def synthetic_baseline(rows: int, chunk: int = 20_000) -> float:
    """The earlier baseline, kept for comparison with older results: made-up rows with ascending
    phone numbers and no company (easier on the indexes than the file's rows), executemany only,
    commit not timed."""
    from django.db import connection, transaction
    from django.utils import timezone

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    native_uuid = connection.features.has_native_uuid_field
    empty = "[]" if connection.vendor == "sqlite" else json.dumps([])
    sql = insert_sql()
    elapsed = 0.0
    with transaction.atomic():
        raw = connection.connection.cursor()
        for start in range(0, rows, chunk):
            part = []
            for i in range(start, min(rows, start + chunk)):
                key = uuid.uuid4()
                # the SCALARS in order: …, notes, external_id, phone_extension, photo
                names = ("Ada", "Lovelace", "", "", "London", "", "", "", None, "", "", "lead", *[""] * 4)
                contact = (f"base{i}@example.com", f"+1202{i:07d}", empty, empty, None, False, None, "", "{}")
                contact += (f"  ada  lovelace  base{i}@example.com  example.com  1202{i:07d}",)  # search_text
                part.append((key if native_uuid else key.hex, now, now, *names, *contact))
            began = time.perf_counter()
            raw.executemany(sql, part)
            elapsed += time.perf_counter() - began
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (CSV, database)")
    parser.add_argument("--pg-name", default="solocrm_bench", help="PostgreSQL database to drop and create")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="solocrm-bench-"))
    try:
        csv_path = work / "contacts.csv"
        generate(csv_path, args.rows)
        setup_django(args.database, work / "data", args.pg_name)
        seconds, report = timed_import(csv_path)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        again_seconds, again = timed_import(csv_path)
        written = imported_rows()
        clear_contacts()
        base_seconds = baseline(written)
        clear_contacts()
        copy_seconds = copy_baseline(written) if args.database == "postgres" else None
        if copy_seconds is not None:
            clear_contacts()
        synthetic_rate = args.rows / synthetic_baseline(args.rows)
        import_rate, base_rate = args.rows / seconds, len(written) / base_seconds
        # ratio of times for the same written rows: the import gets no credit for the 1% it rejects
        print(json.dumps({
            "rows": args.rows, "database": args.database, "import_rows_per_s": round(import_rate),
            "baseline_rows_per_s": round(base_rate), "ratio": round(base_seconds / seconds, 3),
            "copy_baseline_rows_per_s": round(len(written) / copy_seconds) if copy_seconds else None,
            "copy_ratio": round(copy_seconds / seconds, 3) if copy_seconds else None,
            "synthetic_baseline_rows_per_s": round(synthetic_rate),
            "synthetic_ratio": round(import_rate / synthetic_rate, 3),
            "rejected": report.rejected, "created": report.created, "reimport_created": again.created,
            "reimport_updated": again.updated, "reimport_rows_per_s": round(args.rows / again_seconds),
            "peak_rss_mb": round(peak_mb, 1), "file_mb": round(csv_path.stat().st_size / 2**20, 1),
        }))  # fmt: skip
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
