"""The leads page with speed-to-lead and the convert action, and the lead forms' management pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from solocrm.contacts.choices import InteractionKind, LifecycleStage
from solocrm.contacts.models import Contact, Interaction
from solocrm.sales.deals.models import Deal
from solocrm.sales.leadforms import services as leadforms
from solocrm.sales.leadforms.models import FormSubmission, LeadForm

pytestmark = pytest.mark.django_db

LEADS = "/sales/leads/"
FORMS = "/sales/forms/"


@pytest.fixture(autouse=True)
def _no_cached_figures():
    cache.clear()  # speed-to-lead is cached for a few minutes
    yield
    cache.clear()


@pytest.fixture
def lead_form(owner) -> LeadForm:
    return leadforms.create_lead_form(
        {"name": "Website", "fields": ["first_name", "email", "message"], "required_fields": ["email"]},
        actor=owner,
    )


def _lead(name: str, hours_ago: float, replied_after: float | None = None, source: str = "") -> Contact:
    contact = Contact.objects.create(first_name=name, source=source, lifecycle_stage=LifecycleStage.LEAD)
    arrived = timezone.now() - timedelta(hours=hours_ago)
    Contact.objects.filter(pk=contact.pk).update(created_at=arrived)
    if replied_after is not None:
        Interaction.objects.create(
            contact=contact,
            kind=InteractionKind.EMAIL_OUT,
            occurred_at=arrived + timedelta(hours=replied_after),
        )
    return contact


# --- roles ------------------------------------------------------------------------------------


def test_the_stranger_is_sent_to_login_from_every_page(client, lead_form):
    lead = _lead("Ada", 1)
    for url in (
        LEADS,
        f"/sales/leads/{lead.uuid}/convert/",
        FORMS,
        f"{FORMS}new/",
        f"{FORMS}{lead_form.uuid}/",
        f"{FORMS}{lead_form.uuid}/edit/",
        f"{FORMS}{lead_form.uuid}/delete/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_a_viewer_reads_but_cannot_create_edit_convert_or_delete(viewer_client, lead_form):
    lead = _lead("Ada", 1)
    assert viewer_client.get(LEADS).status_code == 200
    assert viewer_client.get(f"{FORMS}{lead_form.uuid}/").status_code == 200
    for url in (f"/sales/leads/{lead.uuid}/convert/", f"{FORMS}new/", f"{FORMS}{lead_form.uuid}/edit/"):
        assert viewer_client.get(url).status_code == 403, url
        assert viewer_client.post(url, {"name": "x"}).status_code == 403, url
    assert viewer_client.post(f"{FORMS}{lead_form.uuid}/delete/").status_code == 403
    assert b"Convert" not in viewer_client.get(LEADS).content


def test_an_assistant_edits_forms_but_cannot_delete_them(assistant_client, lead_form):
    assert assistant_client.get(f"{FORMS}new/").status_code == 200
    assert assistant_client.post(f"{FORMS}{lead_form.uuid}/delete/").status_code == 403
    assert LeadForm.objects.filter(pk=lead_form.pk).exists()


def test_an_unknown_form_is_a_404(owner_client):
    assert owner_client.get(f"{FORMS}00000000-0000-7000-8000-000000000000/").status_code == 404


# --- lead forms -------------------------------------------------------------------------------


def test_the_owner_creates_a_form_and_gets_its_link_and_snippet(owner_client, owner):
    response = owner_client.post(
        f"{FORMS}new/",
        {
            "name": "Spring fair",
            "title": "Win a coffee",
            "fields": ["email", "first_name", "phone"],
            "required_fields": ["email"],
            "consent_text": "Keep me posted.",
            "source": "fair",
            "active": "on",
            "notify_owner": "on",
        },
    )
    form = LeadForm.objects.get()
    assert response["Location"] == f"{FORMS}{form.uuid}/"
    assert (form.fields, form.created_by) == (["first_name", "email", "phone"], owner)
    page = owner_client.get(response["Location"]).content.decode()
    assert f"http://testserver/f/{form.uuid}/" in page
    assert f"&lt;iframe src=&quot;http://testserver/f/{form.uuid}/embed/&quot;" in page


def test_the_public_address_setting_is_used_for_the_link(owner_client, lead_form, settings):
    settings.SOLOCRM_PUBLIC_URL = "https://crm.example.com"
    page = owner_client.get(f"{FORMS}{lead_form.uuid}/").content.decode()
    assert f"https://crm.example.com/f/{lead_form.uuid}/embed/" in page


def test_a_form_that_cannot_reply_is_refused_with_a_reason(owner_client):
    response = owner_client.post(f"{FORMS}new/", {"name": "Bad", "fields": ["first_name", "message"]})
    assert response.status_code == 200
    assert b"Ask for an e-mail address or a phone number" in response.content
    response = owner_client.post(
        f"{FORMS}new/", {"name": "Bad", "fields": ["email"], "required_fields": ["phone"]}
    )
    assert b"A required field must also be one of the fields asked." in response.content
    assert not LeadForm.objects.exists()


def test_editing_a_form_is_audited(owner_client, lead_form):
    response = owner_client.post(
        f"{FORMS}{lead_form.uuid}/edit/",
        {"name": "Website", "fields": ["email"], "required_fields": [], "notify_owner": "on"},
    )
    assert response.status_code == 302
    lead_form.refresh_from_db()
    assert (lead_form.fields, lead_form.required_fields, lead_form.active) == (["email"], [], False)
    from solocrm.users.models import AuditLog

    assert AuditLog.objects.get(action="leadform.update").changes["active"] == [True, False]


def test_the_owner_deletes_a_form_after_confirming(owner_client, lead_form):
    assert owner_client.get(f"{FORMS}{lead_form.uuid}/delete/").status_code == 200
    assert owner_client.post(f"{FORMS}{lead_form.uuid}/delete/")["Location"] == FORMS
    assert not LeadForm.objects.exists()


def test_the_form_list_counts_submissions_in_one_query(
    owner_client, lead_form, django_assert_max_num_queries
):
    for n in range(3):
        leadforms.submit_lead_form(lead_form, {"email": f"v{n}@example.com"})
    leadforms.create_lead_form({"name": "Other", "fields": ["email"], "required_fields": []})
    with django_assert_max_num_queries(6):
        response = owner_client.get(FORMS)
    assert response.status_code == 200
    assert response.context["lead_forms"][1].submission_count == 3


def test_the_submissions_page_does_not_grow_queries_with_rows(
    owner_client, lead_form, django_assert_max_num_queries
):
    for n in range(30):
        leadforms.submit_lead_form(lead_form, {"email": f"v{n}@example.com", "message": "hi"})
    with django_assert_max_num_queries(8):
        response = owner_client.get(f"{FORMS}{lead_form.uuid}/")
    assert len(response.context["page"]) == 25
    assert FormSubmission.objects.count() == 30


# --- leads ------------------------------------------------------------------------------------


def test_the_leads_page_lists_leads_newest_first_with_their_reply(owner_client):
    _lead("Older", 30, replied_after=2)
    _lead("Newer", 3)
    Contact.objects.create(first_name="Buyer", lifecycle_stage=LifecycleStage.CUSTOMER)
    response = owner_client.get(LEADS)
    names = [lead.first_name for lead in response.context["page"]]
    assert names == ["Newer", "Older"]
    html = response.content.decode()
    assert "after 2\xa0hours" in html and "waiting 3\xa0hours" in html


def test_the_leads_page_shows_speed_to_lead(owner_client):
    _lead("A", 30, replied_after=1)
    _lead("B", 40, replied_after=3)
    html = owner_client.get(LEADS).content.decode()
    assert "Median first reply, last 30 days" in html
    assert "2\xa0hours" in html  # the median of 1 h and 3 h
    assert "2 of 2 leads replied to" in html
    _lead("C", 10, replied_after=9)
    assert "2 of 2 leads replied to" in owner_client.get(LEADS).content.decode()  # cached a while
    cache.clear()
    assert "3 of 3 leads replied to" in owner_client.get(LEADS).content.decode()


def test_the_leads_page_filters_by_source_and_waiting(owner_client):
    _lead("Fair", 5, source="fair")
    _lead("Web", 6, replied_after=1, source="website")

    def names(query: str) -> list[str]:
        return [lead.first_name for lead in owner_client.get(LEADS + query).context["page"]]

    assert names("?source=fair") == ["Fair"]
    assert names("?waiting=true") == ["Fair"]
    assert names("?waiting=false") == ["Web"]
    assert names("?q=web") == ["Web"]
    page = owner_client.get(LEADS + "?waiting=maybe")
    assert page.status_code == 200 and b"Some filters were not understood" in page.content


def test_the_leads_page_does_not_grow_queries_with_rows(owner_client, django_assert_max_num_queries):
    for n in range(60):
        _lead(f"Lead {n}", n + 1, replied_after=0.5 if n % 2 else None, source=f"s{n % 3}")
    with django_assert_max_num_queries(11):
        response = owner_client.get(LEADS)
    assert len(response.context["page"]) == 50


def test_converting_from_the_leads_page_opens_a_deal(owner_client):
    lead = _lead("Ada", 2, source="fair")
    url = f"/sales/leads/{lead.uuid}/convert/"
    assert owner_client.get(url).status_code == 200
    response = owner_client.post(
        url,
        {"to_customer": "1", "open_deal": "on", "deal_title": "Workshop", "amount": "900", "currency": "eur",
         "next": "/sales/leads/?source=fair"},
    )  # fmt: skip
    assert response["Location"] == "/sales/leads/?source=fair"
    lead.refresh_from_db()
    deal = Deal.objects.get()
    assert (lead.lifecycle_stage, deal.title, deal.currency, deal.source) == (
        "customer",
        "Workshop",
        "EUR",
        "fair",
    )
    assert owner_client.get(LEADS).context["page"].paginator.count == 0


@pytest.mark.parametrize(("field", "value"), [("amount", "-5"), ("amount", "1e400"), ("currency", "euro")])
def test_bad_convert_input_changes_nothing(owner_client, field, value):
    lead = _lead("Ada", 2)
    data = {"to_customer": "0", "open_deal": "on", "amount": "10", "currency": "EUR", field: value}
    response = owner_client.post(f"/sales/leads/{lead.uuid}/convert/", data)
    assert response.status_code == 200 and b"errorlist" in response.content
    lead.refresh_from_db()
    assert lead.lifecycle_stage == "lead" and not Deal.objects.exists()


def test_a_contact_no_longer_a_lead_is_not_converted_again(owner_client):
    customer = Contact.objects.create(first_name="Ada", lifecycle_stage=LifecycleStage.CUSTOMER)
    url = f"/sales/leads/{customer.uuid}/convert/"
    assert b"not a lead any more" in owner_client.get(url).content
    response = owner_client.post(url, {"to_customer": "0", "open_deal": "on"})
    assert b"is not a lead any more" in response.content
    assert not Deal.objects.exists()


def test_the_nav_has_a_leads_link(owner_client):
    html = owner_client.get(LEADS).content.decode()
    link = html.split('<a href="/sales/leads/" aria-current="page">', 1)[1].split("</a>", 1)[0]
    assert '<span class="nav-label">Leads</span>' in link
