"""Test data for the analytics pages and API: scored customers and one stored report of every
kind, laid out as the analytics refresh stores them (see docs/api.md, "Analytics").

The numbers are made up but consistent: segments follow the R × FM grid, CLV is expected
purchases times expected order value, value at risk is churn risk times the average yearly spend
(as services._yearly_value computes it), and the reports count the customers that were actually
written. Random draws use a fixed seed.
"""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from solocrm.analytics.choices import ModelKind
from solocrm.analytics.models import CustomerScore, FittedModel
from solocrm.analytics.segments_text import GRID, SEGMENT_ORDER
from solocrm.contacts.models import Contact
from solocrm.sales.models import Product

FIRST_NAMES = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "Ken",
    "Radia",
    "Tim",
    "小明",
    "Lin",
]
LAST_NAMES = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Perlman",
    "王",
]
PRODUCTS = ["Starter kit", "Refill pack", "Gift card", "Workshop", "Premium plan", "Mug"]
PERSONAS = [
    ("Big spenders", "Few large orders, mostly premium products."),
    ("Regulars", "Buy small refills every month."),
    ("One-off buyers", "Bought once, a while ago."),
]
CODE_VERSION = "0.1.0+test"


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


def make_score(contact: Contact, **fields: Any) -> CustomerScore:
    """One score row with sensible defaults; ``fields`` override any of them."""
    values: dict[str, Any] = {
        "computed_at": timezone.now(),
        "orders": 7,
        "frequency": 6,
        "recency_days": 300.0,
        "tenure_days": 312.0,
        "days_since_last": 12.0,
        "first_order_at": date.today() - timedelta(days=312),
        "last_order_at": date.today() - timedelta(days=12),
        "total_spend": Decimal("840.00"),
        "average_order_value": Decimal("120.00"),
        "r_score": 5,
        "f_score": 5,
        "m_score": 5,
        "rfm_segment": "champions",
        "p_alive": 0.93,
        "expected_purchases": 4.2,
        "expected_order_value": Decimal("118.50"),
        "clv": Decimal("497.70"),
        "churn_risk": 0.07,
        "value_at_risk": Decimal("58.80"),  # 0.07 × 840 spent in under a year
        "persona": 0,
        "lead_score": 0.8,
        "next_product_name": "Refill pack",
    }
    values.update(fields)
    return CustomerScore.objects.create(contact=contact, **values)


def make_scored_customers(n: int = 40, seed: int = 7) -> list[CustomerScore]:
    """``n`` contacts with a score each, spread over every segment and persona."""
    rng = random.Random(seed)
    products = [Product.objects.create(name=name, price=Decimal("20.00")) for name in PRODUCTS]
    contacts = Contact.objects.bulk_create(
        Contact(
            first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
            last_name=LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)] if i else "Lovelace",
            email=f"customer{i}.{seed}@example.com",  # one address per person: the database says so
            lifecycle_stage="customer",
        )
        for i in range(n)
    )
    now = timezone.now()
    rows = []
    for i, contact in enumerate(contacts):
        r, f, m = (i % 5) + 1, rng.randint(1, 5), rng.randint(1, 5)
        orders = 1 + (f - 1) * 3 + rng.randint(0, 2)
        days_since = float((6 - r) * 60 + rng.randint(0, 50))
        aov = 20 + m * 40 + rng.random() * 30
        p_alive = max(0.02, min(0.99, 0.2 * r - 0.05 + rng.random() * 0.1))
        expected = round(orders / 3 * p_alive, 2)
        clv = expected * aov
        churn = round(1 - p_alive, 3)
        product = products[i % len(products)]
        rows.append(
            CustomerScore(
                contact=contact,
                computed_at=now,
                orders=orders,
                frequency=orders - 1,
                recency_days=400.0 - days_since,
                tenure_days=400.0,
                days_since_last=days_since,
                first_order_at=date.today() - timedelta(days=400),
                last_order_at=date.today() - timedelta(days=int(days_since)),
                total_spend=_money(orders * aov),
                average_order_value=_money(aov),
                r_score=r,
                f_score=f,
                m_score=m,
                rfm_segment=GRID[(r, round((f + m) / 2 + 1e-9))],
                p_alive=p_alive,
                expected_purchases=expected,
                expected_order_value=_money(aov),
                clv=_money(clv),
                churn_risk=churn,
                value_at_risk=_money(churn * orders * aov / (400 / 365.25)),
                persona=i % len(PERSONAS),
                lead_score=round(rng.random(), 3),
                next_product=product,
                next_product_name=product.name,
            )
        )
    return CustomerScore.objects.bulk_create(rows)


def _months(end: date, count: int) -> list[str]:
    months, year, month = [], end.year, end.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def report_params(scores: list[CustomerScore]) -> dict[str, tuple[dict, dict]]:
    """(params, metrics) of every report kind, consistent with ``scores``."""
    n = len(scores)
    clvs = sorted(float(s.clv or 0) for s in scores)
    by_segment: dict[str, list[CustomerScore]] = {}
    for s in scores:
        by_segment.setdefault(s.rfm_segment, []).append(s)
    grid: dict[tuple[int, int], int] = {}
    for s in scores:
        key = (s.r_score, round((s.f_score + s.m_score) / 2 + 1e-9))
        grid[key] = grid.get(key, 0) + 1
    top = max(clvs, default=0) or 1
    edges = [top * i / 5 for i in range(6)]
    histogram = [
        {
            "lo": round(lo, 2),
            "hi": round(hi, 2),
            "customers": sum(lo <= c < hi or (i == 4 and c == hi) for c in clvs),
        }
        for i, (lo, hi) in enumerate(itertools.pairwise(edges))
    ]
    end = date.today().replace(day=1)
    history = _months(end, 18)
    future = _months(date(end.year + 1, end.month, 1), 12)[-6:]
    cohorts = history[-6:]

    def quantile(q: float) -> float | None:
        return clvs[min(n - 1, int(q * n))] if n else None

    return {
        ModelKind.BGNBD: (
            {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
            {
                "log_likelihood": -9582.4,
                "n_customers": n,
                "n_repeat": sum(s.frequency > 0 for s in scores),
                "time_unit": "day",
            },
        ),
        ModelKind.GAMMA_GAMMA: (
            {"p": 6.25, "q": 3.74, "v": 15.45},
            {"log_likelihood": -4012.1, "n_customers": n},
        ),
        ModelKind.CLV: (
            {
                "months": 12,
                "discount_rate_yearly": 0.10,
                "margin": 1.0,
                "histogram": histogram,
                "total_clv": round(sum(clvs), 2),
                "quantiles": {"p50": quantile(0.5), "p90": quantile(0.9), "p99": quantile(0.99)},
            },
            {"customers": n},
        ),
        ModelKind.RFM: (
            {
                "segments": [
                    {
                        "code": code,
                        "customers": len(rows),
                        "revenue": round(sum(float(s.total_spend) for s in rows), 2),
                        "clv": round(sum(float(s.clv or 0) for s in rows), 2),
                        "avg_recency_days": round(sum(s.days_since_last or 0 for s in rows) / len(rows), 1),
                        "avg_orders": round(sum(s.orders for s in rows) / len(rows), 2),
                    }
                    for code in SEGMENT_ORDER
                    if (rows := by_segment.get(code))
                ],
                "grid": [{"r": r, "fm": fm, "customers": c} for (r, fm), c in sorted(grid.items())],
            },
            {"customers": n},
        ),
        ModelKind.CHURN: (
            {
                "chosen": "gradient_boosting",
                "horizon_days": 90,
                "features": ["recency_days", "frequency", "monetary", "tenure_days", "p_alive"],
                "importance": [
                    {"feature": "recency_days", "weight": 0.52},
                    {"feature": "frequency", "weight": 0.21},
                    {"feature": "p_alive", "weight": 0.17},
                ],
            },
            {
                "candidates": {
                    "p_alive": {"auc": 0.781, "precision": 0.62, "recall": 0.71, "f1": 0.662},
                    "gradient_boosting": {"auc": 0.842, "precision": 0.7, "recall": 0.74, "f1": 0.719},
                    "logistic": {"auc": 0.815, "precision": 0.66, "recall": 0.7, "f1": None},
                },
                "holdout_customers": n // 3,
                "cutoff": (date.today() - timedelta(days=90)).isoformat(),
            },
        ),
        ModelKind.PERSONAS: (
            {
                "k": len(PERSONAS),
                "method": "kmeans",
                "features": ["recency_days", "frequency", "monetary"],
                "personas": [
                    {
                        "id": i,
                        "name": name,
                        "description": description,
                        "customers": sum(s.persona == i for s in scores),
                        "share": round(sum(s.persona == i for s in scores) / n, 3) if n else 0,
                        "avg_spend": 310.5 - 80 * i,
                        "avg_orders": 6.1 - 2 * i,
                        "avg_recency_days": 40.0 + 90 * i,
                        "avg_clv": 250.0 - 70 * i,
                        "top_products": PRODUCTS[i : i + 3],
                    }
                    for i, (name, description) in enumerate(PERSONAS)
                ],
            },
            {"silhouette": 0.41, "silhouette_by_k": {"2": 0.38, "3": 0.41, "4": 0.36}},
        ),
        ModelKind.COHORTS: (
            {
                "cohorts": cohorts,
                "sizes": [40 + 5 * i for i in range(len(cohorts))],
                "retention": [
                    [1.0] + [round(0.45 * 0.8**j, 3) for j in range(len(cohorts) - 1 - i)]
                    for i in range(len(cohorts))
                ],
                "revenue": [
                    [4000.0 - 100 * i] + [round(1800 * 0.8**j, 2) for j in range(len(cohorts) - 1 - i)]
                    for i in range(len(cohorts))
                ],
            },
            {"repeat_rate": 0.38, "median_days_between_orders": 41.0},
        ),
        ModelKind.SATISFACTION: (
            {
                "trend": [
                    {
                        "period": m,
                        "nps": 20 + i,
                        "nps_responses": 30 + i,
                        "csat": 82.0,
                        "csat_responses": 25,
                        "ces": 5.3,
                        "ces_responses": 12,
                    }
                    for i, m in enumerate(history[-6:])
                ],
                "by_segment": [
                    {"segment": "champions", "nps": 62.5, "responses": 16},
                    {"segment": "at_risk", "nps": -12.0, "responses": 9},
                ],
            },
            {"nps": 24.0, "csat": 82.0, "ces": 5.3, "responses": 190},
        ),
        ModelKind.BASKET: (
            {
                "rules": [
                    {
                        "antecedent": ["Starter kit"],
                        "consequent": ["Refill pack"],
                        "support": 0.12,
                        "confidence": 0.64,
                        "lift": 2.8,
                    },
                    {
                        "antecedent": ["Workshop", "Mug"],
                        "consequent": ["Premium plan"],
                        "support": 0.03,
                        "confidence": 0.41,
                        "lift": 3.5,
                    },
                ],
                "popular": PRODUCTS[:3],
            },
            {"hit_rate": 0.31, "baseline_hit_rate": 0.18, "holdout_customers": n // 3},
        ),
        ModelKind.LEADS: (
            {
                "prior": 0.12,
                "by_source": [{"source": "web form", "leads": 120, "converted": 18, "rate": 0.15}],
            },
            {"auc": 0.77, "leads_scored": 120},
        ),
        ModelKind.FORECAST: (
            {
                "method": "ets",
                "history": [
                    {"month": m, "revenue": 9000.0 + 400 * (i % 12) + 50 * i} for i, m in enumerate(history)
                ],
                "forecast": [
                    {
                        "month": m,
                        "mean": 11000.0 + 100 * i,
                        "lo80": 9500.0 + 50 * i,
                        "hi80": 12500.0 + 150 * i,
                        "lo95": 8700.0,
                        "hi95": 13300.0 + 200 * i,
                    }
                    for i, m in enumerate(future)
                ],
            },
            {"mape": 8.2, "naive_mape": 12.1, "backtest_months": 6},
        ),
        ModelKind.MARKETING: (
            {
                "channels": [
                    {
                        "channel": "organic",
                        "contacts": 500,
                        "customers": 120,
                        "conversion_rate": 0.24,
                        "revenue": 48000.0,
                        "orders": 400,
                        "aov": 120.0,
                        "repeat_rate": 0.41,
                    },
                    {
                        "channel": "referral",
                        "contacts": 80,
                        "customers": 35,
                        "conversion_rate": 0.4375,
                        "revenue": 19000.0,
                        "orders": 140,
                        "aov": 135.7,
                        "repeat_rate": 0.55,
                    },
                    {
                        "channel": "",
                        "contacts": 40,
                        "customers": 5,
                        "conversion_rate": 0.125,
                        "revenue": None,
                        "orders": 6,
                        "aov": None,
                        "repeat_rate": None,
                    },
                ]
            },
            {"repeat_rate": 0.44, "aov": 124.5, "conversion_rate": 0.25},
        ),
    }


def make_reports(
    scores: list[CustomerScore] | None = None, **overrides: tuple[dict, dict]
) -> dict[str, FittedModel]:
    """One stored report of every kind; ``overrides`` replace (params, metrics) of a kind."""
    scores = list(CustomerScore.objects.all()) if scores is None else scores
    layouts = {**report_params(scores), **overrides}
    return {
        kind: FittedModel.objects.create(
            kind=kind,
            params=params,
            metrics=metrics,
            code_version=CODE_VERSION,
            n_samples=len(scores),
            data_end=date.today(),
            duration_ms=120 + 10 * i,
        )
        for i, (kind, (params, metrics)) in enumerate(layouts.items())
    }


def make_analytics(n: int = 40) -> dict[str, Any]:
    """Scored customers plus every report: what a finished refresh leaves behind."""
    scores = make_scored_customers(n)
    return {"scores": scores, "reports": make_reports(scores)}
