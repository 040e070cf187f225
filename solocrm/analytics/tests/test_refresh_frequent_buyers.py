"""The analytics refresh on a shop like that of issue 16: households buying ~60 times a year,
almost nobody leaving. On these 800 households (seed 2) the BG/NBD fit of the code before the
fix ran up a flat ridge to a = 3.4e5, b = 9.7e8 and every CLV and expected purchases came out
NaN (written as NULL); now every buyer gets finite scores and CLV ranks the big spenders first.
Runs on SQLite and PostgreSQL (DATABASE_URL). 800 households rather than the shop's 2,469 keep
the database load to ~56,000 orders; the library tests use the full size."""

from __future__ import annotations

import math
from datetime import UTC, date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.conf import settings

from solocrm.analytics import services
from solocrm.analytics.choices import ModelKind
from solocrm.analytics.clv import BetaGeoModel
from solocrm.analytics.models import CustomerScore, FittedModel
from solocrm.analytics.summary import summarize
from solocrm.contacts.models import Contact
from solocrm.sales.models import Order

from .populations import grocery

pytestmark = pytest.mark.django_db

END = date(2017, 12, 31)


def _load(tx: pd.DataFrame) -> dict[int, int]:
    """One contact per household and one paid order per transaction; returns contact id by
    household number."""
    households = sorted(tx["customer"].unique())
    Contact.objects.bulk_create(
        [Contact(first_name=f"Household {h}", email=f"household{h}@example.com") for h in households],
        batch_size=1000,
    )
    ids = dict(zip(households, Contact.objects.order_by("id").values_list("id", flat=True), strict=True))
    noon = pd.to_datetime(tx["date"]).dt.tz_localize(UTC) + pd.Timedelta(hours=12)
    Order.objects.bulk_create(
        [
            Order(
                contact_id=ids[customer],
                total=Decimal(f"{amount:.2f}"),
                currency=settings.SOLOCRM_CURRENCY,
                ordered_at=moment.to_pydatetime(),
            )
            for customer, amount, moment in zip(tx["customer"], tx["amount"], noon, strict=True)
        ],
        batch_size=5000,
    )
    return ids


def test_every_frequent_buyer_gets_a_finite_clv_ranked_by_spend():
    tx = grocery(seed=2, customers=800)
    ids = _load(tx)
    services.refresh(today=END)

    scores = pd.DataFrame(
        CustomerScore.objects.filter(contact_id__in=ids.values()).values(
            "contact_id", "orders", "total_spend", "clv", "expected_purchases", "p_alive"
        )
    )
    assert len(scores) == len(ids) == 800
    assert (scores["orders"] > 0).all()
    for column in ("clv", "expected_purchases", "p_alive"):
        values = scores[column].map(lambda v: math.nan if v is None else float(v))
        assert np.isfinite(values).all(), f"{column}: {values.isna().sum()} customers without a value"
    assert scores["p_alive"].between(0, 1).all()
    assert (scores["expected_purchases"] > 0).all()

    spend = scores["total_spend"].astype(float)
    clv = scores["clv"].astype(float)
    top, bottom = spend >= spend.quantile(0.9), spend <= spend.quantile(0.1)
    assert clv[top].mean() > clv[bottom].mean()

    stored = FittedModel.objects.filter(kind=ModelKind.BGNBD).latest("created_at")
    assert stored.params["a"] + stored.params["b"] <= 1e6 * (1 + 1e-9)  # off the ridge
    report = FittedModel.objects.filter(kind=ModelKind.CLV).latest("created_at")
    assert sum(bucket["customers"] for bucket in report.params["histogram"]) == 800

    # The refresh works in days; the library on the same households in weeks (which only
    # rescales alpha) gives the same expected purchases within 1 %.
    weeks = summarize(tx["customer"], tx["date"], observation_end=END, time_unit="W")
    model = BetaGeoModel().fit(weeks["frequency"], weeks["recency"], weeks["T"])
    in_weeks = model.expected_purchases(365.25 / 7, weeks["frequency"], weeks["recency"], weeks["T"])
    expected = pd.Series(in_weeks, index=[ids[h] for h in weeks.index])
    refreshed = scores.set_index("contact_id")["expected_purchases"].loc[expected.index]
    np.testing.assert_allclose(refreshed.to_numpy(float), expected.to_numpy(), rtol=0.01)


def test_one_time_buyers_only_are_valued_by_the_labelled_heuristic(owner_client):
    """No repeat buyer: BG/NBD cannot be fitted, so the refresh values every customer by the
    documented rule of thumb, never NULL, and the page and the API say which rule and why."""
    tx = pd.DataFrame(
        {
            "customer": range(40),
            "date": pd.date_range("2017-03-01", periods=40, freq="5D"),
            "amount": np.linspace(10.0, 400.0, 40),
        }
    )
    ids = _load(tx)
    services.refresh(today=END)

    clv = CustomerScore.objects.filter(contact_id__in=ids.values()).values_list("clv", flat=True)
    assert len(clv) == 40 and all(value is not None and math.isfinite(value) for value in clv)
    report = FittedModel.objects.filter(kind=ModelKind.CLV).latest("created_at")
    assert report.params["method"] == "spend_x_historical_rate"
    assert "repeat" in report.params["reason"]

    page = owner_client.get("/analytics/clv/").content.decode()
    assert "rule of thumb" in page and "not from a fitted model" in page
    api = owner_client.get("/api/v1/analytics/reports/clv").json()
    assert api["params"]["method"] == "spend_x_historical_rate"
