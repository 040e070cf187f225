"""Benchmark: the Today page, the kanban board and a deal page at issue 4's size
(budget: p95 <= 150 ms each with 100k contacts, 1M orders, 5,000 open deals, 20,000 open tasks).

    python bench/sales_pages.py [--database sqlite|postgres] [--keep] [--repeat 30]
    python bench/sales_pages.py --reuse DIR [--database ...]     # a --keep run's data

Fills a fresh database with analytics_refresh.py's generator (contacts and orders up to today,
so this month's revenue has rows to add up), refreshes the analytics (so the Today page has
re-order and at-risk items), then adds the sales data: 5,000 open and 1,500 closed deals with
stage history, 20,000 open and 10,000 done tasks (a tenth overdue, some due today), 500 sent
quotes and 300 new leads. Logs in as an owner through Django's test client (the whole middleware
stack, templates and queries; no network) and requests each page ``--repeat`` times after two
warm-up requests. The baseline, measured in the same run, is the API-token page: the same base
template and middleware with one tiny query. Prints one JSON line with p50/p95 (ms) per page
and the number of queries each page ran, plus the Today page with an empty cache (the first
visit of the hour: the month's figures for the days before today are computed again).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import analytics_refresh  # noqa: E402
from analytics_pages import timings  # noqa: E402

BASELINE = "/account/tokens/"
OPEN_DEALS, CLOSED_DEALS, OPEN_TASKS, DONE_TASKS, QUOTES, LEADS = 5000, 1500, 20_000, 10_000, 500, 300


def fill_sales(seed: int = 7) -> dict[str, int]:
    from django.db import transaction
    from django.utils import timezone

    from solocrm.contacts.models import Contact
    from solocrm.sales.deals.services import default_pipeline
    from solocrm.sales.models import Deal, DealStageChange, Quote, Task

    rng = np.random.default_rng(seed)
    now = timezone.now()
    pipeline = default_pipeline()
    stages = list(pipeline.stages.order_by("position"))
    open_stages = [s for s in stages if s.kind == "open"]
    won, lost = next(s for s in stages if s.kind == "won"), next(s for s in stages if s.kind == "lost")
    contact_ids = list(Contact.objects.order_by("id").values_list("id", flat=True))
    pick = lambda n: [contact_ids[i] for i in rng.integers(0, len(contact_ids), n)]  # noqa: E731
    with transaction.atomic():
        deals = []
        for n, contact in enumerate(pick(OPEN_DEALS + CLOSED_DEALS)):
            closed = n >= OPEN_DEALS
            stage = (won if n % 2 else lost) if closed else open_stages[n % len(open_stages)]
            quiet = timedelta(days=int(rng.integers(0, 40)))
            deals.append(Deal(
                title=f"Deal {n}", pipeline=pipeline, stage=stage, contact_id=contact,
                amount=int(rng.integers(100, 20_000)), position=float(n),
                expected_close=(now + timedelta(days=int(rng.integers(-20, 150)))).date(),
                last_activity_at=now - quiet, stage_entered_at=now - quiet,
                closed_at=now - quiet if closed else None, lost_reason="price" if stage == lost else "",
            ))  # fmt: skip
        Deal.objects.bulk_create(deals, batch_size=2000)
        first = open_stages[0]
        changes = [DealStageChange(deal=d, to_stage=first, changed_at=d.last_activity_at) for d in deals]
        changes += [DealStageChange(deal=d, from_stage=first, to_stage=d.stage, changed_at=d.last_activity_at)
                    for d in deals if d.stage != first]  # fmt: skip
        DealStageChange.objects.bulk_create(changes, batch_size=2000)
        tasks = []
        for n, contact in enumerate(pick(OPEN_TASKS + DONE_TASKS)):
            due = now + timedelta(hours=float(rng.normal(24 * 20, 24 * 20)))
            done = now - timedelta(days=1) if n >= OPEN_TASKS else None
            tasks.append(
                Task(
                    title=f"Task {n}",
                    contact_id=contact,
                    due_at=due,
                    done_at=done,
                    priority=int(rng.integers(1, 5)),
                    deal=deals[n % OPEN_DEALS] if n % 5 == 0 else None,
                )
            )
        Task.objects.bulk_create(tasks, batch_size=2000)
        for n, deal in enumerate(deals[:QUOTES]):
            issued = (now - timedelta(days=int(rng.integers(1, 30)))).date()
            Quote.objects.create(
                number=f"Q-BENCH-{n:05d}",
                deal=deal,
                contact_id=deal.contact_id,
                status="sent",
                issued_on=issued,
                valid_until=issued + timedelta(days=30),
                total=deal.amount,
            )
        lead_ids = contact_ids[-LEADS:]
        Contact.objects.filter(id__in=lead_ids).update(
            lifecycle_stage="lead", created_at=now - timedelta(hours=5)
        )
    return {
        "open_deals": OPEN_DEALS,
        "closed_deals": CLOSED_DEALS,
        "open_tasks": OPEN_TASKS,
        "quotes": QUOTES,
    }


def cold_timings(client, path: str, repeat: int) -> dict[str, float]:
    """The page with an empty cache: the first visit of the hour, when the key figures of the
    days before today are computed again."""
    from django.core.cache import cache

    seconds = []
    for _ in range(repeat):
        cache.clear()
        began = time.perf_counter()
        client.get(path)
        seconds.append(time.perf_counter() - began)
    seconds.sort()
    return {"p50_ms": round(seconds[len(seconds) // 2] * 1000, 1), "max_ms": round(seconds[-1] * 1000, 1)}


def query_count(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    return len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (and database)")
    parser.add_argument("--reuse", type=Path, metavar="DIR", help="time the data a --keep run left in DIR")
    parser.add_argument("--fill-only", action="store_true", help="fill (with --keep) and time nothing")
    args = parser.parse_args()
    os.environ["SOLOCRM_ALLOWED_HOSTS"] = "testserver"
    analytics_refresh.END = date.today()  # orders up to today: this month's revenue has rows
    work = args.reuse or Path(tempfile.mkdtemp(prefix="solocrm-bench-sales-"))
    try:
        sizes = prepare(args, work)
        figures = {} if args.fill_only else measure(args.repeat)
        print(json.dumps({"database": args.database, **sizes, **figures}))
    finally:
        if args.keep or args.reuse:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def prepare(args: argparse.Namespace, work: Path) -> dict:
    if args.reuse:
        analytics_refresh.setup_django(args.database, work / "data", fresh=False)
        return {}
    analytics_refresh.setup_django(args.database, work / "data")
    began = time.perf_counter()
    sizes = analytics_refresh.fill(args.customers, args.orders)
    from solocrm.analytics import services

    services.refresh(today=analytics_refresh.END)
    sizes.update(fill_sales())
    return {**sizes, "fill_s": round(time.perf_counter() - began, 1)}


def measure(repeat: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from solocrm.lib.access import set_role
    from solocrm.sales.models import Deal

    user, _ = get_user_model().objects.get_or_create(username="bench-owner")
    set_role(user, "owner")
    client = Client()
    client.force_login(user)
    # The first open deal: it has stage history, tasks and a quote.
    deal = Deal.objects.open().order_by("id").first()
    pages = {"today": "/", "board": "/sales/pipeline/", "deal": f"/sales/deals/{deal.uuid}/"}
    results = {name: {**timings(client, path, repeat), "queries": query_count(client, path)}
               for name, path in pages.items()}  # fmt: skip
    results["today_cold"] = cold_timings(client, "/", max(3, repeat // 5))
    base = timings(client, BASELINE, repeat)
    worst = max(r["p95_ms"] for r in results.values() if "p95_ms" in r)
    return {"baseline": base, "worst_p95_ms": worst, "pages": results,
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip


if __name__ == "__main__":
    main()
