"""The /api/v1/forms and /api/v1/leads endpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from solocrm.contacts.choices import InteractionKind, LifecycleStage
from solocrm.contacts.models import Contact, Interaction
from solocrm.sales.deals.models import Deal
from solocrm.sales.leadforms import services as leadforms
from solocrm.sales.leadforms.models import FormSubmission, LeadForm
from solocrm.users.services import create_token

pytestmark = pytest.mark.django_db


def _json(client, method: str, url: str, data=None, **headers):
    return getattr(client, method)(url, data, content_type="application/json", headers=headers)


@pytest.fixture
def lead_form(owner) -> LeadForm:
    return leadforms.create_lead_form(
        {"name": "Website", "fields": ["email", "message"], "required_fields": ["email"], "source": "web"},
        actor=owner,
    )


def test_a_stranger_gets_401_everywhere(client, lead_form):
    for url in ("/api/v1/forms", f"/api/v1/forms/{lead_form.uuid}", "/api/v1/leads", "/api/v1/leads/speed"):
        assert client.get(url).status_code == 401, url
    assert _json(client, "post", "/api/v1/forms", {"name": "x"}).status_code == 401


def test_a_token_creates_a_form_and_gets_its_urls(client, owner):
    _token, raw = create_token(owner, "script")
    response = _json(
        client,
        "post",
        "/api/v1/forms",
        {"name": "Fair", "fields": ["phone", "first_name"], "required_fields": ["phone"], "source": "fair"},
        Authorization=f"Bearer {raw}",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["fields"] == ["first_name", "phone"]
    assert body["hosted_url"] == f"http://testserver/f/{body['uuid']}/"
    assert body["embed_snippet"].startswith(f'<iframe src="http://testserver/f/{body["uuid"]}/embed/"')
    assert body["submission_count"] == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"name": ""},
        {"name": "x", "fields": ["first_name"]},
        {"name": "x", "fields": ["email"], "required_fields": ["phone"]},
        {"name": "x", "fields": ["shoe_size"]},
        {"name": "x", "surprise": True},
        {"name": "x" * 101},
    ],
)
def test_a_form_that_cannot_work_is_a_422(owner_client, payload):
    response = _json(owner_client, "post", "/api/v1/forms", payload)
    assert response.status_code == 422, response.content
    assert not LeadForm.objects.exists()


def test_list_get_patch_and_delete(owner_client, lead_form):
    leadforms.submit_lead_form(lead_form, {"email": "a@example.com"})
    listed = owner_client.get("/api/v1/forms").json()
    assert listed["count"] == 1 and listed["items"][0]["submission_count"] == 1
    url = f"/api/v1/forms/{lead_form.uuid}"
    assert owner_client.get(url).json()["name"] == "Website"
    patched = _json(owner_client, "patch", url, {"active": False, "title": "Hello"})
    assert patched.status_code == 200 and (patched.json()["active"], patched.json()["title"]) == (
        False,
        "Hello",
    )
    assert _json(owner_client, "patch", url, {"fields": ["message"]}).status_code == 422
    assert owner_client.delete(url).status_code == 204
    assert not LeadForm.objects.exists() and Contact.objects.filter(email="a@example.com").exists()


def test_roles_decide_by_method(assistant, viewer, lead_form):
    # One client per persona: the fixtures' clients share a single session.
    as_assistant, as_viewer = Client(), Client()
    as_assistant.force_login(assistant)
    as_viewer.force_login(viewer)
    url = f"/api/v1/forms/{lead_form.uuid}"
    assert as_viewer.get(url).status_code == 200
    assert _json(as_viewer, "patch", url, {"title": "x"}).status_code == 403
    assert as_viewer.delete(url).status_code == 403
    assert _json(as_assistant, "patch", url, {"title": "x"}).status_code == 200
    assert as_assistant.delete(url).status_code == 403
    assert LeadForm.objects.filter(pk=lead_form.pk).exists()


def test_submissions_are_listed_newest_first_with_the_consent_text(viewer_client, lead_form):
    leadforms.update_lead_form(lead_form, {"consent_text": "News please."})
    leadforms.submit_lead_form(lead_form, {"email": "a@example.com"}, consent=True)
    leadforms.submit_lead_form(lead_form, {"email": "b@example.com", "message": "<b>x</b>"})
    body = viewer_client.get(f"/api/v1/forms/{lead_form.uuid}/submissions").json()
    assert [item["data"]["email"] for item in body["items"]] == ["b@example.com", "a@example.com"]
    assert body["items"][1]["consent_text"] == "News please."
    assert body["items"][0]["data"]["message"] == "<b>x</b>"
    assert body["items"][0]["contact"] == str(Contact.objects.get(email="b@example.com").uuid)


def test_an_unknown_form_is_a_404(owner_client):
    assert owner_client.get("/api/v1/forms/00000000-0000-7000-8000-000000000000").status_code == 404
    assert owner_client.get("/api/v1/forms/nonsense/submissions").status_code == 404


def _lead(name: str, hours_ago: float, replied_after: float | None = None, source: str = "") -> Contact:
    contact = Contact.objects.create(first_name=name, source=source, lifecycle_stage=LifecycleStage.LEAD)
    arrived = timezone.now() - timedelta(hours=hours_ago)
    Contact.objects.filter(pk=contact.pk).update(created_at=arrived)
    if replied_after is not None:
        Interaction.objects.create(
            contact=contact, kind=InteractionKind.CALL, occurred_at=arrived + timedelta(hours=replied_after)
        )
    return contact


def test_leads_are_listed_with_their_response_time_and_filtered(viewer_client):
    _lead("Waiting", 2, source="fair")
    _lead("Replied", 5, replied_after=1.5)
    body = viewer_client.get("/api/v1/leads").json()
    assert [(i["name"], i["response_seconds"]) for i in body["items"]] == [
        ("Waiting", None),
        ("Replied", 5400.0),
    ]
    assert [i["name"] for i in viewer_client.get("/api/v1/leads?waiting=true").json()["items"]] == ["Waiting"]
    assert [i["name"] for i in viewer_client.get("/api/v1/leads?source=fair").json()["items"]] == ["Waiting"]
    assert viewer_client.get("/api/v1/leads?waiting=perhaps").status_code == 422


def test_speed_to_lead_in_seconds(viewer_client):
    _lead("A", 10, replied_after=1)
    _lead("B", 20, replied_after=3)
    _lead("C", 30)
    body = viewer_client.get("/api/v1/leads/speed?days=30").json()
    assert body == {"days": 30, "leads": 3, "replied": 2, "waiting": 1} | {
        "median_seconds": 7200.0,
        "average_seconds": 7200.0,
    }
    assert viewer_client.get("/api/v1/leads/speed?days=0").status_code == 422


def test_converting_a_lead_opens_a_deal_and_a_second_time_is_a_409(owner_client):
    lead = _lead("Ada", 2, source="fair")
    url = f"/api/v1/leads/{lead.uuid}/convert"
    response = _json(
        owner_client,
        "post",
        url,
        {"to_customer": True, "open_deal": True, "amount": "1,250.50", "currency": "eur"},
    )
    assert response.status_code == 200, response.content
    deal = Deal.objects.get()
    assert response.json() == {
        "contact": str(lead.uuid),
        "lifecycle_stage": "customer",
        "deal": str(deal.uuid),
    }
    assert (str(deal.amount), deal.currency, deal.source, deal.title) == (
        "1250.50",
        "EUR",
        "fair",
        "Deal with Ada",
    )
    assert _json(owner_client, "post", url, {"open_deal": True}).status_code == 409
    assert Deal.objects.count() == 1


@pytest.mark.parametrize(
    "payload", [{"amount": "-1"}, {"amount": "lots"}, {"currency": "euros"}, {"extra": 1}]
)
def test_bad_convert_input_is_a_422_and_changes_nothing(owner_client, payload):
    lead = _lead("Ada", 2)
    response = _json(
        owner_client, "post", f"/api/v1/leads/{lead.uuid}/convert", {"open_deal": True, **payload}
    )
    assert response.status_code == 422, response.content
    lead.refresh_from_db()
    assert lead.lifecycle_stage == "lead" and not Deal.objects.exists()


def test_a_viewer_cannot_convert(viewer_client):
    lead = _lead("Ada", 2)
    assert _json(viewer_client, "post", f"/api/v1/leads/{lead.uuid}/convert", {}).status_code == 403
    lead.refresh_from_db()
    assert lead.lifecycle_stage == "lead"


def test_the_public_form_is_not_part_of_the_api(client, lead_form):
    # Visitors use the web form; the API has no unauthenticated submit endpoint.
    response = _json(
        client, "post", f"/api/v1/forms/{lead_form.uuid}/submissions", {"email": "a@example.com"}
    )
    assert response.status_code in (401, 405)
    assert not FormSubmission.objects.exists()
