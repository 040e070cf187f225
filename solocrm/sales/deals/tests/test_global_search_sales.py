"""Deals, quotes, orders and tasks in global search (sales/search.py)."""

from decimal import Decimal

import pytest

from solocrm.lib.search import search
from solocrm.sales.orders.services import create_order
from solocrm.sales.quotes.services import create_quote
from solocrm.sales.tasks.services import create_task


def found(text: str, user) -> list[tuple[str, str, str]]:
    _query, results = search(text, user, region="GB")
    return [(r.kind, r.title, r.url) for r in results]


@pytest.fixture
def records(deal, customer, owner):
    quote = create_quote(deal, actor=owner)
    order = create_order({"contact": customer, "number": "1043", "currency": "EUR", "total": Decimal("90")})
    task = create_task(title="Call Ada about the garden", contact=customer, actor=owner)
    return {"quote": quote, "order": order, "task": task}


def test_a_deal_is_found_by_its_title_with_a_link_to_its_page(records, deal, owner):
    assert ("deal", "Garden redesign", f"/sales/deals/{deal.uuid}/") in found("garden", owner)


def test_a_quote_is_found_by_its_number_or_its_deal(records, owner):
    quote = records["quote"]
    assert ("quote", quote.number, f"/sales/quotes/{quote.uuid}/") in found(quote.number, owner)
    assert "quote" in {kind for kind, _title, _url in found("redesign", owner)}


def test_an_order_is_found_by_its_exact_number_on_its_customers_page(records, customer, owner):
    url = f"/contacts/{customer.uuid}/#orders"
    assert ("order", "1043", url) in found("1043", owner)
    assert ("order", "1043", url) in found("#1043", owner)
    assert not [k for k, *_ in found("104", owner) if k == "order"]


def test_a_task_is_found_by_its_title(records, owner):
    task = records["task"]
    assert ("task", task.title, f"/sales/tasks/{task.uuid}/") in found("call ada", owner)


def test_kinds_are_ranked_together(records, owner):
    kinds = [kind for kind, *_ in found("garden", owner)]
    assert kinds[0] == "deal"  # the title starts with the word; the task has it inside
    assert "task" in kinds


def test_a_viewer_finds_them_too(records, viewer):
    assert found("garden", viewer)
