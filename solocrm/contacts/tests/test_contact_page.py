"""The contact page: key figures, the one composer, the timeline filter, details and custom
fields edited in place, roles, and a bounded number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from solocrm.analytics.models import CustomerScore
from solocrm.contacts.forms import custom_field_name
from solocrm.contacts.models import Company, Contact
from solocrm.contacts.services import add_interaction
from solocrm.sales.models import Order, Task
from solocrm.sales.tasks.services import create_task

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def ada(db) -> Contact:
    return Contact.objects.create(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        company=Company.objects.create(name="Engines Ltd"),
        lifecycle_stage="customer",
        source="fair",
        city="London",
        custom_fields={"Shoe size": 38, "Favourite colour": "green"},
    )


def _detail(contact, query: str = "") -> str:
    return reverse("contacts:detail", args=[contact.uuid]) + query


def _field(contact, key: str) -> str:
    return reverse("contacts:edit_field", args=[contact.uuid, key])


def _figures(response) -> dict[str, str]:
    return {figure.key: figure.value for figure in response.context["figures"]}


# --- the header ---------------------------------------------------------------------------------


def test_the_header_figures_come_from_orders_scores_and_the_timeline(viewer_client, ada):
    figures = _figures(viewer_client.get(_detail(ada)))
    assert figures["orders"] == "0" and figures["revenue"] == "—" and figures["last_contact"] == "never"
    assert "clv" not in figures and "churn" not in figures  # before the first analytics refresh
    Order.objects.create(contact=ada, total=Decimal("1200"), status="paid", currency="EUR")
    Order.objects.create(contact=ada, total=Decimal("300"), status="paid", currency="EUR")
    Order.objects.create(contact=ada, total=Decimal("999"), status="cancelled", currency="EUR")
    CustomerScore.objects.create(
        contact=ada, computed_at=timezone.now(), clv=Decimal("4321"), churn_risk=0.62
    )
    add_interaction(ada, kind="note", body="a note does not count as contact")
    called = timezone.now() - timedelta(days=3)
    add_interaction(ada, kind="call", body="rang", occurred_at=called)
    response = viewer_client.get(_detail(ada))
    figures = _figures(response)
    assert figures["orders"] == "2" and figures["revenue"] == "1,500 EUR"
    assert figures["clv"].startswith("4,321") and figures["churn"] == "62%"
    assert figures["last_contact"] == date_format(timezone.localtime(called), "SHORT_DATE_FORMAT")
    page = response.content.decode()
    assert "kpi-danger" in page and 'href="mailto:ada@example.com"' in page and "Engines Ltd" in page


def test_quick_actions_for_editors(assistant_client, ada):
    page = assistant_client.get(_detail(ada)).content.decode()
    assert "?compose=call#composer" in page and "?compose=task#composer" in page
    assert f"{reverse('sales:deal_create')}?contact={ada.uuid}" in page


def test_no_quick_actions_but_e_mail_for_viewers(viewer_client, ada):
    page = viewer_client.get(_detail(ada)).content.decode()
    assert "?compose=call" not in page and 'id="composer"' not in page and "mailto:" in page


# --- the composer -------------------------------------------------------------------------------


def test_the_page_has_one_composer_and_no_competing_forms(assistant_client, ada):
    page = assistant_client.get(_detail(ada)).content.decode()
    assert page.count('id="composer-form"') == 1
    content = page.split('<main id="main"', 1)[1]  # the palette's commands in the header may name them
    assert "Log a note, call or meeting" not in content and "Log a call or meeting" not in content
    for tab in ("note", "call", "meeting", "email", "task"):
        assert f"?compose={tab}#composer" in page
        tab_page = assistant_client.get(_detail(ada, f"?compose={tab}")).content.decode()
        assert tab_page.count('id="composer-form"') == 1
        fragment = assistant_client.get(
            reverse("contacts:composer", args=[ada.uuid]) + f"?tab={tab}", headers=HTMX
        )
        assert "<html" not in fragment.content.decode() and 'id="composer"' in fragment.content.decode()


POSTS = {
    "note": ("contacts:add_note", {"kind": "note", "body": "Met at the fair"}),
    "email": ("contacts:add_note", {"kind": "email_in", "subject": "Re: quote", "body": "Looks good"}),
    "call": ("sales:log_activity", {"kind": "call", "outcome": "connected", "notes": "Talked prices"}),
    "meeting": ("sales:log_activity", {"kind": "meeting", "notes": "Visited the shop"}),
    "task": ("sales:contact_add_task", {"title": "Send the quote", "priority": 2}),
}


def _post_data(ada, tab: str) -> tuple[str, dict]:
    name, data = POSTS[tab]
    data = dict(data)
    if name == "sales:log_activity":
        url = reverse(name)
        data.update(contact=str(ada.uuid), composer="1", next_when="3days")
        data["occurred_at"] = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
        data["next"] = _detail(ada)
    else:
        url = reverse(name, args=[ada.uuid])
    return url, data


@pytest.mark.parametrize("tab", list(POSTS))
def test_each_tab_posts_with_htmx_and_refreshes_the_timeline(assistant_client, ada, tab):
    url, data = _post_data(ada, tab)
    response = assistant_client.post(url, data, headers=HTMX)
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert 'id="composer"' in page and 'aria-current="page"' in page
    assert 'id="timeline" aria-labelledby="timeline-title" hx-swap-oob="true"' in page
    assert 'id="tasks"' in page and 'id="contact-figures"' in page
    if tab == "task":
        assert Task.objects.get(contact=ada).title == "Send the quote" and "Send the quote" in page
    else:
        entry = ada.interactions.get()
        assert entry.kind == {"email": "email_in"}.get(tab, tab)
        assert entry.body in page


@pytest.mark.parametrize("tab", list(POSTS))
def test_each_tab_works_without_javascript(assistant_client, ada, tab):
    url, data = _post_data(ada, tab)
    response = assistant_client.post(url, data)
    assert response.status_code == 302 and response["Location"].startswith(_detail(ada))
    assert (Task.objects.filter(contact=ada) if tab == "task" else ada.interactions).count() == 1


def test_a_composer_error_comes_back_in_the_composer(assistant_client, ada):
    url, data = _post_data(ada, "call")
    data["occurred_at"] = "not a date"
    page = assistant_client.post(url, data, headers=HTMX).content.decode()
    assert 'id="composer"' in page and "errorlist" in page and "hx-swap-oob" not in page
    assert not ada.interactions.exists()


# --- the timeline filter ------------------------------------------------------------------------


def test_the_timeline_is_filtered_by_kind_and_the_filter_stays_in_the_url(viewer_client, ada):
    add_interaction(ada, kind="note", body="the note")
    add_interaction(ada, kind="call", body="the call")
    add_interaction(ada, kind="email_out", body="the mail")
    page = viewer_client.get(_detail(ada, "?kind=call")).content.decode()
    assert "the call" in page and "the note" not in page and "the mail" not in page
    response = viewer_client.get(
        reverse("contacts:timeline", args=[ada.uuid]) + "?whole=1&kind=email", headers=HTMX
    )
    page = response.content.decode()
    assert "the mail" in page and "the call" not in page and "<html" not in page
    assert f'hx-push-url="{_detail(ada)}?kind=email"' in page
    filters = {f["name"]: f["count"] for f in response.context["timeline_filters"]}
    assert filters == {"": 3, "note": 1, "call": 1, "meeting": 0, "email": 1, "other": 0}
    assert "the note" in viewer_client.get(_detail(ada, "?kind=bogus")).content.decode()


# --- details and custom fields in place ---------------------------------------------------------


def test_a_detail_is_edited_in_place(assistant_client, ada):
    form = assistant_client.get(_field(ada, "title"), headers=HTMX).content.decode()
    assert 'name="title"' in form and 'name="email"' not in form and "loaded_version" in form
    response = assistant_client.post(_field(ada, "title"), {"title": "Countess"}, headers=HTMX)
    page = response.content.decode()
    assert response.status_code == 200 and "Countess" in page and 'id="contact-header"' in page
    ada.refresh_from_db()
    assert ada.title == "Countess" and ada.email == "ada@example.com" and ada.city == "London"
    assert ada.custom_fields == {"Shoe size": 38, "Favourite colour": "green"}  # untouched, type kept
    cancel = assistant_client.get(_field(ada, "title") + "?cancel=1", headers=HTMX).content.decode()
    assert "Countess" in cancel and "<form" not in cancel


def test_an_invalid_detail_gives_a_clear_error_and_changes_nothing(assistant_client, ada):
    before = Contact.objects.values().get(pk=ada.pk)
    response = assistant_client.post(_field(ada, "email"), {"email": "not an address"}, headers=HTMX)
    page = response.content.decode()
    assert 'class="errorlist"' in page and 'name="email"' in page and 'value="not an address"' in page
    assert Contact.objects.values().get(pk=ada.pk) == before


def test_a_custom_field_is_edited_added_and_removed_in_place(assistant_client, ada):
    key = custom_field_name("Favourite colour")
    response = assistant_client.post(_field(ada, key), {key: "<script>alert(1)</script>"}, headers=HTMX)
    page = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    ada.refresh_from_db()
    assert ada.custom_fields == {"Shoe size": 38, "Favourite colour": "<script>alert(1)</script>"}
    page = assistant_client.get(_detail(ada)).content.decode()
    assert "<script>alert(1)" not in page and "Shoe size" in page
    response = assistant_client.post(
        _field(ada, "custom_new"), {"new_custom_key": "Loyalty id", "new_custom_value": "L-77"}, headers=HTMX
    )
    assert "L-77" in response.content.decode() and 'id="detail-custom_new"' in response.content.decode()
    response = assistant_client.post(
        _field(ada, "custom_new"), {"new_custom_key": "Shoe size", "new_custom_value": "40"}, headers=HTMX
    )
    assert "already has" in response.content.decode()
    response = assistant_client.post(
        _field(ada, "custom_new"), {"new_custom_key": "Pet", "new_custom_value": ""}, headers=HTMX
    )
    assert "Give the value" in response.content.decode()
    shoe = custom_field_name("Shoe size")
    assistant_client.post(_field(ada, shoe), {shoe: ""}, headers=HTMX)
    ada.refresh_from_db()
    assert ada.custom_fields == {"Favourite colour": "<script>alert(1)</script>", "Loyalty id": "L-77"}


def test_an_inline_edit_without_javascript_goes_back_to_the_page(assistant_client, ada):
    response = assistant_client.post(_field(ada, "source"), {"channel": "referral", "source": "Bob"})
    assert response["Location"] == _detail(ada)
    ada.refresh_from_db()
    assert (ada.channel, ada.source) == ("referral", "Bob")
    response = assistant_client.post(_field(ada, "email"), {"email": "nope"})
    ada.refresh_from_db()
    assert response.status_code == 422 and ada.email == "ada@example.com"
    assert "errorlist" in response.content.decode()  # the edit page, with the error
    assert assistant_client.get(_field(ada, "nonsense"), headers=HTMX).status_code == 404


def test_a_stale_inline_form_is_refused(assistant_client, ada):
    form = assistant_client.get(_field(ada, "title"), headers=HTMX)
    loaded = form.context["form"]["loaded_version"].value()
    Contact.objects.filter(pk=ada.pk).update(updated_at=timezone.now() + timedelta(seconds=5))
    page = assistant_client.post(_field(ada, "title"), {"title": "X", "loaded_version": loaded}, headers=HTMX)
    ada.refresh_from_db()
    assert ada.title == "" and "errorlist" in page.content.decode()


def test_the_edit_page_shows_and_saves_custom_fields(assistant_client, ada):
    url = reverse("contacts:edit", args=[ada.uuid])
    form = assistant_client.get(url).context["form"]
    assert [f.label for f in form.custom_fields()] == ["Favourite colour", "Shoe size"]
    data = {k: v for k, v in assistant_client.get(url).context["form"].initial.items() if v is not None}
    data.update({custom_field_name("Shoe size"): "39", "new_custom_key": "VAT", "new_custom_value": "GB1"})
    data.update(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        company_name="Engines Ltd",
        lifecycle_stage="customer",
        tags_text="",
        loaded_version="",
        **{custom_field_name("Favourite colour"): "green"},
    )
    assert assistant_client.post(url, data).status_code == 302
    ada.refresh_from_db()
    assert ada.custom_fields == {"Shoe size": "39", "Favourite colour": "green", "VAT": "GB1"}


# --- roles and cost -----------------------------------------------------------------------------


def test_a_viewer_sees_no_edit_controls_and_is_refused(viewer_client, ada):
    page = viewer_client.get(_detail(ada)).content.decode()
    assert "edit_field" not in page and "/field/" not in page and "Add a custom field" not in page
    assert "Favourite colour" in page and "green" in page
    assert viewer_client.get(_field(ada, "title"), headers=HTMX).status_code == 403
    assert viewer_client.post(_field(ada, "title"), {"title": "X"}, headers=HTMX).status_code == 403
    assert viewer_client.get(reverse("contacts:composer", args=[ada.uuid])).status_code == 403
    assert (
        viewer_client.post(
            reverse("contacts:add_note", args=[ada.uuid]), {"kind": "note", "body": "x"}
        ).status_code
        == 403
    )
    ada.refresh_from_db()
    assert ada.title == "" and not ada.interactions.exists()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("query", ["", "?compose=call", "?kind=call"])
def test_the_page_costs_a_bounded_number_of_queries(owner_client, ada, query):
    owner_client.get(_detail(ada, query))
    add_interaction(ada, kind="call", body="one")
    Order.objects.create(contact=ada, total=1, status="paid")
    create_task(title="one", contact=ada)
    few = _queries(owner_client, _detail(ada, query))
    for i in range(25):
        add_interaction(ada, kind="call", body=f"more {i}")
        Order.objects.create(contact=ada, total=i, status="paid", currency="EUR" if i % 2 else "USD")
        create_task(title=f"open {i}", contact=ada)
    ada.custom_fields = {f"field {i}": i for i in range(30)}
    ada.save()
    assert _queries(owner_client, _detail(ada, query)) == few
    assert few <= 40


def test_the_page_reads_in_chinese(assistant_client, ada):
    page = assistant_client.get(
        _detail(ada, "?compose=call"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    for english in (
        "Calls",
        "Meetings",
        "Lifecycle stage",
        "Marketing e-mail",
        "Add a custom field",
        "Log the call",
    ):
        assert f">{english}<" not in page and f"{english} <" not in page, english
    for chinese in ("通话", "会议", "生命周期阶段", "营销邮件", "添加自定义字段", "记录通话", "上次联系"):
        assert chinese in page, chinese
