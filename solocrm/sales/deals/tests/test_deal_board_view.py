"""The kanban board /sales/pipeline/ and the move endpoint behind its drag and drop."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from solocrm.contacts.models import Contact
from solocrm.sales.choices import LostReason, StageKind
from solocrm.sales.deals.models import Deal, DealStageChange
from solocrm.sales.deals.services import create_deal, create_pipeline, default_pipeline, move_deal
from solocrm.sales.orders.models import Order
from solocrm.sales.tasks.services import create_task

URL = reverse("sales:board")


@pytest.fixture
def pipeline(db):
    return default_pipeline()


@pytest.fixture
def stages(pipeline):
    return {stage.name: stage for stage in pipeline.stages.all()}


@pytest.fixture
def ada(db):
    return Contact.objects.create(first_name="Ada", last_name="Lovelace", email="ada@example.com")


def _move(client, deal, stage, json_answer=True, **extra):
    headers = {"HTTP_ACCEPT": "application/json"} if json_answer else {}
    data = {"stage": str(stage.uuid), **extra}
    return client.post(reverse("sales:deal_move", args=[deal.uuid]), data, **headers)


def test_the_board_shows_a_column_per_stage_with_counts_and_totals(owner_client, stages, ada):
    create_deal({"title": "Website", "contact": ada, "amount": Decimal("1000"), "currency": "EUR"})
    create_deal({"title": "Logo", "amount": Decimal("500"), "currency": "EUR"})
    create_deal({"title": "Flyer", "amount": Decimal("80"), "currency": "USD"})
    response = owner_client.get(URL)
    assert response.status_code == 200
    columns = response.context["columns"]
    assert [c["stage"].name for c in columns] == [
        "New lead",
        "Qualified",
        "Proposal",
        "Negotiation",
        "Won",
        "Lost",
    ]
    first = columns[0]
    assert first["count"] == 3
    assert [(t["currency"], t["total"], t["weighted"]) for t in first["totals"]] == [
        ("EUR", Decimal("1500.00"), Decimal("150.00")),
        ("USD", Decimal("80.00"), Decimal("8.00")),
    ]
    html = response.content.decode()
    assert "Website" in html and "Ada Lovelace" in html and "1,500.00 EUR" in html
    assert 'src="/static/web/vendor/sortable-1.15.7.min.js"' in html


def test_a_stalled_deal_carries_a_badge(owner_client, pipeline):
    quiet = create_deal({"title": "Quiet one"})
    Deal.objects.filter(pk=quiet.pk).update(last_activity_at=timezone.now() - timedelta(days=30))
    create_deal({"title": "Fresh one"})
    response = owner_client.get(URL)
    cards = {deal.title: deal.is_stalled for deal in response.context["columns"][0]["deals"]}
    assert cards == {"Quiet one": True, "Fresh one": False}
    assert response.content.decode().count('class="badge badge-warning">stalled') == 1


def test_each_column_shows_at_most_the_limit_and_links_to_the_rest(owner_client, pipeline, settings):
    from solocrm.sales.deals import services as pipeline_module

    first = pipeline.stages.first()
    Deal.objects.bulk_create(
        Deal(title=f"Deal {i}", pipeline=pipeline, stage=first, position=i)
        for i in range(pipeline_module.BOARD_CARDS + 5)
    )
    response = owner_client.get(URL)
    column = response.context["columns"][0]
    assert len(column["deals"]) == pipeline_module.BOARD_CARDS and column["hidden"] == 5
    assert column["deals"][0].title == "Deal 0"
    assert f"Show all {pipeline_module.BOARD_CARDS + 5} in the list" in response.content.decode()


@pytest.mark.parametrize("rows", [3, 40])
def test_the_board_query_count_does_not_grow_with_deals(
    owner_client, pipeline, ada, django_assert_max_num_queries, rows
):
    stages = list(pipeline.stages.all())
    for i in range(rows):
        deal = create_deal({"title": f"Deal {i}", "contact": ada, "amount": Decimal(i)})
        if i % 3:
            move_deal(deal, stages[i % 4])
        create_task(title=f"Call about {i}", deal=deal, due_at=timezone.now() + timedelta(days=i))
    owner_client.get(URL)  # the session and the default pipeline exist from here on
    # 8 before the cards showed their next task (one query for all) and the owner filter listed
    # the users (one query).
    with django_assert_max_num_queries(10):
        assert owner_client.get(URL).status_code == 200


def test_won_and_lost_columns_show_only_recently_closed_deals(owner_client, stages):
    recent = create_deal({"title": "Recent win"})
    old = create_deal({"title": "Old win"})
    move_deal(recent, stages["Won"])
    move_deal(old, stages["Won"])
    Deal.objects.filter(pk=old.pk).update(closed_at=timezone.now() - timedelta(days=90))
    won = owner_client.get(URL).context["columns"][4]
    assert [d.title for d in won["deals"]] == ["Recent win"] and won["count"] == 1


def test_another_pipeline_is_shown_with_its_uuid(owner_client, pipeline):
    other = create_pipeline("Workshops")
    create_deal({"title": "Workshop", "pipeline": other})
    response = owner_client.get(URL, {"pipeline": str(other.uuid)})
    assert response.context["pipeline"] == other
    assert owner_client.get(URL, {"pipeline": "not-a-uuid"}).status_code == 404


@pytest.mark.parametrize(("persona", "status"), [("owner", 200), ("assistant", 200), ("viewer", 200)])
def test_every_role_sees_the_board(client, request, pipeline, persona, status):
    client.force_login(request.getfixturevalue(persona))
    create_deal({"title": "Website"})
    response = client.get(URL)
    assert response.status_code == status
    # Only those who may edit get the move forms and the drag and drop.
    assert ("data-readonly" in response.content.decode()) == (persona == "viewer")


def test_a_stranger_is_sent_to_log_in(client, owner, pipeline):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- moving ---------------------------------------------------------------------------------------


def test_a_drop_moves_the_deal_between_its_neighbours_and_answers_fresh_html(owner_client, stages):
    a, b = create_deal({"title": "A"}), create_deal({"title": "B"})
    move_deal(a, stages["Qualified"], position=1)
    move_deal(b, stages["Qualified"], position=2)
    x = create_deal({"title": "X", "amount": Decimal("100")})
    response = _move(owner_client, x, stages["Qualified"], above=str(a.uuid), below=str(b.uuid))
    assert response.status_code == 200
    answer = response.json()
    assert answer["ok"] is True and "order_url" not in answer
    assert set(answer["columns"]) == {str(stages["New lead"].uuid), str(stages["Qualified"].uuid)}
    assert "100.00 USD" in answer["columns"][str(stages["Qualified"].uuid)]
    assert f'id="deal-{x.uuid}"' in answer["card"]
    # The fresh card's own form goes back to the board and shows the new stage.
    assert (
        f'name="next" value="/sales/pipeline/?pipeline={stages["Qualified"].pipeline.uuid}"' in answer["card"]
    )
    assert f'<option value="{stages["Qualified"].uuid}" selected>Qualified</option>' in answer["card"]
    column = (
        Deal.objects.filter(stage=stages["Qualified"]).order_by("position").values_list("title", flat=True)
    )
    assert list(column) == ["A", "X", "B"]


def test_a_drop_on_won_creates_the_order_and_links_to_the_contact_page(owner_client, stages, ada):
    deal = create_deal({"title": "Website", "contact": ada, "amount": Decimal("1200")})
    answer = _move(owner_client, deal, stages["Won"]).json()
    order = Order.objects.get()
    assert order.total == Decimal("1200.00") and order.contact == ada
    assert answer["order_url"] == reverse("contacts:detail", args=[ada.uuid]) + "#orders-title"
    assert "won" in answer["message"]


def test_a_drop_on_lost_without_a_reason_is_refused_and_changes_nothing(owner_client, stages):
    deal = create_deal({"title": "Website"})
    response = _move(owner_client, deal, stages["Lost"])
    assert response.status_code == 422 and response.json()["ok"] is False
    assert "lost" in response.json()["error"]
    deal.refresh_from_db()
    assert deal.stage == stages["New lead"] and deal.closed_at is None
    assert DealStageChange.objects.filter(deal=deal).count() == 1


def test_a_drop_on_lost_with_a_reason_closes_the_deal(owner_client, stages):
    deal = create_deal({"title": "Website"})
    response = _move(owner_client, deal, stages["Lost"], lost_reason=LostReason.PRICE, lost_note="Too dear")
    assert response.json()["ok"] is True
    deal.refresh_from_db()
    assert (deal.stage.kind, deal.lost_reason, deal.lost_note) == (StageKind.LOST, "price", "Too dear")


def test_a_stage_of_another_pipeline_is_refused(owner_client, stages):
    deal = create_deal({"title": "Website"})
    forged = create_pipeline("Other").stages.get(kind=StageKind.WON)
    response = _move(owner_client, deal, forged)
    assert response.status_code == 422
    deal.refresh_from_db()
    assert deal.stage == stages["New lead"] and not Order.objects.exists()


@pytest.mark.parametrize("value", ["nope", "", "00000000-0000-0000-0000-000000000000"])
def test_a_bad_stage_value_is_refused(owner_client, stages, value):
    deal = create_deal({"title": "Website"})
    response = owner_client.post(
        reverse("sales:deal_move", args=[deal.uuid]), {"stage": value}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 422
    deal.refresh_from_db()
    assert deal.stage == stages["New lead"]


def test_the_plain_form_moves_and_goes_back_to_the_board(owner_client, stages):
    deal = create_deal({"title": "Website"})
    response = _move(owner_client, deal, stages["Proposal"], json_answer=False, next=URL)
    assert response.status_code == 302 and response["Location"] == URL
    deal.refresh_from_db()
    assert deal.stage == stages["Proposal"]


def test_the_plain_form_to_lost_asks_for_the_reason_on_a_page(owner_client, stages):
    deal = create_deal({"title": "Website"})
    response = _move(owner_client, deal, stages["Lost"], json_answer=False, next=URL)
    assert response.status_code == 422
    assert "Why was it lost?" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == stages["New lead"]


def test_a_next_url_to_another_site_is_ignored(owner_client, stages):
    deal = create_deal({"title": "Website"})
    response = _move(owner_client, deal, stages["Proposal"], json_answer=False, next="https://evil.example/")
    assert response["Location"] == reverse("sales:deal_detail", args=[deal.uuid])


def test_a_viewer_cannot_move_and_nothing_changes(viewer_client, stages):
    deal = create_deal({"title": "Website"})
    assert _move(viewer_client, deal, stages["Won"]).status_code == 403
    deal.refresh_from_db()
    assert deal.stage == stages["New lead"] and not Order.objects.exists()


def test_an_assistant_can_move(assistant_client, stages):
    deal = create_deal({"title": "Website"})
    assert _move(assistant_client, deal, stages["Qualified"]).json()["ok"] is True


def test_a_stranger_cannot_move(client, owner, stages):
    deal = create_deal({"title": "Website"})
    response = _move(client, deal, stages["Won"])
    assert response.status_code == 302
    assert not Order.objects.exists()


def test_moving_an_unknown_deal_is_a_404(owner_client, stages):
    response = owner_client.post(
        reverse("sales:deal_move", args=["00000000-0000-0000-0000-000000000000"]),
        {"stage": str(stages["Won"].uuid)},
    )
    assert response.status_code == 404


def test_a_title_with_markup_is_escaped_on_the_card(owner_client, stages):
    deal = create_deal({"title": "<script>alert(1)</script>"})
    html = owner_client.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    card = json.loads(_move(owner_client, deal, stages["Qualified"]).content)["card"]
    assert "<script>alert" not in card


# --- compact cards, filters in the URL -------------------------------------------------------------


def test_a_card_shows_contact_amount_age_and_the_next_task_with_its_due_date(owner_client, stages, ada):
    deal = create_deal({"title": "Website", "contact": ada, "amount": Decimal("1250"), "currency": "EUR"})
    Deal.objects.filter(pk=deal.pk).update(created_at=timezone.now() - timedelta(days=12, hours=1))
    later = timezone.now() + timedelta(days=9)
    create_task(title="Send the draft", deal=deal, due_at=later)
    create_task(title="Call back", deal=deal, due_at=timezone.now() - timedelta(days=1))  # due first
    done = create_task(title="Old call", deal=deal, due_at=timezone.now() - timedelta(days=5))
    done.complete()
    response = owner_client.get(URL)
    card = response.context["columns"][0]["deals"][0]
    assert (card.age_days, card.next_task.title, card.next_task_overdue) == (12, "Call back", True)
    page = response.content.decode()
    assert 'class="avatar avatar-sm' in page and ">AL</span>" in page and "Ada Lovelace" in page
    assert "1,250.00 EUR" in page and "12 days" in page
    assert 'class="deal-card-next overdue"' in page and "Call back" in page and "Old call" not in page


def test_the_filters_narrow_the_cards_and_the_totals_and_stay_in_the_links(owner_client, owner, stages, ada):
    create_deal({"title": "Website", "contact": ada, "amount": Decimal("1000"), "owner": owner})
    create_deal({"title": "Logo", "amount": Decimal("500")})
    quiet = create_deal({"title": "Quiet flyer", "amount": Decimal("80"), "owner": owner})
    Deal.objects.filter(pk=quiet.pk).update(last_activity_at=timezone.now() - timedelta(days=60))
    response = owner_client.get(URL, {"owner": owner.username, "q": "lovelace"})
    first = response.context["columns"][0]
    assert [d.title for d in first["deals"]] == ["Website"] and first["count"] == 1
    assert [t["total"] for t in first["totals"]] == [Decimal("1000.00")]
    page = response.content.decode()
    assert 'value="lovelace"' in page and f'<option value="{owner.username}" selected>' in page
    assert f'data-filter-owner="{owner.username}"' in page and 'data-filter-q="lovelace"' in page
    assert "&amp;q=lovelace" in page  # the List button keeps the filters
    stalled = owner_client.get(URL, {"stalled": "true"}).context["columns"][0]
    assert [d.title for d in stalled["deals"]] == ["Quiet flyer"]
    # The move form comes back to the filtered board.
    assert f'name="next" value="{URL}?owner={owner.username}&amp;q=lovelace"' in page


def test_a_bad_filter_is_ignored_with_a_message(owner_client, stages):
    create_deal({"title": "Website"})
    response = owner_client.get(URL, {"stalled": "maybe"})
    assert response.status_code == 200 and "not understood" in response.content.decode()
    assert [d.title for d in response.context["columns"][0]["deals"]] == ["Website"]


def test_after_a_drop_the_column_totals_count_what_the_filters_show(owner_client, owner, stages):
    mine = create_deal({"title": "Mine", "amount": Decimal("100"), "owner": owner})
    create_deal({"title": "Other", "amount": Decimal("900")})
    create_deal({"title": "Other qualified", "amount": Decimal("50")}, actor=None)
    move_deal(Deal.objects.get(title="Other qualified"), stages["Qualified"])
    answer = _move(owner_client, mine, stages["Qualified"], owner=owner.username).json()
    assert answer["ok"]
    qualified = answer["columns"][str(stages["Qualified"].uuid)]
    new_lead = answer["columns"][str(stages["New lead"].uuid)]
    assert "100.00" in qualified and "50.00" not in qualified and ">1<" in qualified
    assert "—" in new_lead and "900.00" not in new_lead
    assert "Mine" in answer["card"] and "0 days" in answer["card"]
    unfiltered = _move(owner_client, mine, stages["New lead"]).json()
    assert "1,000.00" in unfiltered["columns"][str(stages["New lead"].uuid)]  # 900 + 100
