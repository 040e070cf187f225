"""Interactions link to existing contacts; companies match by id, domain or name."""

from pathlib import Path

import pytest

from solocrm.contacts.importing import ImportFileError, run_import
from solocrm.contacts.models import Company, Contact, Interaction

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.django_db
def test_interactions_link_to_contacts_by_email_or_phone_and_unknown_ones_are_rejected():
    ada = Contact.objects.create(first_name="Ada", email="ada@example.com", phone="+12025550143")
    report = run_import("interactions", FIXTURES / "interactions.csv")
    assert (report.created, report.rejected) == (2, 2)
    assert {(e.line, e.column) for e in report.errors} == {(4, ""), (5, "Date")}
    assert set(ada.interactions.values_list("kind", "subject")) == {
        ("call", "Intro call"),
        ("meeting", "Workshop planning"),
    }
    again = run_import("interactions", FIXTURES / "interactions.csv")
    assert (again.created, again.unchanged) == (0, 2)
    assert Interaction.objects.count() == 2


@pytest.mark.django_db
def test_interactions_without_a_contact_column_are_refused(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("Date,Subject\n2024-01-01,Hello\n")
    with pytest.raises(ImportFileError, match="names the contact"):
        run_import("interactions", path)


@pytest.mark.django_db
def test_companies_are_created_and_matched_by_domain_or_name():
    Company.objects.create(name="navy labs")
    report = run_import("companies", FIXTURES / "companies.csv")
    assert (report.created, report.updated, report.rejected) == (1, 1, 1)
    engines = Company.objects.get(domain="analytical.example")
    assert (engines.name, engines.phone, engines.city) == (
        "Analytical Engines Ltd",
        "+442079460000",
        "London",
    )
    assert list(engines.tags.values_list("name", flat=True)) == ["partner"]
    assert Company.objects.get(name__iexact="navy labs").domain == "navylabs.example"
    again = run_import("companies", FIXTURES / "companies.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
