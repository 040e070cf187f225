"""The deals list /sales/deals/ with the shared DealFilter, sorting, pages and CSV export."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from solocrm.contacts.models import Company, Contact
from solocrm.sales.choices import LostReason
from solocrm.sales.deals.models import Deal
from solocrm.sales.deals.services import (
    create_deal,
    create_pipeline,
    default_pipeline,
    lose_deal,
    move_deal,
    win_deal,
)

URL = reverse("sales:deal_list")


@pytest.fixture
def deals(owner):
    pipeline = default_pipeline()
    ada = Contact.objects.create(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    acme = Company.objects.create(name="Acme")
    made = {
        "website": create_deal(
            {"title": "Website", "contact": ada, "amount": Decimal("1200"), "source": "webinar"}, actor=owner
        ),
        "logo": create_deal(
            {"title": "Logo", "company": acme, "amount": Decimal("300"), "expected_close": date(2026, 5, 1)}
        ),
        "flyer": create_deal({"title": "Flyer", "amount": Decimal("50"), "expected_close": date(2026, 7, 1)}),
        "won": create_deal({"title": "Shop", "amount": Decimal("5000")}),
        "lost": create_deal({"title": "App", "amount": Decimal("9000")}),
    }
    move_deal(made["logo"], pipeline.stages.get(name="Proposal"))
    win_deal(made["won"])
    lose_deal(made["lost"], LostReason.PRICE)
    return made


def _titles(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    return [deal.title for deal in response.context["page"]]


def test_the_filters_of_the_shared_definition_apply(owner_client, deals):
    pipeline = default_pipeline()
    assert sorted(_titles(owner_client, status="open")) == ["Flyer", "Logo", "Website"]
    assert _titles(owner_client, status="won") == ["Shop"]
    assert _titles(owner_client, status="lost") == ["App"]
    assert _titles(owner_client, stage=str(pipeline.stages.get(name="Proposal").uuid)) == ["Logo"]
    assert _titles(owner_client, q="lovelace") == ["Website"]
    assert _titles(owner_client, q="acme") == ["Logo"]
    assert _titles(owner_client, source="WEBINAR") == ["Website"]
    assert _titles(owner_client, owner="olivia") == ["Website"]
    assert _titles(owner_client, close_after="2026-06-01") == ["Flyer"]
    assert _titles(owner_client, close_before="2026-06-01") == ["Logo"]
    assert _titles(owner_client, pipeline=str(create_pipeline("Other").uuid)) == []


def test_stalled_deals_are_found(owner_client, deals):
    Deal.objects.filter(pk=deals["flyer"].pk).update(last_activity_at=timezone.now() - timedelta(days=40))
    assert _titles(owner_client, stalled="true", close_after="2030-01-01") == []
    stalled = _titles(owner_client, stalled="true")
    assert "Flyer" in stalled and "Shop" not in stalled


def test_sorting_by_amount_and_close_date(owner_client, deals):
    assert _titles(owner_client, ordering="-amount") == ["App", "Shop", "Website", "Logo", "Flyer"]
    assert _titles(owner_client, ordering="close")[:2] == ["Logo", "Flyer"]  # undated last
    response = owner_client.get(URL, {"ordering": "-amount"})
    assert "ordering=amount" in response.content.decode()  # the column head reverses it


def test_a_bad_filter_is_explained_and_ignored(owner_client, deals):
    response = owner_client.get(URL, {"status": "maybe", "min_amount": "-3"})
    assert response.status_code == 200
    assert "not understood" in response.content.decode()
    assert len(response.context["page"]) == 5


def test_an_htmx_request_gets_only_the_results(owner_client, deals):
    response = owner_client.get(URL, {"q": "logo"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="deal-results"') and "<html" not in html


@pytest.mark.parametrize("rows", [3, 30])
def test_the_list_query_count_does_not_grow_with_rows(
    owner_client, owner, django_assert_max_num_queries, rows
):
    pipeline = default_pipeline()
    company = Company.objects.create(name="Acme")
    for i in range(rows):
        contact = Contact.objects.create(first_name=f"C{i}", company=company)
        create_deal({"title": f"Deal {i}", "contact": contact, "pipeline": pipeline}, actor=owner)
    with django_assert_max_num_queries(10):
        assert owner_client.get(URL).status_code == 200


def test_the_csv_export_has_the_filtered_deals_with_formulas_defused(owner_client, deals):
    create_deal({"title": '=HYPERLINK("http://evil")', "amount": Decimal("1")})
    response = owner_client.get(reverse("sales:deal_export"), {"status": "open"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    titles = sorted(row["title"] for row in rows)
    assert titles == ['\'=HYPERLINK("http://evil")', "Flyer", "Logo", "Website"]
    website = next(row for row in rows if row["title"] == "Website")
    assert (website["amount"], website["contact_email"], website["status"]) == (
        "1200.00",
        "ada@example.com",
        "open",
    )


@pytest.mark.parametrize("persona", ["owner", "assistant", "viewer"])
def test_every_role_may_see_the_list(client, request, deals, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 200
    assert client.get(reverse("sales:deal_export")).status_code == 200


def test_a_stranger_gets_nothing(client, deals):
    assert client.get(URL).status_code == 302
    assert client.get(reverse("sales:deal_export")).status_code == 302
