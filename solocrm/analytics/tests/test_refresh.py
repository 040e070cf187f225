"""The analytics refresh: database → models → a score per contact, reports, lifecycle stages."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.db.models import Count, Max, Min, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from solocrm.analytics import jobs, services
from solocrm.analytics.choices import ModelKind, RfmSegment
from solocrm.analytics.models import CustomerScore, FittedModel
from solocrm.contacts.models import Contact, Interaction
from solocrm.jobs.models import Job
from solocrm.jobs.services import worker_name
from solocrm.sales.choices import REVENUE_STATUSES
from solocrm.sales.models import Order, OrderLine, Product
from solocrm.web.demo import load_demo

pytestmark = pytest.mark.django_db

END = date(2025, 6, 30)

# The keys each stored report must have (the contract with the pages and the API).
REPORT_KEYS = {
    ModelKind.BGNBD: {"r", "alpha", "a", "b"},
    ModelKind.GAMMA_GAMMA: {"p", "q", "v"},
    ModelKind.CLV: {"months", "histogram", "total_clv", "quantiles"},
    ModelKind.RFM: {"segments", "grid"},
    ModelKind.CHURN: {"chosen", "horizon_days", "features", "importance"},
    ModelKind.PERSONAS: {"k", "method", "features", "personas"},
    ModelKind.COHORTS: {"cohorts", "sizes", "retention", "revenue"},
    ModelKind.SATISFACTION: {"trend", "by_segment"},
    ModelKind.BASKET: {"rules", "popular"},
    ModelKind.LEADS: {"prior", "by_source"},
    ModelKind.FORECAST: {"method", "history", "forecast"},
    ModelKind.MARKETING: {"channels"},
}


@pytest.fixture
def refreshed():
    load_demo(contacts=300, seed=3, end=END)
    return services.refresh(today=END)


def _buyers():
    return (
        Order.objects.filter(status__in=REVENUE_STATUSES, contact__isnull=False, currency="USD")
        .values("contact_id")
        .annotate(n=Count("id"), spend=Sum("total"), first=Min("ordered_at"), last=Max("ordered_at"))
    )


def test_every_buyer_and_every_lead_gets_a_score(refreshed):
    buyers = {row["contact_id"] for row in _buyers()}
    scores = CustomerScore.objects.all()
    assert {s.contact_id for s in scores if s.orders} == buyers
    assert set(scores.values_list("contact_id", flat=True)) == set(
        Contact.objects.values_list("id", flat=True)
    )
    bought = scores.filter(orders__gt=0)
    assert not bought.filter(rfm_segment="").exists()
    assert set(bought.values_list("rfm_segment", flat=True)) <= set(RfmSegment.values)
    assert all(0 <= s.p_alive <= 1 and s.clv >= 0 and 0 <= s.churn_risk <= 1 for s in bought)
    leads = scores.filter(orders=0)
    assert all(0 < s.lead_score < 1 for s in leads)
    assert bought.exclude(next_product_name="").exists()


def test_the_summary_matches_the_orders(refreshed):
    for row in _buyers()[:25]:
        score = CustomerScore.objects.get(contact_id=row["contact_id"])
        assert score.orders == row["n"]
        assert score.total_spend == row["spend"]
        assert score.first_order_at == row["first"].date()
        assert score.last_order_at == row["last"].date()
        assert score.days_since_last == (END - row["last"].date()).days


def test_every_report_is_stored_with_its_layout(refreshed):
    for kind, keys in REPORT_KEYS.items():
        model = FittedModel.latest(kind)
        assert model is not None, kind
        assert keys <= set(model.params), kind
        assert model.code_version and model.n_samples > 0 and model.data_end == END
        json.dumps(model.params, allow_nan=False)  # no NaN sneaks into the JSON
    assert [s["name"] for s in refreshed["steps"]] == [name for name, _step in services.STEPS]


def test_the_demo_customers_fall_into_meaningful_groups(refreshed):
    segments = {row["code"]: row["customers"] for row in FittedModel.latest(ModelKind.RFM).params["segments"]}
    assert len(segments) >= 6
    personas = FittedModel.latest(ModelKind.PERSONAS).params["personas"]
    assert 2 <= len(personas) <= 8 and all(p["name"] and p["top_products"] for p in personas)
    churn = FittedModel.latest(ModelKind.CHURN)
    assert churn.metrics["candidates"][churn.params["chosen"]]["auc"] > 0.6
    forecast = FittedModel.latest(ModelKind.FORECAST).params["forecast"]
    assert len(forecast) == 12 and all(0 <= f["lo95"] <= f["mean"] <= f["hi95"] for f in forecast)
    assert FittedModel.latest(ModelKind.SATISFACTION).metrics["nps"] is not None


def test_lifecycle_stages_follow_the_documented_rules(refreshed):
    for score in CustomerScore.objects.filter(orders__gt=0).select_related("contact"):
        once = score.frequency == 0  # one-time buyers: by time, P(alive) is 1 for them
        if score.p_alive < services.CHURNED_P_ALIVE or (once and score.days_since_last > 730):
            expected = "churned"
        elif score.p_alive < services.DORMANT_P_ALIVE or (once and score.days_since_last > 365):
            expected = "dormant"
        elif score.churn_risk >= services.AT_RISK_CHURN:
            expected = "at_risk"
        else:
            expected = "repeat" if score.frequency >= 1 else "customer"
        assert score.contact.lifecycle_stage == expected


def test_without_a_purchase_model_the_stages_fall_back_on_time():
    customers = pd.DataFrame({"days_since_last": [800.0, 400.0, 20.0, 20.0], "frequency": [3, 3, 3, 0]})
    assert services.lifecycle_stages(customers).tolist() == ["churned", "dormant", "repeat", "customer"]


def test_one_time_buyers_go_dormant_and_churned_by_time_even_with_a_purchase_model():
    customers = pd.DataFrame(
        {
            "days_since_last": [800.0, 400.0, 20.0, 800.0],
            "frequency": [0, 0, 0, 4],
            "p_alive": [1.0, 1.0, 1.0, 0.9],
            "churn_risk": [0.1, 0.1, 0.1, 0.1],
        }
    )
    assert services.lifecycle_stages(customers).tolist() == ["churned", "dormant", "customer", "repeat"]


def test_a_second_refresh_replaces_the_scores(refreshed):
    first = CustomerScore.objects.order_by("contact_id").values_list("contact_id", "clv")
    before = list(first)
    services.refresh(today=END)
    assert list(first) == before  # same data, same seed: the same numbers
    assert FittedModel.objects.filter(kind=ModelKind.BGNBD).count() == 2


def test_old_models_are_pruned(refreshed, monkeypatch):
    monkeypatch.setattr(services, "KEEP_MODELS", 1)
    services._prune_models(keep=1)
    assert FittedModel.objects.filter(kind=ModelKind.BGNBD).count() == 1


def test_orders_in_another_currency_stay_out_of_the_money_figures(refreshed):
    score = CustomerScore.objects.filter(orders__gt=0).first()
    Order.objects.create(contact_id=score.contact_id, currency="JPY", total=Decimal("99999"),
                         status="paid", ordered_at=datetime(2025, 6, 1, tzinfo=UTC))  # fmt: skip
    services.refresh(today=END)
    assert CustomerScore.objects.get(pk=score.pk).total_spend == score.total_spend


def test_an_empty_database_refreshes_without_error():
    result = services.refresh(today=END)
    assert result["customers"] == 0
    assert CustomerScore.objects.count() == 0
    notes = {step["name"]: step["note"] for step in result["steps"]}
    assert "no orders" in notes["cohorts"]


def test_out_of_range_survey_answers_are_ignored(refreshed):
    contact = Contact.objects.first()
    when = datetime(2025, 6, 20, tzinfo=UTC)
    for score in (11, -1, 99):
        Interaction.objects.create(contact=contact, kind="survey", occurred_at=when,
                                   data={"metric": "nps", "score": score})  # fmt: skip
    Interaction.objects.create(contact=contact, kind="survey", occurred_at=when, data={"metric": "nps"})
    before = FittedModel.latest(ModelKind.SATISFACTION).metrics["responses"]
    services.refresh(today=END)
    assert FittedModel.latest(ModelKind.SATISFACTION).metrics["responses"] == before


def test_the_number_of_queries_does_not_grow_with_the_customers():
    load_demo(contacts=60, seed=5, end=END)
    with CaptureQueriesContext(connection) as small:
        services.refresh(today=END)
    load_demo(contacts=240, seed=5, end=END, replace=True)
    with CaptureQueriesContext(connection) as big:
        services.refresh(today=END)
    assert len(big) <= len(small) + 5


def _running_refresh(**fields) -> Job:
    values = {"kind": jobs.KIND, "handler": jobs.refresh_job.job_kind.path, "status": "running",
              "time_limit": 60, "worker": worker_name(), "heartbeat_at": timezone.now()}  # fmt: skip
    values.update(fields)
    return Job.objects.create(**values)


def test_a_second_refresh_is_refused_while_one_runs():
    _running_refresh()
    with pytest.raises(jobs.RefreshBusy):
        services.start_refresh()


def test_a_refresh_that_died_reads_as_interrupted(settings):
    _running_refresh(step="clv", done=1, total=12, heartbeat_at=timezone.now() - timedelta(hours=1))
    state = services.refresh_status()
    assert state["state"] == "failed" and "interrupted" in state["error"]


def test_the_status_follows_a_refresh():
    services.start_refresh()
    state = services.refresh_status()
    assert state["state"] == "done" and state["finished_at"] is not None and state["error"] is None


def test_the_churn_features_see_nothing_after_their_day():
    contact = Contact.objects.create(first_name="Ada")
    for day in (date(2025, 1, 1), date(2025, 3, 1), date(2025, 6, 1)):
        noon = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
        Order.objects.create(contact=contact, total=Decimal("10"), status="paid", ordered_at=noon)
    features = services.churn_features_at(date(2025, 4, 1)).loc[contact.pk]
    assert features["orders"] == 2 and features["recency_days"] == 31 and features["frequency"] == 1
    assert np.isclose(features["mean_days_between"], 59)


def test_the_first_refresh_groups_satisfaction_by_the_segments_it_computes(refreshed):
    by_segment = FittedModel.latest(ModelKind.SATISFACTION).params["by_segment"]
    codes = {row["segment"] for row in by_segment}
    assert codes <= {*RfmSegment.values, "none"}
    assert len(codes & set(RfmSegment.values)) >= 3
    answered = sum(row["responses"] for row in by_segment)
    recent_nps = Interaction.objects.filter(
        kind="survey", data__metric="nps", occurred_at__gte=datetime(2024, 7, 1, tzinfo=UTC)
    ).count()
    assert answered == recent_nps


def test_the_cohort_matrix_ends_with_the_last_complete_month(refreshed):
    services.refresh(today=END + timedelta(days=1))  # 1 July: July has barely begun
    cohorts = FittedModel.latest(ModelKind.COHORTS).params
    assert cohorts["cohorts"][-1] == "2025-06"
    for label, row in zip(cohorts["cohorts"], cohorts["retention"], strict=True):
        year, month = map(int, label.split("-"))
        months_to_june = (2025 - year) * 12 + 6 - month
        assert len([cell for cell in row if cell is not None]) == months_to_june + 1


def _order(contact: Contact, day: date, total: str, *products: Product) -> Order:
    noon = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    order = Order.objects.create(contact=contact, total=Decimal(total), status="paid", ordered_at=noon)
    for product in products:
        OrderLine.objects.create(order=order, product=product, name=product.name)
    return order


def test_a_young_shop_gets_its_rules_and_recommendations_without_a_hit_rate():
    kit, refill, mug, card = (Product.objects.create(name=n) for n in ("Kit", "Refill", "Mug", "Card"))
    for i in range(15):
        contact = Contact.objects.create(first_name=f"Young {i}")
        _order(contact, END - timedelta(days=60 - i), "30", kit, refill)
        _order(contact, END - timedelta(days=20 - i), "15", refill, mug if i % 2 else card)
    result = services.refresh(today=END)
    basket = FittedModel.latest(ModelKind.BASKET)
    assert basket.params["rules"] and basket.metrics["hit_rate"] is None
    assert basket.metrics["baseline_hit_rate"] is None and basket.metrics["holdout_customers"] == 0
    assert "hit rate" in {step["name"]: step["note"] for step in result["steps"]}["basket"]
    assert CustomerScore.objects.exclude(next_product_name="").count() == 15


def test_a_repeat_buyer_who_spent_nothing_does_not_stop_the_clv():
    load_demo(contacts=80, seed=2, end=END)
    free = Contact.objects.create(first_name="Free")
    for days_ago in (200, 100, 10):
        _order(free, END - timedelta(days=days_ago), "0")
    services.refresh(today=END)
    assert FittedModel.latest(ModelKind.GAMMA_GAMMA).metrics["n_customers"] == (
        CustomerScore.objects.filter(frequency__gt=0, total_spend__gt=0).count()
    )
    assert not CustomerScore.objects.filter(orders__gt=0, clv__isnull=True).exists()


def test_a_spend_model_without_a_finite_mean_is_named_and_the_heuristic_values_customers(monkeypatch):
    class HeavyTailed(services.GammaGammaModel):
        def fit(self, *args, **kwargs):
            super().fit(*args, **kwargs)
            self.q_ = 0.8  # as a few huge orders would make it
            return self

    monkeypatch.setattr(services, "GammaGammaModel", HeavyTailed)
    load_demo(contacts=80, seed=2, end=END)
    result = services.refresh(today=END)
    assert "q = 0.8" in {step["name"]: step["note"] for step in result["steps"]}["clv"]
    # Customers are still valued, by the labelled rule of thumb (issue 16), never left empty.
    report = FittedModel.latest(ModelKind.CLV)
    assert report.params["method"] == "spend_x_model_purchases" and "q = 0.8" in report.params["reason"]
    assert not CustomerScore.objects.filter(orders__gt=0, clv__isnull=True).exists()


def test_nps_by_segment_counts_the_whole_twelve_months_across_new_year():
    today = date(2026, 6, 30)
    buyers = [Contact.objects.create(first_name=f"Fan {i}") for i in range(5)]
    for contact in buyers:
        _order(contact, date(2026, 6, 1), "20")
    answers = [(buyers[i], datetime(2025, 9, 15, tzinfo=UTC), 10) for i in range(4)]
    answers.append((buyers[4], datetime(2026, 3, 15, tzinfo=UTC), 0))
    for contact, when, score in answers:
        Interaction.objects.create(contact=contact, kind="survey", occurred_at=when,
                                   data={"metric": "nps", "score": score})  # fmt: skip
    services.refresh(today=today)
    segment = CustomerScore.objects.get(contact=buyers[0]).rfm_segment
    assert set(CustomerScore.objects.values_list("rfm_segment", flat=True)) == {segment}
    rows = FittedModel.latest(ModelKind.SATISFACTION).params["by_segment"]
    assert rows == [{"segment": segment, "nps": 60.0, "responses": 5}]


def test_the_score_indexes_are_all_there_after_a_refresh(refreshed):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, CustomerScore._meta.db_table)
    assert {index.name for index in CustomerScore._meta.indexes} <= set(constraints)


def test_the_next_product_comes_from_the_recommender_that_won_the_holdout(refreshed):
    report = FittedModel.latest(ModelKind.BASKET)
    won_by_popular = report.metrics["baseline_hit_rate"] > report.metrics["hit_rate"]
    assert report.params["next_product_by"] == ("most_popular" if won_by_popular else "co_purchase")
    offered = CustomerScore.objects.exclude(next_product_name="").count()
    assert offered > 0


def test_the_forecast_starts_after_the_last_complete_month_even_after_quiet_months(refreshed):
    later = END + timedelta(days=95)  # no orders at all in the three months after END
    services.refresh(today=later)
    params = FittedModel.latest(ModelKind.FORECAST).params
    assert params["history"][-1]["month"] == "2025-09"
    assert params["history"][-1]["revenue"] == 0
    assert params["forecast"][0]["month"] == "2025-10"
