"""The bulk writes of a refresh: scores and lifecycle stages in a few statements."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from solocrm.analytics.models import CustomerScore
from solocrm.analytics.writer import apply_lifecycle_stages, write_scores
from solocrm.contacts.models import Contact

pytestmark = pytest.mark.django_db


def _contacts(n: int, stage: str = "customer") -> list[int]:
    Contact.objects.bulk_create(
        [Contact(first_name=f"C{i}", email=f"w{i}@example.com", lifecycle_stage=stage) for i in range(n)]
    )
    return list(Contact.objects.order_by("id").values_list("id", flat=True))


def test_only_contacts_whose_stage_changed_move_and_the_query_count_does_not_grow():
    ids = _contacts(30)
    stages = pd.Series(["customer"] * 10 + ["repeat"] * 15 + ["churned"] * 5, index=ids)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        moved = apply_lifecycle_stages(stages)
    assert moved == {"repeat": 15, "churned": 5}
    assert len(queries) <= 8  # temporary table, load, count, update, drop: not one per contact
    stored = dict(Contact.objects.values_list("id", "lifecycle_stage"))
    assert [stored[i] for i in ids] == stages.tolist()
    with transaction.atomic():
        assert apply_lifecycle_stages(stages) == {}


def test_scores_replace_the_old_ones_with_gaps_as_nulls_or_defaults():
    ids = _contacts(3)
    CustomerScore.objects.create(
        contact_id=ids[0], orders=9, rfm_segment="champions", computed_at=timezone.now()
    )
    frame = pd.DataFrame(
        {
            "orders": [2, 1, np.nan],
            "frequency": [1, 0, np.nan],
            "first_order_at": np.array(["2025-01-02", "2025-03-04", "NaT"], dtype="datetime64[D]"),
            "total_spend": [10.5, 3.0, np.nan],
            "persona": [1.0, np.nan, np.nan],
            "lead_score": [np.nan, np.nan, 0.25],
            "rfm_segment": ["loyal", "new", None],
        },
        index=ids,
    )
    with transaction.atomic():
        assert write_scores(frame) == 3
    first, second, lead = (CustomerScore.objects.get(contact_id=i) for i in ids)
    assert (first.orders, first.frequency, first.persona, first.rfm_segment) == (2, 1, 1, "loyal")
    assert first.first_order_at == date(2025, 1, 2) and float(first.total_spend) == 10.5
    assert second.persona is None and second.lead_score is None
    assert (lead.orders, lead.rfm_segment, lead.first_order_at, lead.lead_score) == (0, "", None, 0.25)
