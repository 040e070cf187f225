"""The new-deal and edit forms: validation of amounts, currencies and dates, the contact and
company, and the refusal of an edit made meanwhile by someone else."""

from decimal import Decimal

import pytest
from django.urls import reverse

from solocrm.contacts.models import Company, Contact
from solocrm.sales.deals.models import Deal, Pipeline
from solocrm.sales.deals.services import create_deal, create_pipeline, default_pipeline

NEW = reverse("sales:deal_create")


@pytest.fixture
def ada(db):
    company = Company.objects.create(name="Analytical Engines")
    return Contact.objects.create(
        first_name="Ada", email="ada@example.com", company=company, source="webinar"
    )


@pytest.fixture
def pipeline(db):
    return default_pipeline()


def _data(pipeline, **values):
    data = {
        "title": "Website",
        "stage": str(pipeline.stages.first().uuid),
        "amount": "1,200.50",
        "currency": "eur",
        "expected_close": "2026-06-30",
    }
    data.update(values)
    return data


def test_a_new_deal_is_created_with_the_contact_company_and_source(owner_client, owner, pipeline, ada):
    response = owner_client.post(NEW, _data(pipeline, contact="ADA@example.com"))
    deal = Deal.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "sales:deal_detail", args=[deal.uuid]
    )
    assert (deal.amount, deal.currency, str(deal.expected_close)) == (Decimal("1200.50"), "EUR", "2026-06-30")
    assert (deal.contact, deal.company, deal.source, deal.owner) == (ada, ada.company, "webinar", owner)
    assert deal.stage_changes.count() == 1


def test_the_contact_is_prefilled_from_the_query(owner_client, pipeline, ada):
    response = owner_client.get(NEW, {"contact": str(ada.uuid)})
    assert response.context["form"]["contact"].value() == "ada@example.com"
    assert "For Ada." in response.content.decode()
    assert owner_client.get(NEW, {"contact": "nobody"}).status_code == 404


def test_a_stage_of_another_pipeline_puts_the_deal_there(owner_client, pipeline):
    other = create_pipeline("Workshops")
    owner_client.post(NEW, _data(pipeline, stage=str(other.stages.first().uuid)))
    assert Deal.objects.get().pipeline == other


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "-5"),
        ("amount", "twelve"),
        ("amount", "1.2.3"),
        ("amount", "1e400"),
        ("amount", "99999999999999"),
        ("currency", "EURO"),
        ("currency", "€"),
        ("expected_close", "2026-02-30"),
        ("expected_close", "0202-03-01"),
        ("title", ""),
        ("contact", "nobody@example.com"),
        ("stage", "00000000-0000-0000-0000-000000000000"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_is_saved(owner_client, pipeline, ada, field, value):
    response = owner_client.post(NEW, _data(pipeline, **{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Deal.objects.exists()


def test_a_closed_stage_is_not_offered_for_a_new_deal(owner_client, pipeline):
    won = pipeline.stages.get(kind="won")
    response = owner_client.post(NEW, _data(pipeline, stage=str(won.uuid)))
    assert "stage" in response.context["form"].errors and not Deal.objects.exists()


def test_a_new_company_name_creates_the_company(owner_client, pipeline):
    owner_client.post(NEW, _data(pipeline, company_name="Babbage & Co"))
    assert Deal.objects.get().company == Company.objects.get(name="Babbage & Co")


def test_a_viewer_cannot_open_the_form(viewer_client, pipeline):
    assert viewer_client.get(NEW).status_code == 403
    assert viewer_client.post(NEW, _data(pipeline)).status_code == 403
    assert not Deal.objects.exists()


def test_an_assistant_can_add_a_deal(assistant_client, pipeline):
    assert assistant_client.post(NEW, _data(pipeline)).status_code == 302


def test_a_stranger_is_sent_to_log_in(client, owner, pipeline):
    assert client.post(NEW, _data(pipeline)).status_code == 302
    assert not Deal.objects.exists()


# --- edit -----------------------------------------------------------------------------------------


@pytest.fixture
def deal(pipeline, ada):
    return create_deal({"title": "Website", "contact": ada, "amount": Decimal("100")})


def _edit(deal):
    return reverse("sales:deal_edit", args=[deal.uuid])


def _edit_data(client, deal, **values):
    form = client.get(_edit(deal)).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data["owner"] = data["owner"] or ""
    data.update(values)
    return data


def test_an_edit_changes_the_fields_but_not_the_stage(owner_client, deal):
    data = _edit_data(owner_client, deal, title="Website v2", amount="250", next_step="Call Monday")
    assert owner_client.post(_edit(deal), data).status_code == 302
    deal.refresh_from_db()
    assert (deal.title, deal.amount, deal.next_step) == ("Website v2", Decimal("250.00"), "Call Monday")
    assert deal.stage == deal.pipeline.stages.first()


def test_an_edit_made_meanwhile_is_not_overwritten_and_the_input_stays(owner_client, deal):
    data = _edit_data(owner_client, deal, title="Mine")
    Deal.objects.filter(pk=deal.pk).update(title="Theirs")
    deal.refresh_from_db()
    deal.save()  # their save bumps updated_at
    response = owner_client.post(_edit(deal), data)
    assert response.status_code == 200
    assert "Someone else changed this deal" in response.content.decode()
    assert response.context["form"]["title"].value() == "Mine"
    deal.refresh_from_db()
    assert deal.title == "Theirs"


def test_an_edit_with_a_bad_amount_changes_nothing(owner_client, deal):
    data = _edit_data(owner_client, deal, amount="-1")
    assert owner_client.post(_edit(deal), data).status_code == 200
    deal.refresh_from_db()
    assert deal.amount == Decimal("100.00")


def test_a_viewer_cannot_edit(viewer_client, deal):
    assert viewer_client.get(_edit(deal)).status_code == 403


def test_the_form_offers_pipelines_as_groups_when_there_are_several(owner_client, pipeline):
    create_pipeline("Workshops")
    choices = owner_client.get(NEW).context["form"].fields["stage"].choices
    assert [group for group, _stages in choices] == ["Sales", "Workshops"]
    assert Pipeline.objects.count() == 2
