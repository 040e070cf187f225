"""The duplicates page, the merge preview and the merge, for each persona."""

import uuid

import pytest
from django.urls import reverse

from solocrm.contacts.models import Company, Contact, Interaction
from solocrm.sales.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair():
    kept = Contact.objects.create(
        first_name="Ada", last_name="Lovelace", email="ada@example.com", other_emails=["ada@work.example"]
    )
    Order.objects.create(contact=kept, number="SO-1")
    company = Company.objects.create(name="Analytical Engines")
    gone = Contact.objects.create(
        first_name="Ada",
        last_name="L.",
        other_emails=["ada@example.com"],
        phone="+442079460000",
        company=company,
        channel="referral",
        custom_fields={"size": "M"},
    )
    Order.objects.create(contact=gone, number="SO-2")
    return kept, gone


def preview_url(survivor, *others) -> str:
    query = "&".join([f"survivor={survivor.uuid}", *(f"other={o.uuid}" for o in others)])
    return f"{reverse('contacts:merge_preview')}?{query}"


def post_merge(client, survivor, *others):
    return client.post(
        reverse("contacts:merge"), {"survivor": survivor.uuid, "other": [o.uuid for o in others]}
    )


def test_the_duplicates_page_lists_the_groups_with_a_preview_link(owner_client, pair):
    kept, gone = pair
    page = owner_client.get(reverse("contacts:duplicates")).content.decode()
    assert "Same e-mail address" in page
    assert "Ada L." in page and "Ada Lovelace" in page
    assert f"survivor={kept.uuid}&amp;other={gone.uuid}" in page


def test_the_duplicates_page_says_when_there_are_none(owner_client):
    assert "No duplicates found" in owner_client.get(reverse("contacts:duplicates")).content.decode()


def test_the_preview_shows_the_resulting_fields_and_what_moves(owner_client, pair):
    kept, gone = pair
    response = owner_client.get(preview_url(kept, gone))
    page = response.content.decode()
    assert response.status_code == 200
    assert "+442079460000" in page
    assert "Analytical Engines" in page
    assert "Orders" in page
    assert "Referral" in page, "choices are shown by their label"
    assert "ada@work.example" in page and "size: M" in page
    assert f'name="other" value="{gone.uuid}"' in page
    assert Contact.objects.count() == 2, "a preview writes nothing"


def test_the_preview_offers_to_keep_the_other_contact_instead(owner_client, pair):
    kept, gone = pair
    page = owner_client.get(preview_url(kept, gone)).content.decode()
    assert f"survivor={gone.uuid}&amp;other={kept.uuid}" in page


@pytest.mark.parametrize("persona", ["owner_client", "assistant_client"])
def test_owner_and_assistant_can_merge(request, persona, pair):
    client = request.getfixturevalue(persona)
    kept, gone = pair
    response = post_merge(client, kept, gone)
    assert response.status_code == 302
    assert response.url == reverse("contacts:detail", args=[kept.uuid])
    assert list(Contact.objects.all()) == [kept]
    assert Order.objects.filter(contact=kept).count() == 2
    assert Interaction.objects.filter(contact=kept, kind="system").exists()


def test_a_viewer_may_look_but_gets_403_on_merge(viewer_client, pair):
    kept, gone = pair
    assert viewer_client.get(preview_url(kept, gone)).status_code == 200
    assert (
        'action="/contacts/duplicates/merge/"'
        not in viewer_client.get(preview_url(kept, gone)).content.decode()
    )
    assert post_merge(viewer_client, kept, gone).status_code == 403
    assert Contact.objects.count() == 2


def test_an_anonymous_stranger_is_sent_to_log_in(client, owner, pair):
    kept, gone = pair
    for response in (
        client.get(reverse("contacts:duplicates")),
        client.get(preview_url(kept, gone)),
        post_merge(client, kept, gone),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    assert Contact.objects.count() == 2


def test_merging_needs_a_post(owner_client, pair):
    kept, gone = pair
    assert (
        owner_client.get(reverse("contacts:merge") + f"?survivor={kept.uuid}&other={gone.uuid}").status_code
        == 405
    )
    assert Contact.objects.count() == 2


def test_unknown_or_missing_contacts_are_refused(owner_client, pair):
    kept, _gone = pair
    assert owner_client.get(preview_url(kept)).status_code == 400
    assert post_merge(owner_client, kept, kept).status_code == 400
    missing = Contact(uuid=uuid.uuid4())
    assert post_merge(owner_client, kept, missing).status_code == 404
    assert Contact.objects.count() == 2
