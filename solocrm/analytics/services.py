"""The analytics refresh: database → models → scores written back onto every customer.

``refresh()`` is what `solocrm analytics refresh`, the "Refresh now" button and the daily
refresh of ``tasks`` all run. Each step reads aggregates through ``queries`` (never one row per
order), fits or computes with the Django-free core, and stores its result as a ``FittedModel`` row of JSON
(parameters, metrics, code version, data size); the per-customer numbers are written at the end
in one transaction, so pages show either the old scores or the new ones, never a mix.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from threadpoolctl import threadpool_limits

from solocrm.users.models import AuditLog

from . import asof, jobs, queries
from .basket import CoPurchaseRecommender, MostPopularRecommender, association_rules, hit_rate_holdout
from .choices import ModelKind
from .churn import ChurnModel, ChurnSelection, select_churn_model
from .clusters import PersonaModel, describe_clusters
from .clv import BetaGeoModel, GammaGammaModel, ModelUnusable, customer_lifetime_value, heuristic_clv
from .features import churn_features_from_aggregates, customer_table, lead_features, persona_features
from .forecast import ForecastError, backtest, forecast_revenue, select_by_backtest
from .leads import LeadScorer
from .lifecycle import AT_RISK_CHURN, CHURNED_P_ALIVE, DORMANT_P_ALIVE, lifecycle_stages
from .models import FittedModel
from .nps import ces, csat, nps, satisfaction_trend
from .rfm import rfm_scores, rfm_segment
from .summary import summary_from_aggregates
from .writer import apply_lifecycle_stages, write_scores

__all__ = [
    "AT_RISK_CHURN", "CHURNED_P_ALIVE", "DORMANT_P_ALIVE", "STEPS", "Refresh", "churn_features_at",
    "lifecycle_stages", "refresh", "refresh_status", "refreshed_within", "start_refresh", "write_scores",
]  # fmt: skip

Progress = Callable[[str, int, int], None]

CLV_MONTHS = 12
DISCOUNT_RATE_YEARLY = 0.10
CHURN_HORIZON_DAYS = 90
BASKET_HISTORY_DAYS = 365
BASKET_SAMPLE_LINES = 100_000  # order lines read for the association rules, at most (about)
CHURN_SAMPLE = 50_000
MIN_CHURN_CUSTOMERS = 30
MIN_PERSONA_CUSTOMERS = 20
LEAD_SETTLE_DAYS = 60  # a contact younger than this may still convert: not yet a "did not"
MAX_COHORTS = 36
KEEP_MODELS = 30


@cache
def code_version() -> str:
    """Package version + a hash of the analytics sources: a stored model says what made it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        package = version("solocrm")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        package = "0"
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return f"{package}+{digest.hexdigest()[:10]}"


@dataclass
class Refresh:
    """What one refresh run knows so far: the customer table grows a column per step."""

    today: date
    progress: Progress
    customers: pd.DataFrame = field(default_factory=pd.DataFrame)
    purchases: pd.DataFrame = field(default_factory=pd.DataFrame)
    leads: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    steps: list[dict[str, Any]] = field(default_factory=list)
    saved: list[FittedModel] = field(default_factory=list)

    def save(self, kind: str, params: dict, metrics: dict, n_samples: int, started: float) -> None:
        self.saved.append(
            FittedModel(
                kind=kind,
                params=_json_safe(params),
                metrics=_json_safe(metrics),
                code_version=code_version(),
                n_samples=int(n_samples),
                data_end=self.today,
                duration_ms=int((time.perf_counter() - started) * 1000),
            )
        )


def refresh(*, today: date | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Recompute every model and score as if ``today`` (default: the owner's today) were today:
    every query ends with that day, so later orders, answers and contacts are left out.

    Returns {"seconds", "customers", "data_end", "steps": [...], "stale", "warning"}: ``stale``
    is ``asof.stale_data(today)`` (the newest order is too old for scores as of that day; None
    otherwise) and ``warning`` says it in words."""
    run = Refresh(today=today or timezone.localdate(), progress=progress or (lambda *a: None))
    started = time.perf_counter()
    steps = STEPS
    # One thread for BLAS and OpenMP throughout: the models' matrices are small (a forecast's,
    # a sample's), and spinning extra threads only steals the cores the database needs.
    with threadpool_limits(limits=1), queries.reusing_results(), queries.background_queries():
        _prefetch(run.today)
        with queries.daily_purchases(run.today):
            for number, (name, step) in enumerate(steps, start=1):
                run.progress(name, number - 1, len(steps))
                began = time.perf_counter()
                note = step(run)
                run.steps.append(
                    {"name": name, "seconds": round(time.perf_counter() - began, 3), "note": note or ""}
                )
    run.progress("done", len(steps), len(steps))
    stale = asof.stale_data(run.today)
    return {
        "seconds": round(time.perf_counter() - started, 3),
        "customers": len(run.customers),
        "data_end": run.today.isoformat(),
        "steps": run.steps,
        "stale": stale,
        "warning": asof.stale_message(stale),
    }


def _prefetch(today: date) -> None:
    """The query that reads the order lines themselves (not the daily table) and takes longest
    starts on a second connection while the daily table is built and the first models fit."""
    queries.prefetch(queries.product_pairs, *_product_pairs_days(today))


def _product_pairs_days(today: date) -> tuple[date, date, date]:
    return today, today - timedelta(days=BASKET_HISTORY_DAYS), basket_split(today)


def start_refresh(user=None, as_of: date | None = None) -> None:
    """Start a refresh in the background (the web button), as of ``as_of`` when given.
    Raises jobs.RefreshBusy."""
    jobs.start_in_background(user, as_of=as_of)


def refresh_status() -> dict[str, Any]:
    return jobs.refresh_status()


def refreshed_within(hours: float) -> bool:
    latest = FittedModel.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    return latest is not None and timezone.now() - latest < timedelta(hours=hours)


# -- helpers ----------------------------------------------------------------------------------


def _json_safe(value: Any) -> Any:
    """NaN/inf → None and numpy scalars → Python, recursively (JSONField rejects NaN)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


# -- the steps --------------------------------------------------------------------------------


def step_summary(run: Refresh) -> str:
    """Per-customer buy-till-you-die summary (days), aggregated in the database."""
    # the churn step needs the same aggregates as of two earlier days: one pass for all three
    aggregates = queries.customer_aggregates_at([run.today, *churn_days(run.today)])[run.today]
    summary = summary_from_aggregates(aggregates, observation_end=run.today, time_unit="D")
    frame = customer_table(summary, aggregates)
    run.customers = frame
    run.purchases = queries.product_pairs(*_product_pairs_days(run.today))
    if not run.purchases.empty:  # the basket step's sample, read while the next models fit
        queries.prefetch(queries.basket_sample, *_basket_sample_args(run))
    # The lead scorer's contact attributes (a row per contact: ~300 MB at 1M) are read after
    # the summary, whose aggregates are the refresh's peak, not held through it.
    queries.prefetch(queries.contact_attributes, run.today)
    return _("%(n)d customers") % {"n": len(frame)}


def _basket_sample_args(run: Refresh) -> tuple[date, date, float]:
    """The association rules need whole baskets, the rest only (customer, product) pairs: the
    baskets of a fixed sample of orders (docs/analytics.md, "Samples") estimate supports
    closely enough."""
    fraction = BASKET_SAMPLE_LINES / max(int(run.purchases["orders"].sum()), 1)
    return run.today, run.today - timedelta(days=BASKET_HISTORY_DAYS), fraction


def step_clv(run: Refresh) -> str:
    """BG/NBD + Gamma-Gamma: P(alive), expected purchases and spend, 12-month CLV. When a model
    cannot be fitted or used, the CLV comes from the labelled heuristic of clv.heuristic_clv,
    and the stored report says which one and why (never NULL for a buyer a model skipped)."""
    began, c = time.perf_counter(), run.customers
    try:
        bg = BetaGeoModel().fit(c["frequency"], c["recency_days"], c["tenure_days"])
    except ModelUnusable as error:
        return _fallback_clv(run, None, str(error), began)
    except ValueError as error:
        return _("skipped: %(reason)s") % {"reason": error}
    c["p_alive"] = bg.probability_alive(c["frequency"], c["recency_days"], c["tenure_days"])
    c["expected_purchases"] = bg.expected_purchases(
        365.25, c["frequency"], c["recency_days"], c["tenure_days"]
    )
    metrics = {**_bg_metrics(bg, c), "holdout": _bg_holdout(run.today)}
    run.save(ModelKind.BGNBD, bg.to_dict()["params"], metrics, len(c), began)
    # Gamma-Gamma models positive spends: a repeat buyer whose orders were free would fail the fit
    spenders = (c["frequency"] > 0) & (c["monetary_value"] > 0)
    try:
        gg = GammaGammaModel().fit(c.loc[spenders, "frequency"], c.loc[spenders, "monetary_value"])
        gg.check_finite_mean()
    except ValueError as error:  # ModelUnusable included: q <= 1 has no finite mean spend
        return _fallback_clv(run, bg, str(error), began)
    run.save(
        ModelKind.GAMMA_GAMMA,
        gg.to_dict()["params"],
        {"log_likelihood": gg.log_likelihood_, "n_customers": int(spenders.sum())},
        int(spenders.sum()),
        began,
    )
    c["expected_order_value"] = gg.expected_average_value(c["frequency"], c["monetary_value"]).round(2)
    clv = customer_lifetime_value(
        bg,
        gg,
        c["frequency"],
        c["recency_days"],
        c["tenure_days"],
        c["monetary_value"],
        months=CLV_MONTHS,
        discount_rate_yearly=DISCOUNT_RATE_YEARLY,
        time_unit="D",
    )
    c["clv"] = np.round(clv, 2)
    run.save(ModelKind.CLV, _clv_report(c["clv"]), {"customers": len(c)}, len(c), began)
    return _("r=%(r).3g α=%(alpha).3g a=%(a).3g b=%(b).3g") % {
        "r": bg.r_,
        "alpha": bg.alpha_,
        "a": bg.a_,
        "b": bg.b_,
    }


def _fallback_clv(run: Refresh, bg: BetaGeoModel | None, reason: str, began: float) -> str:
    """CLV, expected purchases and order value from the documented heuristic (P(alive) is left
    empty: no model defines it); the report carries the method and the reason for the page."""
    c = run.customers
    if c.empty:  # nobody to value: store no report (an empty shop stays "never refreshed")
        return _("skipped: %(reason)s") % {"reason": reason}
    fallback = heuristic_clv(
        c["frequency"],
        c["recency_days"],
        c["tenure_days"],
        c["total_spend"].fillna(0.0),
        reason=reason,
        bgnbd=bg,
        months=CLV_MONTHS,
        discount_rate_yearly=DISCOUNT_RATE_YEARLY,
        time_unit="D",
    )
    c["clv"] = np.round(fallback.clv, 2)
    c["expected_order_value"] = np.round(fallback.average_value, 2)
    if bg is None:
        c["expected_purchases"] = fallback.expected_purchases
    report = {**_clv_report(c["clv"]), "method": fallback.method, "reason": reason}
    run.save(ModelKind.CLV, report, {"customers": len(c), "heuristic": True}, len(c), began)
    return _("CLV by the heuristic (%(method)s): %(reason)s") % {"method": fallback.method, "reason": reason}


def _bg_metrics(bg: BetaGeoModel, c: pd.DataFrame) -> dict[str, Any]:
    return {
        "log_likelihood": bg.log_likelihood_,
        "n_customers": len(c),
        "n_repeat": int((c["frequency"] > 0).sum()),
        "time_unit": "day",
        "boundary": getattr(bg, "boundary_", None),
    }


def _bg_holdout(today: date) -> dict[str, Any] | None:
    """The BG/NBD's holdout check: fitted on the data up to the churn horizon before ``today``,
    its forecast of each customer's repeat purchases in the days since is compared with what
    they bought (the calibration/holdout test of [1]_, figure 3). None when the earlier data
    hold too few customers or repeat buyers for a fit.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the
       Easy Way. *Marketing Science* 24(2), 275-284.
    """
    cutoff = today - timedelta(days=CHURN_HORIZON_DAYS)
    aggregates = queries.customer_aggregates(cutoff)  # read once already by the summary step
    summary = summary_from_aggregates(aggregates, observation_end=cutoff, time_unit="D")
    if len(summary) < MIN_CHURN_CUSTOMERS:
        return None
    f, r, t = summary["frequency"], summary["recency"], summary["T"]
    try:
        bg = BetaGeoModel().fit(f, r, t)
    except ValueError:  # ModelUnusable included: nobody had bought twice by then
        return None
    predicted = np.asarray(bg.expected_purchases(CHURN_HORIZON_DAYS, f, r, t), dtype=float)
    bought = queries.purchase_days_between(cutoff, today).reindex(summary.index, fill_value=0)
    actual = bought.to_numpy(dtype=float)
    return {
        "days": CHURN_HORIZON_DAYS,
        "customers": len(summary),
        "actual": int(actual.sum()),
        "predicted": float(predicted.sum()),
        "mean_absolute_error": float(np.abs(actual - predicted).mean()),
    }


def _clv_report(clv: pd.Series) -> dict[str, Any]:
    values = clv.dropna().to_numpy(float)
    top = float(np.quantile(values, 0.99)) if len(values) else 0.0
    edges = np.linspace(0.0, max(top, 1.0), 21)
    counts, _edges = np.histogram(np.clip(values, 0.0, edges[-1]), bins=edges)
    return {
        "months": CLV_MONTHS,
        "discount_rate_yearly": DISCOUNT_RATE_YEARLY,
        "margin": 1.0,
        "histogram": [
            {"lo": float(lo), "hi": float(hi), "customers": int(n)}
            for lo, hi, n in zip(edges[:-1], edges[1:], counts, strict=True)
        ],
        "total_clv": float(values.sum()),
        "quantiles": {
            f"p{q}": float(np.quantile(values, q / 100)) if len(values) else None for q in (50, 90, 99)
        },
    }


def churn_features_at(day: date) -> pd.DataFrame:
    """The churn features of every customer as of the end of ``day``, from database aggregates:
    purchases after ``day`` are invisible. The behaviour columns are built by
    ``features.churn_features_from_aggregates`` (the definition ``churn.churn_features`` uses
    too), then the engagement counts of the 90 days before ``day`` are added."""
    features = churn_features_from_aggregates(queries.customer_aggregates(day), day)
    engagement = queries.engagement(day).reindex(features.index, fill_value=0)
    return features.join(engagement.astype(float))


def churn_labels_after(day: date, horizon_days: int, customers: pd.Index) -> pd.Series:
    """1 when a customer of ``customers`` made no purchase in the ``horizon_days`` after ``day``."""
    bought = queries.purchase_days_between(day, day + timedelta(days=horizon_days))
    return (bought.reindex(customers, fill_value=0) == 0).astype("int64")


def _training_sample(frame: pd.DataFrame, size: int = CHURN_SAMPLE) -> pd.DataFrame:
    """A fixed-seed sample keeps fitting time flat at a million customers; 50,000 examples is
    far more than a handful of features needs."""
    return frame if len(frame) <= size else frame.sample(n=size, random_state=0)


def churn_days(today: date) -> tuple[date, date]:
    """(training day, holdout cutoff): features as of a day, labels from the horizon after it."""
    cutoff = today - timedelta(days=CHURN_HORIZON_DAYS)
    return cutoff - timedelta(days=CHURN_HORIZON_DAYS), cutoff


def step_churn(run: Refresh) -> str:
    """Time-split churn model against the P(alive) baseline; the better one scores everyone."""
    began, horizon = time.perf_counter(), CHURN_HORIZON_DAYS
    train_day, cutoff = churn_days(run.today)
    train = _training_sample(churn_features_at(train_day))
    holdout = _training_sample(churn_features_at(cutoff))
    if len(train) < MIN_CHURN_CUSTOMERS or len(holdout) < MIN_CHURN_CUSTOMERS:
        return _fallback_churn(run, _("too little history for a churn model"))
    train_y = churn_labels_after(train_day, horizon, train.index)
    holdout_y = churn_labels_after(cutoff, horizon, holdout.index)
    if train_y.nunique() < 2 or holdout_y.nunique() < 2:
        return _fallback_churn(run, _("every customer behaved alike: nothing to learn"))
    with threadpool_limits(limits=1):
        selection = select_churn_model(
            train, train_y, holdout, holdout_y, p_alive_holdout=_p_alive_at(cutoff, holdout.index)
        )
        risk, importance = _score_churn(run, selection, holdout, holdout_y)
    c = run.customers
    c["churn_risk"] = risk
    c["value_at_risk"] = (c["churn_risk"] * _yearly_value(c)).round(2)
    params = {
        "chosen": _chosen_name(selection),
        "horizon_days": horizon,
        "features": list(train.columns),
        "importance": importance,
    }
    metrics = {
        "candidates": {_candidate_name(k, selection): v for k, v in selection.metrics.items()},
        "holdout_customers": len(holdout),
        "cutoff": cutoff.isoformat(),
        "at_risk_customers": int((c["churn_risk"] >= AT_RISK_CHURN).sum()),
        "value_at_risk_total": float(c["value_at_risk"].sum()),
    }
    run.save(ModelKind.CHURN, params, metrics, len(train) + len(holdout), began)
    return _("chosen: %(model)s") % {"model": params["chosen"]}


def _candidate_name(kind: str, selection: ChurnSelection) -> str:
    return selection.baseline if kind == "baseline" else kind


def _chosen_name(selection: ChurnSelection) -> str:
    return _candidate_name(selection.chosen, selection)


def _p_alive_at(day: date, customers: pd.Index) -> np.ndarray | None:
    """P(alive) as of ``day`` from a BG/NBD model fitted on the data up to that day only."""
    summary = summary_from_aggregates(queries.customer_aggregates(day), observation_end=day, time_unit="D")
    summary = summary.reindex(customers)
    try:
        bg = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    except ValueError:
        return None
    return bg.probability_alive(summary["frequency"], summary["recency"], summary["T"])


def _score_churn(run: Refresh, selection: ChurnSelection, holdout: pd.DataFrame, holdout_y: pd.Series):
    """Refit the chosen model on the latest complete window and score everyone as of today."""
    if selection.chosen == "baseline":
        if "p_alive" in run.customers:
            return 1.0 - run.customers["p_alive"], []
        selection = replace(selection, chosen="logistic")
    model = ChurnModel(kind=selection.chosen).fit(holdout, holdout_y)
    today = churn_features_at(run.today).reindex(run.customers.index)
    risk = pd.Series(model.predict_proba(today[holdout.columns]), index=today.index)
    importance = [{"feature": str(k), "weight": float(v)} for k, v in model.feature_importance_.items()]
    return risk, sorted(importance, key=lambda row: -abs(row["weight"]))


def _yearly_value(c: pd.DataFrame) -> pd.Series:
    """Average yearly spend: total spend over the years as a customer, counting at least one
    year (so a month-old customer's single order is not multiplied by twelve)."""
    years = np.maximum(c["tenure_days"] / 365.25, 1.0)
    return c["total_spend"] / years


def _fallback_churn(run: Refresh, reason: str) -> str:
    c = run.customers
    if "p_alive" in c:
        c["churn_risk"] = 1.0 - c["p_alive"]
        c["value_at_risk"] = (c["churn_risk"] * _yearly_value(c)).round(2)
    return _("supervised model skipped (%(reason)s)") % {"reason": reason}


def step_rfm(run: Refresh) -> str:
    """Quintile R, F, M scores and the named segments; report per segment and on the grid."""
    began, c = time.perf_counter(), run.customers
    if c.empty:
        return _("no customers yet")
    scores = rfm_scores(c["days_since_last"], c["frequency"] + 1, c["total_spend"])
    c["r_score"], c["f_score"], c["m_score"] = (scores[k].to_numpy() for k in ("r", "f", "m"))
    c["rfm_segment"] = rfm_segment(c["r_score"], c["f_score"], c["m_score"])
    clv = c["clv"] if "clv" in c else pd.Series(np.nan, index=c.index)
    segments = (
        c.assign(clv=clv)
        .groupby("rfm_segment")
        .agg(
            customers=("orders", "size"),
            revenue=("total_spend", "sum"),
            clv=("clv", "sum"),
            avg_recency_days=("days_since_last", "mean"),
            avg_orders=("orders", "mean"),
        )
        .reset_index(names="code")
    )
    fm = np.floor((c["f_score"] + c["m_score"]) / 2 + 0.5).astype(int)
    grid = pd.DataFrame({"r": c["r_score"], "fm": fm}).value_counts().rename("customers").reset_index()
    params = {
        "segments": segments.to_dict("records"),
        "grid": grid.sort_values(["r", "fm"]).to_dict("records"),
    }
    run.save(ModelKind.RFM, params, {"customers": len(c)}, len(c), began)
    return _("%(n)d segments") % {"n": len(segments)}


def step_personas(run: Refresh) -> str:
    """k-means personas on standardised (log where skewed) features, k by silhouette."""
    began, c = time.perf_counter(), run.customers
    if len(c) < MIN_PERSONA_CUSTOMERS:
        return _("skipped: fewer than %(n)d customers") % {"n": MIN_PERSONA_CUSTOMERS}
    features = persona_features(c)
    with threadpool_limits(limits=1):
        model = PersonaModel(random_state=0).fit(features)
    labels = model.labels_
    c["persona"] = labels
    items = run.purchases.rename(columns={"contact_id": "customer", "orders": "count"})
    items = items[["customer", "item", "count"]]
    described = describe_clusters(
        features, labels, top_items=items, top_n=3, scaled=model.transform(features)
    )
    clv = c["clv"] if "clv" in c else pd.Series(np.nan, index=c.index)
    personas = [_persona(d, features, labels, clv) for d in described]
    params = {
        **model.to_dict(),
        "k": model.k_,
        "method": model.method,
        "features": list(features.columns),
        "personas": personas,
    }
    metrics = {"silhouette": model.silhouette_, "silhouette_by_k": model.silhouette_by_k_}
    run.save(ModelKind.PERSONAS, params, metrics, len(c), began)
    return _("%(k)d personas, silhouette %(s).2f") % {"k": model.k_, "s": model.silhouette_}


def _persona(described: dict, features: pd.DataFrame, labels: np.ndarray, clv: pd.Series) -> dict[str, Any]:
    members = labels == described["cluster"]
    return {
        "id": int(described["cluster"]),
        "name": described["name"],
        "description": described["description"],
        "customers": int(described["size"]),
        "share": float(described["share"]),
        "avg_spend": float(features.loc[members, "total_spend"].mean()),
        "avg_orders": float(features.loc[members, "orders"].mean()),
        "avg_recency_days": float(features.loc[members, "days_since_last"].mean()),
        "avg_clv": float(clv[members].mean()) if clv[members].notna().any() else None,
        "top_products": [row["item"] for row in described.get("top_items", [])],
    }


def step_basket(run: Refresh) -> str:
    """Association rules on recent orders and the next product to offer each customer."""
    began, purchases = time.perf_counter(), run.purchases
    if purchases.empty:
        return _("no order lines yet")
    baskets = queries.basket_sample(*_basket_sample_args(run))
    rules = association_rules(baskets, min_support=_min_support(baskets), min_confidence=0.1, max_len=2)
    rules = rules.sort_values(["lift", "support"], ascending=False).head(50)
    split = basket_split(run.today)
    evaluation = _basket_evaluation(purchases, split)
    # The co-purchase model offers the next product unless the holdout shows that simply offering
    # the best sellers (each customer's not yet bought) does better.
    popular_wins = evaluation is not None and evaluation["baseline_hit_rate"] > evaluation["hit_rate"]
    recommender = MostPopularRecommender(n=1) if popular_wins else CoPurchaseRecommender(n=1)
    best = recommender.fit(purchases["contact_id"], purchases["item"]).recommend(n=1)
    best = best[best["rank"] == 1].set_index("customer")["item"]
    c = run.customers
    c["next_product_name"] = best.reindex(c.index).fillna("")
    c["next_product_id"] = c["next_product_name"].map(_product_ids(best.unique())).astype("Int64")
    popular = purchases.groupby("item")["contact_id"].nunique().sort_values(ascending=False).head(10)
    params = {
        "rules": [_rule(row) for row in rules.to_dict("records")],
        "popular": popular.index.tolist(),
        "next_product_by": "most_popular" if popular_wins else "co_purchase",
    }
    metrics = {
        "hit_rate": evaluation["hit_rate"] if evaluation else None,
        "baseline_hit_rate": evaluation["baseline_hit_rate"] if evaluation else None,
        "holdout_customers": evaluation["customers"] if evaluation else 0,
    }
    run.save(ModelKind.BASKET, params, metrics, len(baskets), began)
    if evaluation is None:
        return _("%(n)d rules; hit rate not measured: no customer bought both before and after %(split)s") % {
            "n": len(rules),
            "split": split.isoformat(),
        }
    return _("%(n)d rules") % {"n": len(rules)}


def _basket_evaluation(purchases: pd.DataFrame, split: date) -> dict[str, Any] | None:
    """Hit rate of the recommendations on the purchases since ``split``; None when nobody bought
    on both sides of it (a shop younger than the holdout): the rules and offers still stand.

    Each (customer, product) pair bought before the split stands as one purchase the day
    before it, each bought on or after it as one purchase on the split day: exactly the pairs
    each side of the split holds, which is all the test looks at."""
    before, after = purchases[purchases["before"] > 0], purchases[purchases["after"] > 0]
    days = np.r_[
        np.full(len(before), queries.day_number(split) - 1), np.full(len(after), queries.day_number(split))
    ]
    try:
        return hit_rate_holdout(
            pd.concat([before["contact_id"], after["contact_id"]], ignore_index=True),
            pd.concat([before["item"], after["item"]], ignore_index=True),
            queries.from_day_numbers(days),
            split_date=split,
            n=5,
            recommender=CoPurchaseRecommender(n=5),
        )
    except ValueError:  # the inputs come from the database, so this is the empty holdout
        return None


def basket_split(today: date) -> date:
    """The first day of the recommendations' holdout (the churn horizon before today)."""
    return today - timedelta(days=CHURN_HORIZON_DAYS)


def _min_support(baskets: pd.DataFrame) -> float:
    """At least 10 orders, so rules stand on more than a coincidence."""
    orders = baskets["order_id"].nunique()
    return max(10 / max(orders, 1), 0.001)


def _rule(row: dict) -> dict[str, Any]:
    return {
        "antecedent": list(row["antecedent"]),
        "consequent": list(row["consequent"]),
        "support": row["support"],
        "confidence": row["confidence"],
        "lift": row["lift"],
    }


def _product_ids(names) -> dict[str, int]:
    from solocrm.sales.models import Product

    ids: dict[str, int] = {}
    for pk, name in (
        Product.objects.filter(name__in=list(names)).order_by("-active", "id").values_list("pk", "name")
    ):
        ids.setdefault(name, pk)
    return ids


def step_leads(run: Refresh) -> str:
    """Conversion probability of every contact who has not bought yet."""
    began = time.perf_counter()
    contacts = queries.contact_attributes(run.today)
    if contacts.empty:
        return _("no contacts yet")
    features = lead_features(contacts)
    settled_day = queries.day_number(run.today - timedelta(days=LEAD_SETTLE_DAYS))
    history = contacts["created_day"] <= settled_day
    converted = contacts["first_order_day"].notna().astype("int64")
    scorer = LeadScorer().fit(features[history], converted[history])
    open_leads = contacts["first_order_day"].isna()
    run.leads = pd.Series(scorer.predict_proba(features[open_leads]), index=features.index[open_leads])
    by_source = scorer.by_source_.rename(columns={"n": "leads"})
    params = {"prior": scorer.overall_rate_, "mode": scorer.mode_, "by_source": by_source.to_dict("records")}
    metrics = {"auc": scorer.metrics_.get("auc"), "leads_scored": int(open_leads.sum()), **scorer.metrics_}
    run.save(ModelKind.LEADS, params, metrics, int(history.sum()), began)
    return _("%(n)d leads scored") % {"n": int(open_leads.sum())}


def step_cohorts(run: Refresh) -> str:
    """Monthly acquisition cohorts × months since first purchase (counted in the database)."""
    began = time.perf_counter()
    cells = queries.cohort_counts(run.today)
    if cells.empty:
        return _("no orders yet")
    # The month in progress would read as a collapse in every cohort (on the 1st, nobody has
    # bought again "yet"): the matrix ends with the last complete month, unless there is none.
    last_month = queries.month_of(run.today) - 1
    if (cells["month"] <= last_month).any():
        cells = cells[cells["month"] <= last_month].copy()
    else:
        last_month += 1
    cells["offset"] = cells["month"] - cells["cohort"]
    sizes = cells[cells["offset"] == 0].set_index("cohort")["customers"]
    cohorts = sorted(sizes.index)[-MAX_COHORTS:]
    customers = cells.pivot_table(index="cohort", columns="offset", values="customers", aggfunc="sum")
    revenue = cells.pivot_table(index="cohort", columns="offset", values="revenue", aggfunc="sum")
    offsets = range(0, last_month - min(cohorts) + 1)
    retention, money = [], []
    for cohort in cohorts:
        observed = last_month - cohort  # later offsets have not happened yet: null, not zero
        row = customers.reindex(columns=offsets).loc[cohort]
        retention.append(
            [None if j > observed else float(np.nan_to_num(row[j]) / sizes[cohort]) for j in offsets]
        )
        cash = revenue.reindex(columns=offsets).loc[cohort]
        money.append([None if j > observed else float(np.nan_to_num(cash[j])) for j in offsets])
    c = run.customers
    gaps = (c["recency_days"] / c["frequency"]).where(c["frequency"] > 0)
    params = {
        "cohorts": [queries.month_label(m) for m in cohorts],
        "sizes": [int(sizes[m]) for m in cohorts],
        "retention": retention,
        "revenue": money,
    }
    metrics = {
        "repeat_rate": float((c["frequency"] > 0).mean()),
        "median_days_between_orders": float(gaps.median()) if gaps.notna().any() else None,
    }
    run.save(ModelKind.COHORTS, params, metrics, int(sizes.sum()), began)
    return _("%(n)d cohorts") % {"n": len(cohorts)}


def step_satisfaction(run: Refresh) -> str:
    """NPS, CSAT and CES per month and per RFM segment, from counted survey answers."""
    began = time.perf_counter()
    first_recent = queries.month_of(run.today) - 11
    recent_from = date(first_recent // 12, first_recent % 12 + 1, 1)
    answers = queries.survey_answers(run.today, recent_from)
    answers = answers[answers.apply(_in_range, axis=1)] if not answers.empty else answers
    if answers.empty:
        return _("no survey answers yet")
    count = answers["answers"].to_numpy("int64")
    months = np.repeat(answers["month"].to_numpy("int64"), count)
    dates = pd.to_datetime([f"{queries.month_label(m)}-01" for m in months])
    metric = np.repeat(answers["metric"].to_numpy(object), count)
    scores = np.repeat(answers["score"].to_numpy(float), count)
    segment = np.repeat(_segments_of(run, answers["contact"]), count)
    trend = satisfaction_trend(dates, metric, scores, freq="M")
    recent = months >= first_recent
    # one period for the whole 12 months: calendar years would split them at New Year
    by_segment = satisfaction_trend(
        dates[recent], metric[recent], scores[recent], freq=None, groups=segment[recent]
    )
    params = {"trend": _trend_rows(trend), "by_segment": _segment_rows(by_segment)}
    metrics = {
        "nps": nps(scores[recent & (metric == "nps")]),
        "csat": csat(scores[recent & (metric == "csat")]),
        "ces": ces(scores[recent & (metric == "ces")]),
        "responses": int(recent.sum()),
    }
    run.save(ModelKind.SATISFACTION, params, metrics, int(count.sum()), began)
    return _("%(n)d answers") % {"n": int(count.sum())}


SCORE_RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
NO_PURCHASE = "none"  # the "segment" of an answer from a contact who has not bought (yet)


def _segments_of(run: Refresh, contacts: pd.Series) -> np.ndarray:
    """The RFM segment this refresh gave each answer's contact ("none" if they never bought)."""
    if "rfm_segment" not in run.customers:
        return np.full(len(contacts), NO_PURCHASE, dtype=object)
    segments = run.customers["rfm_segment"]
    ids = pd.to_numeric(contacts, errors="coerce")
    return ids.map(segments).fillna(NO_PURCHASE).to_numpy(object)


def _in_range(row: pd.Series) -> bool:
    low, high = SCORE_RANGES.get(row["metric"], (1, 0))
    return low <= row["score"] <= high and float(row["score"]).is_integer()


def _trend_rows(trend: pd.DataFrame) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for record in trend.to_dict("records"):
        row = rows.setdefault(record["period"], {"period": record["period"]})
        row[record["metric"]] = record["value"]
        row[f"{record['metric']}_responses"] = int(record["responses"])
    for row in rows.values():
        for metric in SCORE_RANGES:
            row.setdefault(metric, None)
            row.setdefault(f"{metric}_responses", 0)
    return [rows[key] for key in sorted(rows)]


def _segment_rows(by_group: pd.DataFrame) -> list[dict[str, Any]]:
    """NPS per segment from ``satisfaction_trend(freq=None)``: one row per segment already."""
    nps_rows = by_group[by_group["metric"] == "nps"]
    return [
        {"segment": str(row["group"]), "nps": row["value"], "responses": int(row["responses"])}
        for row in nps_rows.to_dict("records")
    ]


def step_forecast(run: Refresh) -> str:
    """Monthly revenue 12 months ahead with 80/95 % intervals, backtested against seasonal naive."""
    began = time.perf_counter()
    history = queries.monthly_revenue(run.today)
    this_month = queries.month_of(run.today)
    history = history[history.index < this_month]  # the current month is not over: it would drag the level
    if not history.empty:  # quiet months up to the last complete one are zeros, not missing
        history = history.reindex(range(int(history.index[0]), this_month), fill_value=0.0)
    if len(history) < 6:
        return _("skipped: fewer than 6 complete months of revenue")
    first = pd.Timestamp(f"{queries.month_label(int(history.index[0]))}-01")
    series = pd.Series(history.to_numpy(), index=pd.date_range(first, periods=len(history), freq="MS"))
    try:
        chosen, tested = select_by_backtest(series) if len(series) >= 12 else (None, {})
        result = forecast_revenue(series, horizon=12, model=chosen)
        backtested = backtest(series, horizon=3, folds=4, model=chosen) if chosen else {}
    except ForecastError as error:
        return _("skipped: %(reason)s") % {"reason": error}
    params = {
        "method": result.model,
        "selected_by": "backtest" if chosen else "aicc",
        "candidates_mape": tested,
        "history": [{"month": m.strftime("%Y-%m"), "revenue": float(v)} for m, v in series.items()],
        "forecast": _forecast_rows(result.forecast),
    }
    metrics = {
        "mape": backtested.get("mape"),
        "naive_mape": backtested.get("naive_mape"),
        "backtest_months": backtested.get("months", 0),
        "aicc": result.aicc,
    }
    run.save(ModelKind.FORECAST, params, metrics, len(series), began)
    return result.model


def _forecast_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    names = {"lower_80": "lo80", "upper_80": "hi80", "lower_95": "lo95", "upper_95": "hi95", "mean": "mean"}
    return [
        {"month": month.strftime("%Y-%m"), **{names[k]: float(v) for k, v in row.items() if k in names}}
        for month, row in frame.iterrows()
    ]


def step_marketing(run: Refresh) -> str:
    """Contacts, customers, conversion, revenue, order value and repeat rate per acquisition channel."""
    began = time.perf_counter()
    contacts = queries.contact_attributes(run.today)
    if contacts.empty:
        return _("no contacts yet")
    c = run.customers.reindex(contacts.index)
    frame = pd.DataFrame(
        {
            "channel": contacts["channel"].replace("", "unknown"),
            "customer": c["orders"].notna(),
            "revenue": c["total_spend"].fillna(0.0),
            "orders": c["orders"].fillna(0),
            "repeat": c["frequency"].fillna(0) > 0,
        }
    )
    table = frame.groupby("channel").agg(
        contacts=("customer", "size"),
        customers=("customer", "sum"),
        revenue=("revenue", "sum"),
        orders=("orders", "sum"),
        repeaters=("repeat", "sum"),
    )
    table["conversion_rate"] = table["customers"] / table["contacts"]
    table["aov"] = (table["revenue"] / table["orders"]).where(table["orders"] > 0)
    table["repeat_rate"] = (table["repeaters"] / table["customers"]).where(table["customers"] > 0)
    channels = table.drop(columns="repeaters").reset_index().sort_values("revenue", ascending=False)
    totals = frame.sum(numeric_only=True)
    metrics = {
        "repeat_rate": float(frame["repeat"].sum() / max(frame["customer"].sum(), 1)),
        "aov": float(totals["revenue"] / totals["orders"]) if totals["orders"] else None,
        "conversion_rate": float(frame["customer"].mean()),
    }
    run.save(ModelKind.MARKETING, {"channels": channels.to_dict("records")}, metrics, len(frame), began)
    return _("%(n)d channels") % {"n": len(channels)}


def step_write(run: Refresh) -> str:
    """Scores of buyers and leads, the fitted models and the lifecycle stages, in one transaction."""
    leads = pd.DataFrame({"lead_score": run.leads})
    frame = pd.concat([run.customers, leads[~leads.index.isin(run.customers.index)]])
    with transaction.atomic():
        written = write_scores(frame)
        FittedModel.objects.bulk_create(run.saved)
        _prune_models()
        moved = apply_lifecycle_stages(lifecycle_stages(run.customers)) if not run.customers.empty else {}
        if moved:
            AuditLog.record(
                None,
                "lifecycle",
                summary=_("Analytics refresh moved contacts between lifecycle stages"),
                changes=moved,
            )
    return _("%(n)d scores, %(m)d stage changes") % {"n": written, "m": sum(moved.values())}


def _prune_models(keep: int = KEEP_MODELS) -> None:
    """Keep the newest ``keep`` rows of each kind: enough history to compare, no endless growth."""
    for kind in ModelKind.values:
        stale = (
            FittedModel.objects.filter(kind=kind)
            .order_by("-created_at", "-id")
            .values_list("pk", flat=True)[keep:]
        )
        FittedModel.objects.filter(pk__in=list(stale)).delete()


STEPS: list[tuple[str, Callable[[Refresh], str | None]]] = [
    ("summary", step_summary),
    ("clv", step_clv),
    ("churn", step_churn),
    ("rfm", step_rfm),
    ("personas", step_personas),
    ("basket", step_basket),
    ("leads", step_leads),
    ("cohorts", step_cohorts),
    ("satisfaction", step_satisfaction),
    ("forecast", step_forecast),
    ("marketing", step_marketing),
    ("write", step_write),
]
