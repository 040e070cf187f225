"""The contact search box finds people however their name, number or address is typed."""

import pytest

from solocrm.contacts.filters import ContactFilter
from solocrm.contacts.models import Company, Contact


def found(query: str) -> set[str]:
    qs = ContactFilter.model_validate({"q": query}).apply(Contact.objects.all())
    return {c.email for c in qs}


@pytest.fixture
def people(db, settings):
    settings.SOLOCRM_PHONE_REGION = "GB"
    acme = Company.objects.create(name="Acme Widgets")
    Contact.objects.create(first_name="伟", last_name="张", email="zhang.wei@example.com")
    Contact.objects.create(first_name="太郎", last_name="山田", email="taro@example.jp")
    Contact.objects.create(first_name="Иван", last_name="Петров", email="ivan@example.ru")
    Contact.objects.create(
        first_name="Ada", last_name="Lovelace", email="ada@example.com", phone="+447700900097", company=acme
    )
    Contact.objects.create(
        first_name="Grace", email="grace@navy.example", other_emails=["hopper@cobol.example"],
        other_phones=["+14155550100"],
    )  # fmt: skip
    Contact.objects.create(first_name="Bob", email="p12345@example.org")


@pytest.mark.parametrize(
    ("query", "emails"),
    [
        ("张伟", {"zhang.wei@example.com"}),  # family name first, no space
        ("张 伟", {"zhang.wei@example.com"}),
        ("伟张", {"zhang.wei@example.com"}),
        ("张", {"zhang.wei@example.com"}),
        ("zhang", {"zhang.wei@example.com"}),  # pinyin, from the e-mail address
        ("山田太郎", {"taro@example.jp"}),
        ("иван", {"ivan@example.ru"}),  # any case, in any script
        ("ИВАН петров", {"ivan@example.ru"}),
        ("07700 900097", {"ada@example.com"}),  # local format
        ("07700900097", {"ada@example.com"}),
        ("+44 7700 900097", {"ada@example.com"}),
        ("0044 7700-900097", {"ada@example.com"}),
        ("+44 (0)7700 900097", {"ada@example.com"}),
        ("900097", {"ada@example.com"}),
        ("ada 07700 900097", {"ada@example.com"}),
        ("acme 07700 900097", {"ada@example.com"}),
        ("(415) 555-0100", {"grace@navy.example"}),  # a second number, typed the American way
        ("+1 415 555 0100", {"grace@navy.example"}),
        ("hopper@cobol.example", {"grace@navy.example"}),  # a second e-mail address
        ("hopper@", {"grace@navy.example"}),
        ("cobol.example", {"grace@navy.example"}),
        ("navy", {"grace@navy.example"}),
        ("12345", {"p12345@example.org"}),  # digits that are part of an e-mail
        ("07700 900098", set()),
        ("ada 07700 900098", set()),
        ("bob 07700 900097", set()),
    ],
)
def test_search_finds(people, query, emails):
    assert found(query) == emails


def test_the_api_search_finds_a_cjk_name_and_a_local_number(people, owner_client):
    for query, email in (("张伟", "zhang.wei@example.com"), ("07700 900097", "ada@example.com")):
        response = owner_client.get("/api/v1/contacts", {"q": query})
        assert response.status_code == 200
        assert [item["email"] for item in response.json()["items"]] == [email]
