"""A deal's page /sales/deals/<uuid>/: fields, stage path, actions, order, tasks, activity."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from solocrm.contacts.models import Contact, Interaction
from solocrm.sales.choices import LostReason, StageKind
from solocrm.sales.deals.models import Deal, DealStageChange
from solocrm.sales.deals.services import create_deal, default_pipeline, move_deal
from solocrm.sales.orders.models import Order
from solocrm.sales.tasks.models import Task


@pytest.fixture
def ada(db):
    return Contact.objects.create(first_name="Ada", last_name="Lovelace", email="ada@example.com")


@pytest.fixture
def deal(ada):
    default_pipeline()
    return create_deal(
        {"title": "Website", "contact": ada, "amount": Decimal("1200"), "next_step": "Send the proposal"}
    )


def _url(deal, name="sales:deal_detail"):
    return reverse(name, args=[deal.uuid])


def test_the_page_shows_the_deal_its_contact_and_weighted_amount(owner_client, deal):
    html = owner_client.get(_url(deal)).content.decode()
    assert "Website" in html and "Ada Lovelace" in html and "Send the proposal" in html
    assert "1,200.00 USD" in html and "weighted 120.00 USD (10 %)" in html
    for point in ("integration: quotes", "integration: attachments", "integration: log activity"):
        assert point not in html  # template comments, not output


def test_the_stage_path_lists_the_time_in_each_stage(owner_client, deal):
    pipeline = deal.pipeline
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    DealStageChange.objects.filter(deal=deal).update(changed_at=start)
    move_deal(deal, pipeline.stages.get(name="Qualified"), when=start + timedelta(days=3))
    path = owner_client.get(_url(deal)).context["path"]
    assert [(step["stage"].name, round(step["days"], 1)) for step in path[:1]] == [("New lead", 3.0)]
    assert path[1]["stage"].name == "Qualified" and path[1]["left_at"] is None


def test_a_won_deal_shows_its_order_with_a_link_to_the_contacts_orders(owner_client, deal):
    deal.mark_won()
    response = owner_client.get(_url(deal))
    html = response.content.decode()
    assert "Order “Deal Website” of 1,200.00 USD" in html
    assert reverse("contacts:detail", args=[deal.contact.uuid]) + "#orders-title" in html
    assert "Mark as won" not in html


def test_tasks_and_interactions_of_the_deal_are_listed(owner_client, deal, ada):
    Task.objects.create(title="Call about the website", deal=deal, contact=ada)
    Task.objects.create(title="Unrelated task", contact=ada)
    Interaction.objects.create(
        kind="call", subject="Kick-off call", contact=ada, deal=deal, occurred_at=timezone.now()
    )
    html = owner_client.get(_url(deal)).content.decode()
    assert "Call about the website" in html and "Kick-off call" in html
    assert "Unrelated task" not in html


def test_the_won_button_moves_the_deal_and_creates_the_order(owner_client, deal):
    won = deal.pipeline.stages.get(kind=StageKind.WON)
    response = owner_client.post(_url(deal, "sales:deal_move"), {"stage": str(won.uuid)})
    assert response.status_code == 302 and response["Location"] == _url(deal)
    assert Order.objects.get().total == Decimal("1200.00")
    page = owner_client.get(_url(deal))
    assert "is won: its order was created" in page.content.decode()


def test_the_lost_form_needs_a_reason(owner_client, deal):
    lost = deal.pipeline.stages.get(kind=StageKind.LOST)
    response = owner_client.post(_url(deal, "sales:deal_move"), {"stage": str(lost.uuid), "lost_reason": ""})
    assert response.status_code == 422
    deal.refresh_from_db()
    assert deal.is_open
    owner_client.post(
        _url(deal, "sales:deal_move"), {"stage": str(lost.uuid), "lost_reason": LostReason.TIMING}
    )
    deal.refresh_from_db()
    assert deal.lost_reason == LostReason.TIMING


@pytest.mark.parametrize("rows", [2, 20])
def test_the_page_query_count_does_not_grow_with_tasks_and_activity(
    owner_client, deal, ada, django_assert_max_num_queries, rows
):
    for i in range(rows):
        Task.objects.create(title=f"Task {i}", deal=deal, contact=ada)
        Interaction.objects.create(
            kind="note", subject=f"Note {i}", contact=ada, deal=deal, occurred_at=timezone.now()
        )
        move_deal(deal, deal.pipeline.stages.all()[i % 3])
    with django_assert_max_num_queries(17):  # 17th: may e-mail be sent from the CRM (E-mail button)
        assert owner_client.get(_url(deal)).status_code == 200


@pytest.mark.parametrize(("persona", "edit_buttons", "delete_button"), [
    ("owner", True, True), ("assistant", True, False), ("viewer", False, False),
])  # fmt: skip
def test_each_role_sees_the_buttons_it_may_use(client, request, deal, persona, edit_buttons, delete_button):
    client.force_login(request.getfixturevalue(persona))
    html = client.get(_url(deal)).content.decode()
    assert ("Mark as won" in html) == edit_buttons
    assert (_url(deal, "sales:deal_delete") in html) == delete_button


def test_a_stranger_gets_nothing(client, owner, deal):
    response = client.get(_url(deal))
    assert response.status_code == 302 and "Website" not in response.content.decode()


def test_an_unknown_deal_is_a_404(owner_client, db):
    assert owner_client.get("/sales/deals/00000000-0000-0000-0000-000000000000/").status_code == 404


# --- delete ---------------------------------------------------------------------------------------


def test_only_the_owner_may_delete_and_the_order_stays(owner_client, deal):
    order = deal.mark_won()
    assert owner_client.get(_url(deal, "sales:deal_delete")).status_code == 200
    response = owner_client.post(_url(deal, "sales:deal_delete"))
    assert response.status_code == 302
    assert not Deal.objects.exists() and Order.objects.get() == order


@pytest.mark.parametrize("persona", ["assistant", "viewer"])
def test_others_may_not_delete(client, request, deal, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.post(_url(deal, "sales:deal_delete")).status_code == 403
    assert Deal.objects.filter(pk=deal.pk).exists()
