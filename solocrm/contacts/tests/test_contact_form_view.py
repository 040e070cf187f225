"""Adding, editing and deleting contacts and companies through the web forms."""

import pytest
from django.urls import reverse

from solocrm.contacts.models import Company, Contact, Interaction
from solocrm.users.models import AuditLog

pytestmark = pytest.mark.django_db

NEW = "/contacts/new/"


def _data(**changes) -> dict:
    data = {
        "first_name": " Ada ",
        "last_name": "de  LOVELACE",
        "email": " Ada@Example.COM ",
        "phone": "+44 20 7946 0958",
        "company_name": "Analytical Engines",
        "lifecycle_stage": "lead",
        "tags_text": "vip, newsletter, VIP",
    }
    return data | changes


def test_the_stranger_is_sent_to_login(client, owner):
    assert client.get(NEW)["Location"].startswith("/accounts/login/")


def test_a_viewer_may_not_add_contacts(viewer_client):
    assert viewer_client.get(NEW).status_code == 403
    assert viewer_client.post(NEW, _data()).status_code == 403
    assert not Contact.objects.exists()


def test_adding_a_contact_normalises_what_was_typed(assistant_client, assistant):
    response = assistant_client.post(NEW, _data())
    contact = Contact.objects.get()
    assert response["Location"] == reverse("contacts:detail", args=[contact.uuid])
    assert (contact.first_name, contact.last_name) == ("Ada", "de LOVELACE")  # case kept as typed
    assert contact.email == "ada@example.com" and contact.phone == "+442079460958"
    assert contact.company.name == "Analytical Engines"
    assert sorted(t.name for t in contact.tags.all()) == ["newsletter", "vip"]
    assert contact.owner == assistant
    assert AuditLog.objects.filter(action="contact.create", object_uuid=contact.uuid).exists()


def test_a_known_company_is_reused_whatever_its_case(owner_client):
    company = Company.objects.create(name="Analytical Engines")
    owner_client.post(NEW, _data(company_name="analytical engines"))
    assert Contact.objects.get().company == company
    assert Company.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "is not a valid e-mail address"),
        ({"phone": "12"}, "phone", "phone number"),
        ({"phone": "call me maybe"}, "phone", "phone number"),
        ({"lifecycle_stage": "emperor"}, "lifecycle_stage", "Select a valid choice"),
        ({"birthday": "31/31/2020"}, "birthday", "Enter a valid date"),
    ],
)
def test_bad_values_give_an_error_on_their_field(owner_client, changes, field, message):
    response = owner_client.post(NEW, _data(**changes))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Contact.objects.exists() and not Company.objects.exists()


def test_a_contact_needs_a_name_an_email_or_a_phone(owner_client):
    response = owner_client.post(NEW, {"lifecycle_stage": "lead"})
    assert "at least a name" in response.content.decode()
    assert not Contact.objects.exists()


def test_a_second_contact_with_the_same_email_is_refused(owner_client):
    Contact.objects.create(last_name="First", email="ada@example.com")
    response = owner_client.post(NEW, _data())
    assert "already has this e-mail address" in response.context["form"].errors["email"][0]
    assert Contact.objects.count() == 1
    assert not Company.objects.exists()  # the refused form left nothing behind


def test_editing_shows_the_current_values_and_records_the_change(owner_client, owner):
    contact = Contact.objects.create(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    url = reverse("contacts:edit", args=[contact.uuid])
    form = owner_client.get(url).context["form"]
    assert form["email"].value() == "ada@example.com"
    response = owner_client.post(url, _data(first_name="Augusta", lifecycle_stage="customer", tags_text=""))
    assert response["Location"] == reverse("contacts:detail", args=[contact.uuid])
    contact.refresh_from_db()
    assert (contact.first_name, contact.lifecycle_stage) == ("Augusta", "customer")
    change = AuditLog.objects.get(action="contact.update")
    assert change.changes["first_name"] == ["Ada", "Augusta"]
    assert change.actor == owner


def test_ticking_consent_records_when_and_where(owner_client):
    owner_client.post(NEW, _data(email_consent="on"))
    contact = Contact.objects.get()
    assert contact.email_consent and contact.email_consent_at is not None
    assert contact.email_consent_source


def test_a_viewer_may_not_edit(viewer_client):
    contact = Contact.objects.create(last_name="Lovelace")
    url = reverse("contacts:edit", args=[contact.uuid])
    assert viewer_client.get(url).status_code == 403
    assert viewer_client.post(url, _data()).status_code == 403


def test_only_the_owner_deletes_and_only_after_confirming(owner_client, assistant):
    contact = Contact.objects.create(last_name="Lovelace")
    Interaction.objects.create(contact=contact, occurred_at=contact.created_at, subject="x")
    url = reverse("contacts:delete", args=[contact.uuid])
    page = owner_client.get(url).content.decode()
    assert "Delete for good" in page
    assert Contact.objects.exists()  # a GET deletes nothing
    owner_client.force_login(assistant)
    assert owner_client.post(url).status_code == 403
    assert Contact.objects.exists()


def test_the_owner_deletes_a_contact(owner_client):
    contact = Contact.objects.create(last_name="Lovelace")
    response = owner_client.post(reverse("contacts:delete", args=[contact.uuid]))
    assert response["Location"] == reverse("contacts:list")
    assert not Contact.objects.exists()
    assert AuditLog.objects.filter(action="contact.delete").exists()


def test_form_values_are_escaped_when_shown_again(owner_client):
    response = owner_client.post(NEW, _data(title='"><script>alert(1)</script>', email="bad"))
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page


# --- companies ------------------------------------------------------------------------------------


def test_companies_are_listed_with_their_number_of_contacts(viewer_client):
    acme = Company.objects.create(name="Acme", industry="Retail")
    Company.objects.create(name="Globex")
    Contact.objects.create(last_name="A", company=acme)
    Contact.objects.create(last_name="B", company=acme)
    response = viewer_client.get(reverse("contacts:company_list"))
    counts = {c.name: c.contact_count for c in response.context["page"]}
    assert counts == {"Acme": 2, "Globex": 0}
    assert [
        c.name for c in viewer_client.get(reverse("contacts:company_list"), {"q": "retail"}).context["page"]
    ] == ["Acme"]


def test_a_company_page_lists_its_contacts(viewer_client):
    acme = Company.objects.create(name="Acme <Ltd>")
    Contact.objects.create(first_name="Ada", last_name="Lovelace", company=acme)
    page = viewer_client.get(reverse("contacts:company_detail", args=[acme.uuid])).content.decode()
    assert "Ada Lovelace" in page and "Acme &lt;Ltd&gt;" in page
    assert reverse("contacts:company_edit", args=[acme.uuid]) not in page  # a viewer


def test_adding_and_editing_a_company(assistant_client):
    response = assistant_client.post(
        reverse("contacts:company_create"),
        {"name": " acme  Trading ", "domain": "https://www.Acme.example/", "tags_text": "b2b"},
    )
    company = Company.objects.get()
    assert response["Location"] == reverse("contacts:company_detail", args=[company.uuid])
    assert (company.name, company.domain) == ("acme Trading", "acme.example")
    assistant_client.post(
        reverse("contacts:company_edit", args=[company.uuid]), {"name": "Acme", "phone": "bogus"}
    )
    company.refresh_from_db()
    assert company.name == "acme Trading"  # the bad phone kept the whole change out


def test_a_viewer_may_not_add_companies(viewer_client):
    assert viewer_client.post(reverse("contacts:company_create"), {"name": "Acme"}).status_code == 403
    assert not Company.objects.exists()


def test_an_edit_made_meanwhile_is_not_overwritten_and_the_typed_values_stay(owner_client):
    contact = Contact.objects.create(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    url = reverse("contacts:edit", args=[contact.uuid])
    loaded = owner_client.get(url).context["form"]["loaded_version"].value()
    Contact.objects.filter(pk=contact.pk).update(
        title="Countess", updated_at=contact.updated_at.replace(year=2030)
    )
    response = owner_client.post(url, _data(first_name="Augusta", loaded_version=loaded))
    assert response.status_code == 200
    assert "Someone else changed this record" in response.content.decode()
    assert response.context["form"]["first_name"].value() == "Augusta"  # what was typed is shown again
    contact.refresh_from_db()
    assert (contact.first_name, contact.title) == ("Ada", "Countess")


def test_an_edit_with_the_current_version_is_saved(owner_client):
    contact = Contact.objects.create(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    url = reverse("contacts:edit", args=[contact.uuid])
    loaded = owner_client.get(url).context["form"]["loaded_version"].value()
    owner_client.post(url, _data(first_name="Augusta", loaded_version=loaded))
    contact.refresh_from_db()
    assert contact.first_name == "Augusta"
