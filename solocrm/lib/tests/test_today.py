"""The Today registry's own rules: points for money, ranking and limits."""

from decimal import Decimal

import pytest

from solocrm.lib import today


def test_money_adds_ten_points_per_factor_of_ten_capped_at_thirty():
    assert today.value_points(None) == 0 and today.value_points(Decimal("-5")) == 0
    assert today.value_points(Decimal("900")) == pytest.approx(10.0)
    assert today.value_points(9900) == pytest.approx(20.0)
    assert today.value_points(10**9) == 30.0


@pytest.mark.django_db
def test_items_are_ranked_by_score_and_cut_to_the_total(monkeypatch):
    def many(ctx):
        for n in range(ctx.limit + 5):
            yield today.TodayItem(key=f"x:{n}", kind="x", title=f"item {n}", reason="", score=n)

    monkeypatch.setattr(today, "_providers", {"many": many})
    items = today.collect(limit=10, total=4)
    assert [item.score for item in items] == [14, 13, 12, 11]
