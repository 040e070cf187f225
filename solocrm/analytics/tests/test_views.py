"""The Analytics pages: roles, every page with stored results and without, the refresh button
and its progress, customer lists, CSV exports, escaping, and the scores box on the contact page."""

import csv
import io
import re
import sys
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from solocrm.analytics.models import CustomerScore, FittedModel
from solocrm.contacts.models import Contact

from .factories import make_analytics, make_reports, make_score, make_scored_customers

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
PAGES = [
    "overview",
    "segments",
    "clv",
    "churn",
    "personas",
    "cohorts",
    "satisfaction",
    "recommendations",
    "forecast",
    "marketing",
    "models",
]
ALL_URLS = [reverse(f"analytics:{name}") for name in PAGES] + [
    reverse("analytics:segment_detail", args=["champions"]),
    reverse("analytics:persona_detail", args=[0]),
    reverse("analytics:refresh_status"),
    reverse("analytics:export", args=["segments"]),
]
EXPORTS = [
    "segments",
    "clv-histogram",
    "clv-top",
    "churn",
    "churn-models",
    "personas",
    "satisfaction",
    "satisfaction-segments",
    "rules",
    "next-products",
    "forecast",
    "marketing",
    "models",
]


@pytest.fixture
def analytics(db):
    return make_analytics(40)


@pytest.fixture
def no_service(monkeypatch):
    """The refresh service is not importable (as before it was written)."""
    monkeypatch.setitem(sys.modules, "solocrm.analytics.services", None)


@pytest.fixture
def service(monkeypatch):
    """A stand-in refresh service: records starts, answers a status the test sets."""
    from solocrm.analytics import services

    calls: dict = {"started": [], "status": {"state": "idle"}, "error": None}

    def start_refresh(user, as_of=None):
        if calls["error"]:
            raise calls["error"]
        calls["started"].append(user)
        calls["as_of"] = as_of

    monkeypatch.setattr(services, "start_refresh", start_refresh)
    monkeypatch.setattr(services, "refresh_status", lambda: dict(calls["status"]))
    return calls


def _text(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(_text(response))))


# --- roles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ALL_URLS)
def test_the_stranger_is_sent_to_login(client, owner, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_stranger_cannot_start_a_refresh(client, owner, service):
    response = client.post(reverse("analytics:refresh"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert service["started"] == []


def test_a_user_without_a_role_gets_nothing(client, django_user_model, analytics):
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))
    assert client.get(reverse("analytics:overview")).status_code == 403


@pytest.mark.parametrize("url", ALL_URLS)
def test_a_viewer_can_view_every_page(viewer_client, analytics, service, url):
    assert viewer_client.get(url).status_code == 200


def test_the_viewer_sees_no_refresh_button_and_cannot_refresh(viewer_client, analytics, service):
    page = viewer_client.get(reverse("analytics:overview")).content.decode()
    assert "Refresh now" not in page
    assert viewer_client.post(reverse("analytics:refresh")).status_code == 403
    assert service["started"] == []


def test_the_refresh_needs_a_post(owner_client, service):
    assert owner_client.get(reverse("analytics:refresh")).status_code == 405
    assert service["started"] == []


# --- the refresh -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner_client", "assistant_client"])
def test_an_editor_starts_the_refresh(request, service, persona):
    client = request.getfixturevalue(persona)
    page = client.get(reverse("analytics:overview")).content.decode()
    assert "Refresh now" in page
    response = client.post(reverse("analytics:refresh"))
    assert response.status_code == 302 and response["Location"] == reverse("analytics:overview")
    assert len(service["started"]) == 1 and service["started"][0].is_authenticated


def test_with_htmx_the_refresh_answers_the_progress_box(owner_client, service):
    service["status"] = {"state": "running", "step": "Fitting BG/NBD", "done": 2, "total": 8}
    response = owner_client.post(reverse("analytics:refresh"), headers=HTMX)
    page = response.content.decode()
    assert "<html" not in page
    assert 'id="refresh-status"' in page and 'hx-trigger="every 1s"' in page
    assert "Fitting BG/NBD" in page and 'value="25"' in page


def test_a_refresh_over_before_the_first_poll_reloads_the_page(owner_client, service):
    service["status"] = {"state": "done", "finished_at": timezone.now()}
    response = owner_client.post(reverse("analytics:refresh"), headers=HTMX)
    assert response["HX-Refresh"] == "true"


def test_a_running_refresh_is_polled_not_reloaded(owner_client, service):
    service["status"] = {"state": "running", "step": "clv", "done": 1, "total": 12}
    response = owner_client.post(reverse("analytics:refresh"), headers=HTMX)
    assert "HX-Refresh" not in response


def test_a_refresh_that_cannot_start_says_why(owner_client, service):
    service["error"] = RuntimeError("An analytics refresh is already running.")
    response = owner_client.post(reverse("analytics:refresh"), follow=True)
    assert "An analytics refresh is already running." in response.content.decode()


def test_without_the_service_the_pages_still_work(owner_client, analytics, no_service):
    assert owner_client.get(reverse("analytics:overview")).status_code == 200
    assert owner_client.get(reverse("analytics:refresh_status")).status_code == 200
    response = owner_client.post(reverse("analytics:refresh"), follow=True)
    assert "not installed" in response.content.decode()


def test_the_progress_box_polls_while_running_and_reloads_the_page_when_done(viewer_client, service):
    url = reverse("analytics:refresh_status")
    service["status"] = {"state": "running", "step": "RFM", "done": 1, "total": 4}
    running = viewer_client.get(url, {"poll": 1}, headers=HTMX)
    assert "every 1s" in running.content.decode() and "HX-Refresh" not in running
    service["status"] = {"state": "done", "done": 4, "total": 4, "finished_at": timezone.now()}
    done = viewer_client.get(url, {"poll": 1}, headers=HTMX)
    assert done["HX-Refresh"] == "true"
    assert "every 1s" not in done.content.decode()


def test_a_failed_refresh_shows_its_error(viewer_client, service):
    service["status"] = {"state": "failed", "error": "no orders <b>found</b>"}
    page = viewer_client.get(reverse("analytics:overview")).content.decode()
    assert "The last refresh failed." in page
    assert "no orders &lt;b&gt;found&lt;/b&gt;" in page


# --- overview ------------------------------------------------------------------------------------


def test_the_overview_without_results_says_what_to_do(owner_client, service):
    page = owner_client.get(reverse("analytics:overview")).content.decode()
    assert "Nothing has been computed yet." in page
    assert reverse("contacts:import_upload") in page and "Refresh now" in page


def test_the_overview_shows_the_kpis(viewer_client, analytics, service, settings):
    settings.SOLOCRM_CURRENCY = "EUR"
    response = viewer_client.get(reverse("analytics:overview"))
    page = response.content.decode()
    rfm = analytics["reports"]["rfm"]
    assert "Last refreshed" in page and "from 40 customers" in page
    assert response.context["customers"] == 40
    total = analytics["reports"]["clv"].params["total_clv"]
    assert f"{total:,.0f} EUR" in page
    at_risk = sum(
        row["customers"]
        for row in rfm.params["segments"]
        if row["code"] in ("about_to_sleep", "at_risk", "cant_lose")
    )
    assert response.context["at_risk_customers"] == at_risk
    assert "24" in page  # NPS
    slipping = response.context["slipping"]
    assert [s.value_at_risk for s in slipping] == sorted((s.value_at_risk for s in slipping), reverse=True)


# --- every page, with and without data --------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES[1:])
def test_each_report_page_has_an_empty_state(viewer_client, name):
    response = viewer_client.get(reverse(f"analytics:{name}"))
    assert response.status_code == 200
    assert "Not computed yet." in response.content.decode()


@pytest.mark.parametrize("url", ALL_URLS)
def test_each_page_needs_few_queries(viewer_client, analytics, service, url, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = viewer_client.get(url)
    assert response.status_code == 200


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        _text(client.get(url))
    return len(queries)


def test_the_query_count_does_not_grow_with_the_customers(viewer_client, service):
    make_reports(make_scored_customers(10, seed=1))
    viewer_client.get(reverse("analytics:overview"))  # the session's first request saves it
    few = [_count_queries(viewer_client, url) for url in ALL_URLS]
    make_scored_customers(60, seed=2)
    make_reports()
    assert [_count_queries(viewer_client, url) for url in ALL_URLS] == few


def test_pages_use_no_inline_script_or_style(viewer_client, analytics, service):
    for name in PAGES:
        page = viewer_client.get(reverse(f"analytics:{name}")).content.decode()
        assert " style=" not in page, name
        for tag in re.findall(r"<script[^>]*>", page):
            assert "src=" in tag or 'type="application/json"' in tag, (name, tag)


def test_charts_are_embedded_as_json_next_to_a_table(viewer_client, analytics):
    page = viewer_client.get(reverse("analytics:forecast")).content.decode()
    assert '<script id="chart-forecast" type="application/json">' in page
    assert 'data-chart="chart-forecast"' in page
    assert "chart-4.6.1.umd.min.js" in page and "analytics/analytics.js" in page
    assert "<table" in page and reverse("analytics:export", args=["forecast"]) in page


def test_the_segment_map_shows_all_eleven_segments(viewer_client, analytics):
    response = viewer_client.get(reverse("analytics:segments"))
    rows = response.context["rows"]
    assert [row["code"] for row in rows][:3] == ["champions", "loyal", "potential_loyalist"]
    assert len(rows) == 11
    assert sum(row["customers"] for row in rows) == 40
    page = response.content.decode()
    assert "Can&#x27;t lose them" in page
    assert sum(cell["customers"] for row in response.context["grid"] for cell in row["cells"]) == 40


def test_a_segment_lists_its_customers_by_clv(viewer_client, analytics):
    code = "loyal"
    response = viewer_client.get(reverse("analytics:segment_detail", args=[code]))
    page = response.content.decode()
    scores = list(response.context["page"])
    assert scores and all(s.rfm_segment == code for s in scores)
    assert [s.clv for s in scores] == sorted((s.clv for s in scores), reverse=True)
    assert reverse("contacts:detail", args=[scores[0].contact.uuid]) in page
    assert "Recency 3–5 and (F+M)/2 at least 3.5" in page  # the rule
    assert "loyalty programme" in page  # the suggested action
    lowest = viewer_client.get(reverse("analytics:segment_detail", args=[code]), {"sort": "clv_asc"})
    assert [s.clv for s in lowest.context["page"]] == sorted(s.clv for s in lowest.context["page"])


def test_a_long_segment_is_paginated(viewer_client, analytics):
    contacts = Contact.objects.bulk_create(Contact(first_name=f"Extra {i}") for i in range(30))
    for contact in contacts:
        make_score(contact, rfm_segment="lost")
    make_reports()  # counts the new customers
    first = viewer_client.get(reverse("analytics:segment_detail", args=["lost"]))
    second = viewer_client.get(reverse("analytics:segment_detail", args=["lost"]), {"page": 2})
    assert first.context["page"].paginator.num_pages == 2
    assert not {s.pk for s in first.context["page"]} & {s.pk for s in second.context["page"]}


def test_an_unknown_segment_or_persona_is_404(viewer_client, analytics):
    assert viewer_client.get("/analytics/segments/nonsense/").status_code == 404
    assert viewer_client.get("/analytics/personas/99/").status_code == 404


def test_a_persona_page_lists_its_customers(viewer_client, analytics):
    response = viewer_client.get(reverse("analytics:persona_detail", args=[1]))
    assert response.context["persona"]["name"] == "Regulars"
    assert all(s.persona == 1 for s in response.context["page"])


def test_the_personas_page_has_a_card_per_persona(viewer_client, analytics):
    page = viewer_client.get(reverse("analytics:personas")).content.decode()
    for name in ("Big spenders", "Regulars", "One-off buyers"):
        assert name in page
    assert reverse("analytics:persona_detail", args=[2]) in page


def test_the_cohort_heatmap_uses_colour_classes_and_toggles_to_revenue(viewer_client, analytics):
    retention = viewer_client.get(reverse("analytics:cohorts")).content.decode()
    assert 'class="number heat-9">100%' in retention
    assert "45%" in retention and "Repeat rate" in retention
    revenue = viewer_client.get(reverse("analytics:cohorts"), {"metric": "revenue"})
    assert revenue.context["metric"] == "revenue"
    assert "4,000" in revenue.content.decode()


def test_the_churn_page_lists_value_at_risk_and_the_model_card(viewer_client, analytics):
    response = viewer_client.get(reverse("analytics:churn"))
    page = response.content.decode()
    values = [s.value_at_risk for s in response.context["page"]]
    assert values == sorted(values, reverse=True) and len(values) == 25
    assert "Gradient boosting" in page and "0.842" in page and "chosen" in page
    assert response.context["page"].paginator.count == 40


def test_the_models_page_lists_every_stored_model(viewer_client, analytics):
    page = viewer_client.get(reverse("analytics:models")).content.decode()
    for label in ("BG/NBD purchase model", "Churn model", "Revenue forecast", "0.1.0+test"):
        assert label in page


def test_a_malformed_report_does_not_break_the_pages(viewer_client, analytics, service):
    FittedModel.objects.update(params={"segments": "oops", "histogram": [1, None], "trend": {}}, metrics=[])
    for url in ALL_URLS:
        expected = 404 if "/personas/0/" in url else 200  # no persona survives the damage
        assert viewer_client.get(url).status_code == expected, url


# --- CSV -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXPORTS)
def test_every_report_exports_as_a_csv_attachment(viewer_client, analytics, name):
    response = viewer_client.get(reverse("analytics:export", args=[name]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="solocrm-{name}-')
    rows = _csv(response)
    assert len(rows) >= 2, name


def test_an_unknown_export_is_404(viewer_client):
    assert viewer_client.get("/analytics/export/passwords.csv").status_code == 404


def test_the_segment_export_has_the_numbers(viewer_client, analytics):
    rows = _csv(viewer_client.get(reverse("analytics:export", args=["segments"])))
    assert rows[0][:3] == ["Code", "Segment", "Customers"]
    assert len(rows) == 12
    assert sum(int(row[2]) for row in rows[1:]) == 40


def test_customer_lists_export_every_customer_of_the_segment(viewer_client, analytics):
    response = viewer_client.get(reverse("analytics:segment_detail", args=["loyal"]), {"format": "csv"})
    rows = _csv(response)
    expected = CustomerScore.objects.filter(rfm_segment="loyal").count()
    assert len(rows) == expected + 1
    assert response["Content-Disposition"].startswith('attachment; filename="solocrm-segment-loyal-')


def test_cohorts_export_as_a_matrix(viewer_client, analytics):
    rows = _csv(viewer_client.get(reverse("analytics:cohorts"), {"format": "csv", "metric": "retention"}))
    assert rows[0][:3] == ["First purchase", "Customers", "Month 0"]
    assert rows[1][2] == "1.0"


@pytest.mark.parametrize("evil", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab"])
def test_csv_cells_cannot_run_as_formulas(viewer_client, evil):
    contact = Contact.objects.create(first_name=evil, last_name="")
    make_score(contact, next_product_name=evil, value_at_risk=100)
    rows = _csv(viewer_client.get(reverse("analytics:export", args=["churn"])))
    name_at, product_at = rows[0].index("Customer"), rows[0].index("Next product to offer")
    assert rows[1][product_at] == "'" + evil
    assert not rows[1][name_at].startswith(("=", "+", "-", "@", "\t"))


def test_negative_numbers_stay_numbers_in_csv(viewer_client, analytics):
    FittedModel.objects.filter(kind="satisfaction").update(
        params={"trend": [], "by_segment": [{"segment": "at_risk", "nps": -12.0, "responses": 9}]}
    )
    rows = _csv(viewer_client.get(reverse("analytics:export", args=["satisfaction-segments"])))
    assert rows[1] == ["At risk", "-12.0", "9.0"]


# --- escaping --------------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"


def test_names_from_customers_and_products_are_escaped(viewer_client, analytics):
    contact = Contact.objects.create(first_name=SCRIPT, last_name="<b>x</b>")
    make_score(contact, next_product_name=SCRIPT, clv=10**6, value_at_risk=10**6, rfm_segment="loyal")
    personas = FittedModel.latest("personas")
    personas.params["personas"][0]["name"] = SCRIPT
    personas.params["personas"][0]["top_products"] = [SCRIPT]
    personas.save()
    basket = FittedModel.latest("basket")
    basket.params["rules"][0]["antecedent"] = [SCRIPT]
    basket.save()
    urls = [
        reverse("analytics:overview"),
        reverse("analytics:clv"),
        reverse("analytics:churn"),
        reverse("analytics:personas"),
        reverse("analytics:persona_detail", args=[0]),
        reverse("analytics:segment_detail", args=["loyal"]),
        reverse("analytics:recommendations"),
        reverse("contacts:detail", args=[contact.uuid]),
    ]
    for url in urls:
        page = viewer_client.get(url).content.decode()
        assert "<script>alert" not in page and "<b>x</b>" not in page, url
    page = viewer_client.get(reverse("analytics:recommendations")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- the scores box on the contact page ---------------------------------------------------------


@pytest.fixture
def contact(db):
    return Contact.objects.create(first_name="Ada", last_name="Lovelace", email="ada@example.com")


def test_the_contact_page_explains_the_scores(viewer_client, contact):
    make_reports([])
    make_score(contact, persona=1, last_order_at=timezone.localdate() - timedelta(days=12))
    page = viewer_client.get(reverse("contacts:detail", args=[contact.uuid])).content.decode()
    assert "Bought 7 times, last 12 days ago; spends more than 80% of customers." in page
    assert "Champions" in page and "Recency 5 and (F+M)/2 at least 4.5" in page
    assert "12 days since the last purchase" in page
    assert "7 orders, 6 repeat purchases" in page
    assert "120.00 USD per order on average" in page
    assert "93%" in page and "498 USD" in page and "Refill pack" in page
    assert "Regulars" in page  # the persona's name, from the personas report
    assert reverse("analytics:segment_detail", args=["champions"]) in page


def test_the_contact_page_says_when_there_are_no_scores(viewer_client, contact):
    page = viewer_client.get(reverse("contacts:detail", args=[contact.uuid])).content.decode()
    assert "Scores appear here after the analytics refresh" in page


def test_a_customer_who_bought_once_long_ago(viewer_client, contact):
    make_score(contact, orders=1, frequency=0, days_since_last=400, m_score=1, persona=None)
    page = viewer_client.get(reverse("contacts:detail", args=[contact.uuid])).content.decode()
    assert "Bought once, last 400 days ago; spends less than most customers." in page


def test_the_scores_add_at_most_two_queries_to_the_contact_page(viewer_client, contact):
    make_reports([])
    make_score(contact)
    with CaptureQueriesContext(connection) as queries:
        viewer_client.get(reverse("contacts:detail", args=[contact.uuid]))
    mine = [q["sql"] for q in queries if "analytics_" in q["sql"]]
    assert len(mine) <= 2, mine


def test_both_ways_through_a_segment_list_the_same_customers(analytics):
    from solocrm.analytics.views import segment_customers

    walked = segment_customers("loyal", "clv", share=0.5, rows_needed=25, size=10)
    sorted_ = segment_customers("loyal", "clv", share=0.0001, rows_needed=10**6, size=10)
    assert "+" in str(walked.query) or connection.vendor != "sqlite"
    assert [s.pk for s in walked] == [s.pk for s in sorted_]
    assert len(list(walked)) == CustomerScore.objects.filter(rfm_segment="loyal").count()


def test_errors_and_csat_stored_in_percent_are_shown_in_percent(viewer_client, analytics):
    forecast = viewer_client.get(reverse("analytics:forecast")).content.decode()
    assert "8.2%" in forecast and "12.1%" in forecast and "820%" not in forecast
    satisfaction = viewer_client.get(reverse("analytics:satisfaction")).content.decode()
    assert "82%" in satisfaction or "82.0%" in satisfaction


def test_nps_by_segment_names_the_segments_and_the_non_customers(viewer_client, analytics):
    report = FittedModel.latest("satisfaction")
    report.params["by_segment"].append({"segment": "none", "nps": 10.0, "responses": 4})
    report.save()
    page = viewer_client.get(reverse("analytics:satisfaction")).content.decode()
    assert page.index("Champions") < page.index("At risk") < page.index("Not a customer yet")
