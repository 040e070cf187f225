"""Benchmark: `solocrm analytics refresh` end to end (database → every model → scores written).

    python bench/analytics_refresh.py --customers 100000 [--orders 1000000] [--database sqlite|postgres]

Fills a fresh database with generated contacts and orders (buy-till-you-die behaviour: gamma
purchase rates, beta drop-out, seasonal months; order lines with products in the last year; some
survey answers), then times ``services.refresh()``. The baseline, measured in the same run, is the
least any refresh must do: one ``GROUP BY contact`` over the paid orders plus rewriting one score
row per contact. Prints one JSON line with both, the per-step seconds, the refresh's own CPU
seconds (on SQLite all of the work) and, on PostgreSQL, the CPU seconds of its server process
(read from /proc: the server must run on this machine), the 1-minute load average before and
after (other work on the machine slows the wall clock) and the peak RSS. Budget (issue 10):
100k customers / 1M orders <= 15 s, 1M / 10M <= 120 s and <= 2.5 GB.

    --dir DIR --fill-only      fill a kept directory (and --postgres-name database) once
    --reuse DIR                refresh the data kept there, in a process that only refreshes
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
END = date(2026, 6, 30)
YEARS = 3
SEASON = np.array([0.85, 0.8, 0.95, 1.0, 1.0, 0.7, 0.65, 0.7, 1.0, 1.1, 1.6, 1.9])
CHANNELS = ["organic", "referral", "paid", "social", "email", "event", "direct", "marketplace"]


def setup_django(database: str, data_dir: Path, fresh: bool = True, name: str = "solocrm_bench") -> None:
    """Django on SQLite in ``data_dir`` or on the PostgreSQL database ``name`` (a fresh one
    unless reusing: several engineers share the server, so each picks their own name)."""
    os.environ["SOLOCRM_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    if database == "postgres" and fresh:
        import psycopg

        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    if database == "postgres":
        os.environ["DATABASE_URL"] = f"{POSTGRES_SERVER}/{name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solocrm.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class Writer:
    """Raw inserts of whole columns: a template row from a model instance (every NOT NULL column
    gets its default) with the varying columns replaced. executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, model, columns: list[str]) -> None:
        from django.db import connection

        self.connection, self.model, self.columns = connection, model, columns
        fields = [f for f in model._meta.concrete_fields if not f.primary_key or f.attname in columns]
        sample = model()
        self.fields = fields
        self.template = [f.get_db_prep_save(f.pre_save(sample, True), connection) for f in fields]
        self.positions = [next(i for i, f in enumerate(fields) if f.attname == c) for c in columns]

    def write(self, values: list[list]) -> None:
        quote = self.connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        names = ", ".join(quote(f.column) for f in self.fields)
        rows = []
        for row_values in zip(*values, strict=True):
            row = list(self.template)
            for position, value in zip(self.positions, row_values, strict=True):
                row[position] = value
            rows.append(row)
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.fields))
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def _uuids(n: int, rng: np.random.Generator, native: bool) -> list:
    raw = rng.bytes(16 * n)
    keys = [uuid.UUID(bytes=raw[i : i + 16], version=4) for i in range(0, 16 * n, 16)]
    return keys if native else [k.hex for k in keys]


def _stamp(seconds: np.ndarray, native: bool) -> list:
    base = datetime(1970, 1, 1, tzinfo=UTC)
    moments = [base + timedelta(seconds=int(s)) for s in seconds]
    return moments if native else [m.strftime("%Y-%m-%d %H:%M:%S") for m in moments]


def purchase_times(customers: int, orders: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Scale the purchase intensity (a few regenerations, same seed) until the number of orders
    comes within 3 % of ``orders``: drop-out, the end of the window and the season thin the
    process, so the intensity that gives a total is not known in advance."""
    intensity = 1.0
    for _ in range(12):
        who, moments = _purchase_times(customers, orders, np.random.default_rng(seed), intensity)
        ratio = orders / max(len(who), 1)
        if abs(ratio - 1) < 0.03:
            break
        intensity *= ratio**1.5
    return who, moments


def _purchase_times(
    customers: int, orders: float, rng: np.random.Generator, intensity: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """(customer index, epoch seconds) of every order: each customer buys at a gamma rate while
    alive and leaves after each purchase with a beta probability; months are thinned by SEASON."""
    end = datetime(END.year, END.month, END.day, tzinfo=UTC).timestamp()
    start = end - YEARS * 365 * 86400
    first = rng.uniform(start, end, customers)
    rate = rng.gamma(0.6, 1.0, customers)  # relative purchase rate
    dropout = rng.beta(0.5, 3.0, customers)
    counts = 1 + np.minimum(rng.geometric(np.clip(dropout / intensity, 0.002, 1.0)) - 1, 2000)
    scale = intensity * (orders - customers) / max(float((rate * (counts - 1)).sum()), 1.0)
    gaps_mean = 86400 * 365 / np.maximum(rate * 12 * scale, 1e-3)
    who = np.repeat(np.arange(customers), counts)
    gap = rng.exponential(1.0, len(who)) * np.repeat(gaps_mean, counts)
    gap[np.r_[0, np.cumsum(counts)[:-1]]] = 0.0
    moment = np.repeat(first, counts) + _within_customer_cumsum(gap, counts)
    keep = moment < end
    months = ((moment[keep] - start) // (30.44 * 86400)).astype(int) % 12
    keep_season = rng.random(keep.sum()) < SEASON[months] / SEASON.max()
    return who[keep][keep_season], moment[keep][keep_season]


def _within_customer_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    total = np.cumsum(values)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    before = np.repeat(total[starts] - values[starts], counts)
    return total - before


def fill(customers: int, orders: int, seed: int = 11) -> dict[str, int]:
    from django.conf import settings
    from django.db import connection, transaction

    from solocrm.contacts.models import Contact, Interaction
    from solocrm.sales.models import Order, OrderLine, Product

    rng = np.random.default_rng(seed)
    native = connection.vendor == "postgresql"
    now_epoch = datetime(END.year, END.month, END.day, tzinfo=UTC).timestamp()
    products = [Product(name=f"Product {i}", sku=f"P{i:03d}", price=10 + 7 * i) for i in range(40)]
    Product.objects.bulk_create(products)
    product_ids = np.array([p.pk for p in products])
    who, moments = purchase_times(customers, orders, seed)
    created = np.minimum(
        rng.uniform(now_epoch - YEARS * 365 * 86400, now_epoch, customers), now_epoch - 86400
    )
    first_buy = np.full(customers, np.inf)
    np.minimum.at(first_buy, who, moments)
    created = np.where(np.isfinite(first_buy), np.minimum(created, first_buy - 3600), created)
    with transaction.atomic():
        Writer(Contact, ["uuid", "first_name", "email", "channel", "created_at", "updated_at"]).write([
            _uuids(customers, rng, native), [f"Customer {i}" for i in range(customers)],
            [f"c{i}@example.com" for i in range(customers)],
            [CHANNELS[i] for i in rng.integers(0, len(CHANNELS), customers)],
            _stamp(created, native), _stamp(created, native),
        ])  # fmt: skip
    contact_ids = np.array(Contact.objects.order_by("id").values_list("id", flat=True))
    spender = rng.gamma(3.0, 0.34, customers)  # spend per order varies by customer (Gamma-Gamma)
    totals = np.round(rng.gamma(4.0, 12.0, len(who)) * spender[who], 2)
    batch = 500_000
    for start in range(0, len(who), batch):
        part = slice(start, start + batch)
        n = len(who[part])
        with transaction.atomic():
            Writer(Order, ["uuid", "contact_id", "status", "currency", "total", "ordered_at", "created_at",
                           "updated_at"]).write([
                _uuids(n, rng, native), contact_ids[who[part]].tolist(), ["paid"] * n,
                [settings.SOLOCRM_CURRENCY] * n, [str(t) for t in totals[part]],
                _stamp(moments[part], native), _stamp(moments[part], native), _stamp(moments[part], native),
            ])  # fmt: skip
    recent = Order.objects.filter(ordered_at__gte=datetime(END.year - 1, END.month, END.day, tzinfo=UTC))
    order_ids = np.array(recent.values_list("id", flat=True))
    item = rng.integers(0, 40, len(order_ids))
    companion = (item + 1) % 40
    both = rng.random(len(order_ids)) < 0.4
    line_orders = np.r_[order_ids, order_ids[both]]
    line_products = np.r_[product_ids[item], product_ids[companion[both]]]
    with transaction.atomic():
        names = [f"Product {p}" for p in np.r_[item, companion[both]]]
        Writer(OrderLine, ["order_id", "product_id", "name", "total"]).write(
            [line_orders.tolist(), line_products.tolist(), names, ["10.00"] * len(line_orders)]
        )
    answered = rng.choice(customers, size=customers // 10, replace=False)
    when = _stamp(np.maximum(created[answered], now_epoch - 300 * 86400) + 86400, native)
    with transaction.atomic():
        columns = ["uuid", "kind", "contact_id", "occurred_at", "created_at", "updated_at", "data"]
        Writer(Interaction, columns).write([
            _uuids(len(answered), rng, native), ["survey"] * len(answered), contact_ids[answered].tolist(),
            when, when, when,
            [json.dumps({"metric": "nps", "score": int(s)}) for s in rng.integers(0, 11, len(answered))],
        ])  # fmt: skip
    if native:
        # What the import does after a large load (runner.refresh_statistics) and autovacuum would
        # do soon after: without statistics the planner takes million-row tables for empty ones.
        from solocrm.contacts.importing.runner import refresh_statistics

        refresh_statistics((Contact, Order, OrderLine, Interaction), len(who))
    return {
        "contacts": customers,
        "orders": len(who),
        "order_lines": len(line_orders),
        "surveys": len(answered),
    }


def baseline() -> float:
    """One GROUP BY over the paid orders and one score row per contact rewritten: the floor."""
    from django.db import connection, transaction

    from solocrm.analytics.models import CustomerScore

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contact_id, COUNT(*), SUM(total), MIN(ordered_at), MAX(ordered_at) FROM sales_order "
            "WHERE status = 'paid' GROUP BY contact_id"
        )
        rows = cursor.fetchall()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CustomerScore._meta.db_table}")
        now = datetime.now(UTC) if connection.vendor == "postgresql" else datetime.now(UTC).isoformat(" ")
        cursor.executemany(
            f"INSERT INTO {CustomerScore._meta.db_table} (contact_id, computed_at, orders, frequency, "
            "recency_days, tenure_days, total_spend, average_order_value, rfm_segment, next_product_name) "
            "VALUES (%s, %s, %s, 0, 0, 0, %s, 0, '', '')",
            [(r[0], now, r[1], r[2]) for r in rows if r[0] is not None],
        )
    return time.perf_counter() - began


def server_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend process, read from /proc
    (the server runs on this machine): with the refresh's own CPU time, the work done whatever
    else the cores are doing. None on SQLite (all the work is in this process) or elsewhere."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, help="about how many orders (default 10 per customer)")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (and database)")
    parser.add_argument("--postgres-name", default="solocrm_bench", help="the PostgreSQL database to use")
    parser.add_argument("--dir", type=Path, help="fill into this directory (kept) instead of a temporary one")
    parser.add_argument("--fill-only", action="store_true", help="fill and keep the data, do not refresh")
    parser.add_argument(
        "--reuse", type=Path, metavar="DIR",
        help="refresh the data a --keep run left in DIR instead of filling a new database: the peak "
        "memory is then that of a process that only refreshes",
    )  # fmt: skip
    args = parser.parse_args()
    work = args.reuse or args.dir or Path(tempfile.mkdtemp(prefix="solocrm-bench-"))
    args.keep = args.keep or args.fill_only or args.dir is not None
    try:
        sizes, fill_seconds = _prepare(args, work)
        if args.fill_only:
            print(json.dumps({"database": args.database, **sizes, "fill_s": fill_seconds}))
            return
        from solocrm.analytics import services

        load = os.getloadavg()[0]
        base = baseline()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        began, cpu, server = time.perf_counter(), time.process_time(), server_cpu()
        result = services.refresh(today=END)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        server = None if server is None else round(server_cpu() - server, 2)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({
            "database": args.database, **sizes, "fill_s": fill_seconds,
            "refresh_s": round(seconds, 2), "baseline_s": round(base, 2), "ratio": round(seconds / base, 1),
            "refresh_cpu_s": round(cpu, 2), "server_cpu_s": server, "load_before": round(load, 2),
            "load_after": round(os.getloadavg()[0], 2),
            "steps": {s["name"]: s["seconds"] for s in result["steps"]},
            "peak_rss_mb": round(peak), "rss_before_refresh_mb": round(rss_before),
        }))  # fmt: skip
    finally:
        if args.keep or args.reuse:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def _prepare(args: argparse.Namespace, work: Path) -> tuple[dict[str, int], float | None]:
    """Fill a new database, or open the one of an earlier --keep run."""
    if args.reuse:
        setup_django(args.database, work / "data", fresh=False, name=args.postgres_name)
        from solocrm.contacts.models import Contact, Interaction
        from solocrm.sales.models import Order, OrderLine

        counts = (Contact, Order, OrderLine, Interaction)
        return dict(zip(["contacts", "orders", "order_lines", "surveys"],
                        [m.objects.count() for m in counts], strict=True)), None  # fmt: skip
    work.mkdir(parents=True, exist_ok=True)
    setup_django(args.database, work / "data", name=args.postgres_name)
    began = time.perf_counter()
    sizes = fill(args.customers, args.orders or 10 * args.customers)
    return sizes, round(time.perf_counter() - began, 1)


if __name__ == "__main__":
    main()
