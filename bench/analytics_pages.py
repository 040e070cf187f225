"""Benchmark: the Analytics pages rendered from stored scores (budget: <= 200 ms each).

    python bench/analytics_refresh.py --customers 100000 --orders 1000000 --keep   # prints "kept DIR"
    python bench/analytics_pages.py --reuse DIR [--database sqlite|postgres] [--repeat 20]

Opens the database an earlier ``analytics_refresh.py --keep`` run filled and refreshed, logs in
as an owner through Django's test client (the whole middleware stack, templates and queries; no
network) and requests every Analytics page, a segment list, a persona list, the churn list and
the contact page of the customer with the highest CLV ``--repeat`` times each after two warm-up
requests. The baseline, measured in the same run, is the API-token page: the same base template
and middleware with one tiny query. Prints one JSON line with p50/p95 (ms) per page.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analytics_refresh import setup_django  # noqa: E402

PAGES = [
    "/analytics/", "/analytics/segments/", "/analytics/segments/champions/",
    "/analytics/segments/at_risk/?page=3", "/analytics/clv/", "/analytics/churn/",
    "/analytics/churn/?page=50", "/analytics/personas/", "/analytics/personas/0/",
    "/analytics/cohorts/", "/analytics/satisfaction/", "/analytics/recommendations/",
    "/analytics/forecast/", "/analytics/marketing/", "/analytics/models/",
]  # fmt: skip
BASELINE = "/account/tokens/"


def timings(client, path: str, repeat: int) -> dict[str, float]:
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    seconds = []
    for _ in range(repeat):
        began = time.perf_counter()
        client.get(path)
        seconds.append(time.perf_counter() - began)
    seconds.sort()
    p95 = seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))]
    return {"p50_ms": round(statistics.median(seconds) * 1000, 1), "p95_ms": round(p95 * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", type=Path, required=True, metavar="DIR")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ["SOLOCRM_ALLOWED_HOSTS"] = "testserver"
    setup_django(args.database, args.reuse / "data", fresh=False)
    from django.contrib.auth import get_user_model
    from django.test import Client

    from solocrm.analytics.models import CustomerScore
    from solocrm.contacts.models import Contact
    from solocrm.lib.access import set_role

    user, _ = get_user_model().objects.get_or_create(username="bench-owner")
    set_role(user, "owner")
    client = Client()
    client.force_login(user)
    top = CustomerScore.objects.order_by("-clv").values_list("contact_id", flat=True).first()
    pages = [*PAGES, f"/contacts/{Contact.objects.get(pk=top).uuid}/"]
    results = {path: timings(client, path, args.repeat) for path in pages}
    base = timings(client, BASELINE, args.repeat)
    print(json.dumps({
        "database": args.database, "contacts": Contact.objects.count(),
        "scores": CustomerScore.objects.count(), "baseline": base,
        "worst_p95_ms": max(r["p95_ms"] for r in results.values()), "pages": results,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
