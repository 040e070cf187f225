"""The analytics API: scores (list, filters, one contact), segments, models and stored reports;
roles, 404/422 answers, bounded queries, and the endpoints fuzzed from their own OpenAPI spec
with scored customers in the database (the repository-wide fuzz test has none)."""

from decimal import Decimal

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from solocrm.analytics.models import CustomerScore, FittedModel
from solocrm.contacts.models import Contact
from solocrm.users.models import ApiToken
from solocrm.users.tests.openapi import fuzzable
from solocrm.users.tests.openapi import spec as openapi_spec

from .factories import make_analytics, make_reports, make_score

pytestmark = pytest.mark.django_db

BASE = "/api/v1/analytics"
ENDPOINTS = [
    f"{BASE}/scores",
    f"{BASE}/scores/00000000-0000-4000-8000-000000000000",
    f"{BASE}/segments",
    f"{BASE}/models",
    f"{BASE}/reports/rfm",
]


@pytest.fixture
def analytics(db):
    return make_analytics(40)


@pytest.fixture
def token(viewer) -> dict[str, str]:
    """The viewer's token: reading analytics needs no more than the viewer's role."""
    return {"Authorization": f"Bearer {ApiToken.issue(viewer, 'analytics')[1]}"}


def _get(client, token, url, **params):
    return client.get(url, params, headers=token)


# --- roles -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ENDPOINTS)
def test_the_stranger_gets_401(client, owner, url):
    assert client.get(url).status_code == 401


@pytest.mark.parametrize("url", [f"{BASE}/scores", f"{BASE}/segments", f"{BASE}/models"])
def test_a_viewer_can_read_with_a_token_or_the_session(client, viewer_client, token, analytics, url):
    assert client.get(url, headers=token).status_code == 200
    assert viewer_client.get(url).status_code == 200


@pytest.mark.parametrize("url", [f"{BASE}/scores", f"{BASE}/segments"])
def test_the_endpoints_are_read_only(client, token, url):
    assert client.post(url, {}, content_type="application/json", headers=token).status_code in (403, 405)


# --- scores ---------------------------------------------------------------------------------------


def test_scores_are_listed_by_clv_with_their_contact(client, token, analytics, settings):
    settings.SOLOCRM_CURRENCY = "EUR"
    body = _get(client, token, f"{BASE}/scores", limit=10).json()
    assert body["count"] == 40
    items = body["items"]
    clvs = [Decimal(item["clv"]) for item in items]
    assert clvs == sorted(clvs, reverse=True) and len(items) == 10
    top = CustomerScore.objects.select_related("contact").order_by("-clv").first()
    assert items[0]["contact"] == str(top.contact.uuid)
    assert items[0]["contact_name"] == str(top.contact)
    assert items[0]["currency"] == "EUR"
    assert items[0]["rfm_segment"] == top.rfm_segment
    assert items[0]["next_product"] and items[0]["next_product_name"]


def test_scores_filter_by_segment_persona_clv_and_churn_risk(client, token, analytics):
    url = f"{BASE}/scores"
    loyal = _get(client, token, url, segment="loyal", limit=500).json()
    assert loyal["count"] == CustomerScore.objects.filter(rfm_segment="loyal").count() > 0
    assert {item["rfm_segment"] for item in loyal["items"]} == {"loyal"}
    persona = _get(client, token, url, persona=2, limit=500).json()
    assert {item["persona"] for item in persona["items"]} == {2}
    rich = _get(client, token, url, min_clv="300", limit=500).json()
    assert rich["count"] == CustomerScore.objects.filter(clv__gte=300).count()
    assert all(Decimal(item["clv"]) >= 300 for item in rich["items"])
    risky = _get(client, token, url, min_churn_risk=0.5, limit=500).json()
    assert all(item["churn_risk"] >= 0.5 for item in risky["items"])
    blank = _get(client, token, url, segment="").json()  # an empty form field means no filter
    assert blank["count"] == 40


@pytest.mark.parametrize("ordering", ["value_at_risk", "lead_score"])
def test_scores_can_be_ordered_by_value_at_risk_or_lead_score(client, token, analytics, ordering):
    items = _get(client, token, f"{BASE}/scores", ordering=ordering, limit=500).json()["items"]
    values = [float(item[ordering]) for item in items]
    assert values == sorted(values, reverse=True)


def test_customers_without_the_ordering_value_are_left_out(client, token, analytics):
    make_score(Contact.objects.create(first_name="New"), clv=None, value_at_risk=None)
    assert _get(client, token, f"{BASE}/scores").json()["count"] == 40
    assert _get(client, token, f"{BASE}/scores", ordering="lead_score").json()["count"] == 41


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("segment", "vips"),
        ("persona", "-1"),
        ("persona", "x"),
        ("min_clv", "lots"),
        ("min_clv", "1.234"),
        ("min_churn_risk", "2"),
        ("ordering", "name"),
        ("limit", "0"),
    ],
)
def test_a_bad_filter_is_a_422_naming_it(client, token, field, value):
    response = _get(client, token, f"{BASE}/scores", **{field: value})
    assert response.status_code == 422
    assert [item["loc"][-1] for item in response.json()["detail"]] == [field]


def test_listing_scores_needs_few_queries(client, token, analytics, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        assert _get(client, token, f"{BASE}/scores", limit=500).status_code == 200


def test_one_contacts_scores(client, token, analytics):
    score = analytics["scores"][3]
    body = _get(client, token, f"{BASE}/scores/{score.contact.uuid}").json()
    assert body["contact"] == str(score.contact.uuid)
    assert body["orders"] == score.orders
    assert Decimal(body["clv"]) == score.clv
    assert body["r_score"] == score.r_score and body["rfm_segment"] == score.rfm_segment
    assert body["next_product"] == str(score.next_product.uuid)


@pytest.mark.parametrize("uuid", ["00000000-0000-4000-8000-000000000000", "not-a-uuid"])
def test_an_unknown_contact_is_404(client, token, uuid):
    response = _get(client, token, f"{BASE}/scores/{uuid}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_contact_without_scores_is_404(client, token):
    contact = Contact.objects.create(first_name="Unscored")
    assert _get(client, token, f"{BASE}/scores/{contact.uuid}").status_code == 404


# --- segments, models, reports ----------------------------------------------------------------------


def test_segments_have_the_rule_and_the_reports_numbers(client, token, analytics):
    body = _get(client, token, f"{BASE}/segments").json()
    assert body["customers"] == 40 and body["computed_at"]
    segments = {row["code"]: row for row in body["segments"]}
    assert len(segments) == 11
    assert segments["cant_lose"]["name"] == "Can't lose them"
    assert segments["cant_lose"]["rule"].startswith("Recency 1 and (F+M)/2 at least 4.5")
    assert segments["champions"]["action"]
    assert sum(row["customers"] for row in segments.values()) == 40


def test_segments_before_any_refresh_have_rules_but_no_numbers(client, token):
    body = _get(client, token, f"{BASE}/segments").json()
    assert body["computed_at"] is None and len(body["segments"]) == 11
    assert {row["customers"] for row in body["segments"]} == {None}


def test_models_gives_the_newest_of_each_kind(client, token, analytics):
    newer = make_reports(list(CustomerScore.objects.all()))["rfm"]
    items = _get(client, token, f"{BASE}/models").json()
    assert len(items) == 12 and len({item["kind"] for item in items}) == 12
    rfm = next(item for item in items if item["kind"] == "rfm")
    assert rfm["uuid"] == str(newer.uuid)
    assert {"created_at", "n_samples", "code_version", "params", "metrics", "data_end"} <= rfm.keys()


def test_models_before_any_refresh_is_empty(client, token):
    assert _get(client, token, f"{BASE}/models").json() == []


def test_a_report_is_given_whole(client, token, analytics):
    body = _get(client, token, f"{BASE}/reports/churn").json()
    assert body["kind"] == "churn"
    assert body["params"]["chosen"] == "gradient_boosting"
    assert body["metrics"]["candidates"]["gradient_boosting"]["auc"] == 0.842


def test_an_unknown_kind_is_422_and_a_missing_report_404(client, token):
    response = _get(client, token, f"{BASE}/reports/horoscope")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "kind"
    assert _get(client, token, f"{BASE}/reports/forecast").status_code == 404


def test_the_endpoints_are_in_the_spec_with_typed_answers(client, db):
    spec = openapi_spec()
    for path in ("/scores", "/scores/{contact_uuid}", "/segments", "/models", "/reports/{kind}"):
        operation = spec["paths"][f"{BASE}{path}"]["get"]
        assert operation["tags"] == ["analytics"]
        assert "$ref" in str(operation["responses"]["200"])
    score = spec["components"]["schemas"]["ScoreOut"]["properties"]
    assert {"clv", "p_alive", "churn_risk", "value_at_risk", "rfm_segment"} <= score.keys()


# --- fuzzing -------------------------------------------------------------------------------------

FUZZ_CONFIG = {
    "seed": 20240502,
    "generation": {"max-examples": 25, "deterministic": True},
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
}
schema = fuzzable(FUZZ_CONFIG).include(path_regex="^/api/v1/analytics/")


@pytest.fixture
def keep_test_connection():
    """The WSGI handler would close the test's connection after each request (see
    solocrm/users/tests/test_openapi_fuzz.py)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def fuzz_data(owner) -> dict[str, str]:
    data = make_analytics(12)
    # Nulls where the refresh had too little data must match the schema too.
    make_score(
        Contact.objects.create(first_name="Sparse"), clv=None, p_alive=None, r_score=None, rfm_segment=""
    )
    FittedModel.objects.create(kind="leads", params={}, metrics={}, code_version="x")
    return {
        "token": ApiToken.issue(owner, "fuzz")[1],
        "contact_uuid": str(data["scores"][0].contact.uuid),
    }


@schema.parametrize()
@settings(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_analytics_endpoints_never_fail_and_match_their_spec(case, fuzz_data, keep_test_connection):
    if "contact_uuid" in (case.path_parameters or {}):
        case.path_parameters["contact_uuid"] = fuzz_data["contact_uuid"]
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_data['token']}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
