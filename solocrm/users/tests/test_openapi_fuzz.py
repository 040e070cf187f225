"""The generated OpenAPI spec: served, documented offline, and fuzzed with schemathesis.

Schemathesis generates requests from the spec (valid and invalid ones: wrong types, NUL bytes,
huge numbers, unknown enum values…) and sends them, with the owner's token, to the WSGI app in
this process, so they run inside the test's database transaction. No request may end in a 5xx,
and every documented answer must match its schema."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from solocrm.contacts.models import Company, Contact, ImportJob, Interaction
from solocrm.jobs.models import Job
from solocrm.mail.models import MailAccount, MailMessage, MailThread
from solocrm.sales.deals.services import create_deal, default_pipeline
from solocrm.sales.leadforms import services as leadforms
from solocrm.sales.models import Order, OrderLine, Product, Task
from solocrm.sales.quotes.attachments import store_attachment
from solocrm.sales.quotes.services import create_quote
from solocrm.support.kb import services as kb
from solocrm.support.tickets.services import create_ticket
from solocrm.users.models import ApiToken
from solocrm.users.tests.openapi import SPEC, fuzzable
from solocrm.users.tests.openapi import spec as openapi_spec

# Bounded and reproducible: a fixed seed, 20 examples an operation, no stateful phase.
FUZZ_CONFIG = {
    "seed": 20240501,
    "generation": {"max-examples": 20, "deterministic": True},
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
}


@pytest.fixture
def owner_token(owner) -> str:
    return ApiToken.issue(owner, "fuzz")[1]


@pytest.fixture
def existing(owner) -> dict[str, str]:
    """One object of each kind, so that /{uuid} operations meet a real one, not only 404s."""
    company = Company.objects.create(name="Acme")
    contact = Contact.objects.create(first_name="Ada", email="ada@example.com", company=company)
    product = Product.objects.create(name="Mug", price=Decimal("12.00"))
    order = Order.objects.create(contact=contact, total=Decimal("12.00"))
    OrderLine.objects.create(order=order, product=product, name="Mug", total=Decimal("12.00"))
    deal = create_deal({"title": "Website", "contact": contact, "amount": Decimal("1200")})
    objects = {
        "contacts": contact,
        "companies": company,
        "interactions": Interaction.objects.create(contact=contact, occurred_at=timezone.now()),
        "imports": ImportJob.objects.create(kind="contacts", original_name="a.csv", stored_path="/x"),
        "products": product,
        "orders": order,
        "tasks": Task.objects.create(title="Call Ada", contact=contact),
        "tokens": ApiToken.issue(owner, "spare")[0],
        "pipelines": default_pipeline(),
        "stages": default_pipeline().stages.first(),
        "deals": deal,
        "quotes": create_quote(deal, lines=[{"name": "Logo", "unit_price": Decimal("300")}]),
        "attachments": store_attachment(SimpleUploadedFile("brief.txt", b"a brief"), deal=deal),
        "forms": leadforms.create_lead_form(
            {"name": "Web", "fields": ["email"], "required_fields": ["email"]}
        ),
        "leads": Contact.objects.create(first_name="Lead", email="lead@example.com"),
        "jobs": Job.objects.create(
            kind="analytics.refresh", handler="solocrm.analytics.jobs.refresh_job", time_limit=60
        ),
        "articles": kb.create_article({"status": "published"}, {"en": {"title": "Refunds", "body": "x"}}),
        "article-categories": kb.create_category({"name_en": "Billing"}),
        "tickets": create_ticket(contact=contact, subject="Parcel", body="Where is it?", source="api"),
        "messages": MailMessage.objects.create(
            message_key="m:hello@example.com",
            thread=MailThread.objects.create(subject="Hello", last_message_at=timezone.now()),
            direction="in",
            from_address="ada@example.com",
            subject="Hello",
            date=timezone.now(),
            contact=contact,
        ),
        "mail-accounts": MailAccount.objects.create(
            name="Work", email="me@example.com", imap_host="imap.example.com", imap_user="me"
        ),
    }
    return {name: str(obj.uuid) for name, obj in objects.items()}


@pytest.fixture
def keep_test_connection():
    """The real WSGI handler closes the database connection after each request, which inside the
    test's transaction ends the test's connection; Django's test client avoids this the same way."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


# Loaded at import: the spec needs no database. (schemathesis.pytest.from_fixture would be the
# lazy way, but it relies on a pytest internal that pytest 9 removed.)
schema = fuzzable(FUZZ_CONFIG)


@schema.parametrize()
@settings(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_request_makes_the_api_fail_and_answers_match_the_spec(
    case, owner_token, existing, keep_test_connection
):
    if "uuid" in (case.path_parameters or {}):
        case.path_parameters["uuid"] = existing[case.path.split("/")[3]]
    case.call_and_validate(
        headers={"Authorization": f"Bearer {owner_token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


def test_the_spec_is_served_as_json_to_a_token_or_a_session_and_to_nobody_else(
    client, owner, owner_token, viewer
):
    assert client.get(SPEC).status_code == 401
    assert client.get(SPEC, headers={"Authorization": "Bearer scrm_forged"}).status_code == 401
    response = client.get(SPEC, headers={"Authorization": f"Bearer {owner_token}"})
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/contacts" in spec["paths"]
    assert spec == openapi_spec()  # what the fuzz test reads is what is served
    client.force_login(viewer)
    assert client.get(SPEC).status_code == 200


def test_the_docs_page_uses_the_bundled_swagger_not_a_cdn(client, owner):
    anonymous = client.get("/api/v1/docs")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(owner)
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn." not in html
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_every_operation_answers_401_to_a_request_without_a_token(client, db):
    spec = openapi_spec()
    for path, operations in spec["paths"].items():
        url = path.replace("{uuid}", "00000000-0000-4000-8000-000000000000")
        for method in operations:
            response = getattr(client, method)(url, {}, content_type="application/json")
            assert response.status_code == 401, (method, path, response.status_code)
