"""The contact list: search, filters, sort, pages, htmx live search, a constant query count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from solocrm.contacts.models import Company, Contact
from solocrm.contacts.services import set_tags

pytestmark = pytest.mark.django_db

LIST = "/contacts/"


def _contacts(count: int, **fields) -> list[Contact]:
    company = Company.objects.create(name="Acme")
    made = []
    for i in range(count):
        contact = Contact.objects.create(
            first_name=f"Person{i}",
            last_name=f"Test{i:03d}",
            email=f"p{i}@example.com",
            company=company,
            **fields,
        )
        set_tags(contact, ["vip", f"t{i}"])
        made.append(contact)
    return made


def _names(response) -> list[str]:
    return [c.last_name for c in response.context["page"]]


def test_the_stranger_is_sent_to_login(client, owner):
    assert client.get(LIST)["Location"] == "/accounts/login/?next=/contacts/"


def test_a_viewer_sees_contacts_but_no_add_button(viewer_client):
    _contacts(2)
    page = viewer_client.get(LIST).content.decode()
    assert "Test000" in page and "Test001" in page
    assert "/contacts/new/" not in page


def test_an_empty_list_says_what_to_do(owner_client):
    page = owner_client.get(LIST).content.decode()
    assert "No contacts yet" in page and "/contacts/import/" in page


def test_search_finds_by_name_email_and_company(owner_client):
    _contacts(3)
    Contact.objects.create(first_name="Ada", last_name="Lovelace", email="ada@engine.example")
    assert _names(owner_client.get(LIST, {"q": "lovelace"})) == ["Lovelace"]
    assert _names(owner_client.get(LIST, {"q": "engine.example"})) == ["Lovelace"]
    assert len(_names(owner_client.get(LIST, {"q": "acme"}))) == 3


def test_filters_come_from_the_shared_contact_filter(owner_client):
    _contacts(2)
    Contact.objects.create(last_name="Customer", lifecycle_stage="customer", email_consent=True)
    assert _names(owner_client.get(LIST, {"stage": "customer"})) == ["Customer"]
    assert _names(owner_client.get(LIST, {"consent": "true"})) == ["Customer"]
    assert _names(owner_client.get(LIST, {"tag": "t1"})) == ["Test001"]
    # blank selects of the filter form mean "no filter"
    assert len(_names(owner_client.get(LIST, {"stage": "", "channel": "", "has_email": ""}))) == 3


def test_bad_filter_values_give_a_message_not_an_error(owner_client):
    _contacts(2)
    response = owner_client.get(LIST, {"stage": "bogus", "created_after": "not-a-date"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "not understood" in page and "stage" in page
    assert len(_names(response)) == 2  # the whole list, unfiltered


def test_it_sorts_by_name_or_by_age(owner_client):
    _contacts(3)
    assert _names(owner_client.get(LIST, {"ordering": "-name"})) == ["Test002", "Test001", "Test000"]
    assert _names(owner_client.get(LIST, {"ordering": "name"})) == ["Test000", "Test001", "Test002"]


def test_it_pages_through_long_lists(owner_client):
    _contacts(55)
    first = owner_client.get(LIST)
    assert len(_names(first)) == 50 and first.context["page"].has_next()
    assert "page=2" in first.content.decode()
    assert _names(owner_client.get(LIST, {"page": 2})) == [f"Test{i:03d}" for i in range(50, 55)]
    assert owner_client.get(LIST, {"page": "nonsense"}).status_code == 200


def test_htmx_live_search_gets_only_the_table(owner_client):
    _contacts(2)
    response = owner_client.get(LIST, {"q": "Test001"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert "<html" not in page
    assert page.strip().startswith('<div id="contact-results"')
    assert "Test001" in page and "Test000" not in page
    assert "HX-Request" in response["Vary"]


def test_the_full_page_wires_the_live_search(owner_client):
    page = owner_client.get(LIST).content.decode()
    assert 'hx-get="/contacts/"' in page and 'hx-target="#contact-results"' in page


def test_names_are_escaped(owner_client):
    Contact.objects.create(first_name="<script>alert(1)</script>", last_name="X")
    page = owner_client.get(LIST).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LIST).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_page(owner_client):
    owner_client.get(LIST)  # the first request also checks once that a user exists
    _contacts(5)
    few = _count_queries(owner_client)
    Contact.objects.all().delete()
    _contacts(50)
    assert _count_queries(owner_client) == few
