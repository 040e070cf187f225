"""The Today page (the home page): ranked items with reasons and actions, key figures, snooze."""

import sys
import types
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from solocrm.contacts.models import Contact
from solocrm.lib import today
from solocrm.sales.deals.services import create_deal, default_pipeline
from solocrm.sales.models import Deal, Order, Task
from solocrm.sales.tasks.reminders import end_of_day
from solocrm.sales.tasks.services import create_task
from solocrm.web import dashboard
from solocrm.web.models import TodaySnooze

pytestmark = pytest.mark.django_db

HOME = "/"


def test_the_stranger_is_sent_to_login(client, owner):
    assert client.get(HOME)["Location"] == "/accounts/login/?next=/"


def test_an_empty_database_says_how_to_start(owner_client):
    page = owner_client.get(HOME).content.decode()
    assert "No customers yet" in page
    assert 'href="/contacts/import/"' in page
    assert 'action="/demo/"' in page
    assert "Nothing needs you today" in page


def test_only_the_owner_is_offered_demo_data_and_a_viewer_no_import(assistant_client, viewer):
    page = assistant_client.get(HOME).content.decode()
    assert 'href="/contacts/import/"' in page and 'action="/demo/"' not in page
    assistant_client.force_login(viewer)
    page = assistant_client.get(HOME).content.decode()
    assert "/contacts/import/" not in page and 'action="/demo/"' not in page


def test_overdue_tasks_come_before_todays_with_their_reason_and_a_done_button(assistant_client):
    now = timezone.now()
    contact = Contact.objects.create(first_name="Ada", last_name="Lovelace", lifecycle_stage="customer")
    late = create_task(title="late task", due_at=now - timedelta(days=2), contact=contact)
    create_task(title="todays task", due_at=now + (end_of_day(timezone.now()) - now) / 2)
    create_task(title="next week task", due_at=now + timedelta(days=7))
    done = create_task(title="done task", due_at=now - timedelta(days=1))
    done.complete()
    response = assistant_client.get(HOME)
    page = response.content.decode()
    titles = [item.title for item in response.context["items"]]
    assert titles == ["late task · Ada Lovelace", "todays task"]
    assert "Overdue by 2 days" in page
    assert f'action="/sales/tasks/{late.uuid}/toggle/"' in page
    assert "next week task" not in page and "done task" not in page


def test_a_viewer_sees_the_list_but_no_action_that_changes_data(viewer_client):
    create_task(title="late task", due_at=timezone.now() - timedelta(days=1))
    page = viewer_client.get(HOME).content.decode()
    assert "late task" in page and "/toggle/" not in page


def test_completing_a_task_from_today_removes_it(owner_client):
    task = create_task(title="call back", due_at=timezone.now() - timedelta(hours=3))
    response = owner_client.post(f"/sales/tasks/{task.uuid}/toggle/", {"next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    task.refresh_from_db()
    assert task.is_done
    assert "call back" not in owner_client.get(HOME).content.decode()


def test_stalled_deals_are_listed_and_a_bigger_deal_ranks_higher(owner_client):
    small = create_deal({"title": "small job", "amount": Decimal("100")})
    big = create_deal({"title": "big job", "amount": Decimal("20000")})
    Deal.objects.update(last_activity_at=timezone.now() - timedelta(days=30))
    items = [item for item in owner_client.get(HOME).context["items"] if item.kind == "deal"]
    assert [item.key for item in items] == [f"deal:{big.uuid}", f"deal:{small.uuid}"]
    assert items[0].reason.startswith("No activity for 30 days")


def test_snoozing_an_item_hides_it_until_tomorrow_morning(owner_client, owner):
    deal = create_deal({"title": "quiet deal"})
    Deal.objects.update(last_activity_at=timezone.now() - timedelta(days=30))
    response = owner_client.post(
        "/today/snooze/", {"key": f"deal:{deal.uuid}", "until": "tomorrow", "next": "/"}
    )
    assert response.status_code == 302
    assert "quiet deal" not in owner_client.get(HOME).content.decode()
    snooze = TodaySnooze.objects.get()
    assert snooze.user == owner and timezone.localtime(snooze.until).hour == 9
    assert snooze.until > timezone.now()


def test_a_snooze_with_a_made_up_key_is_refused(owner_client):
    for key in ("", "deal:1", "x" * 200, "<script>:00000000-0000-0000-0000-000000000000"):
        assert owner_client.post("/today/snooze/", {"key": key}).status_code == 400
    assert (
        owner_client.post(
            "/today/snooze/", {"key": f"deal:{'0' * 8}-0000-0000-0000-{'0' * 12}", "until": "never"}
        ).status_code
        == 400
    )
    assert not TodaySnooze.objects.exists()


def test_the_stranger_cannot_snooze(client, owner):
    response = client.post("/today/snooze/", {"key": "deal:00000000-0000-0000-0000-000000000000"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not TodaySnooze.objects.exists()


def test_the_key_figures_compare_this_month_with_last_month_and_last_year(settings):
    settings.SOLOCRM_CURRENCY = "EUR"
    now = timezone.make_aware(datetime(2026, 5, 20, 15, 0))
    Order.objects.create(total=Decimal("100.00"), currency="EUR", ordered_at=now.replace(day=1, hour=0))
    Order.objects.create(total=Decimal("200.00"), currency="EUR", ordered_at=now.replace(hour=9))  # today
    Order.objects.create(total=Decimal("7.00"), currency="EUR", ordered_at=now + timedelta(hours=1))  # later
    Order.objects.create(total=Decimal("99.00"), currency="EUR", status="cancelled", ordered_at=now)
    Order.objects.create(total=Decimal("50.00"), currency="USD", ordered_at=now)
    Order.objects.create(
        total=Decimal("200.00"), currency="EUR", ordered_at=now.replace(day=1, hour=0) - timedelta(minutes=1)
    )
    Order.objects.create(total=Decimal("150.00"), currency="EUR", ordered_at=now.replace(year=2025, day=31))
    Order.objects.create(total=Decimal("150.00"), currency="EUR", ordered_at=now.replace(year=2025, day=3))
    Order.objects.create(
        total=Decimal("150.00"), currency="EUR", ordered_at=now.replace(month=4, day=20, hour=9)
    )
    kpis = dashboard.kpis(now)
    assert kpis.revenue_this_month == Decimal("300.00")
    assert kpis.revenue_last_month == Decimal("350.00")
    assert kpis.revenue_last_year == Decimal("300.00")
    # Changes compare with the same stretch (1st to the 20th, 15:00): 150 on 20 April at 9:00,
    # 150 on 3 May 2025; the order of 30 April does not count.
    assert kpis.last_month_same_days == Decimal("150.00")
    assert kpis.change_vs_last_month == pytest.approx(1.0)
    assert kpis.last_year_same_days == Decimal("150.00")
    assert kpis.change_vs_last_year == pytest.approx(1.0)
    # Today's orders are added afresh on every call; the days before come from the cache.
    Order.objects.create(total=Decimal("1.00"), currency="EUR", ordered_at=now.replace(hour=10))
    assert dashboard.kpis(now).revenue_this_month == Decimal("301.00")


def test_the_key_figures_are_on_the_page(viewer_client):
    Order.objects.create(
        total=Decimal("1234.00"), currency="USD", ordered_at=timezone.now() - timedelta(seconds=1)
    )
    page = viewer_client.get(HOME).content.decode()
    assert "Revenue this month (USD)" in page and "1,234" in page


def test_the_weighted_pipeline_win_rate_and_new_customers(viewer_client, settings):
    settings.SOLOCRM_CURRENCY = "USD"
    stages = list(default_pipeline().stages.all())
    create_deal({"title": "a", "amount": Decimal("1000"), "stage": stages[0]})  # 10 %
    create_deal({"title": "b", "amount": Decimal("1000"), "stage": stages[2]})  # 50 %
    won = create_deal({"title": "c", "amount": Decimal("500")})
    won.mark_won()
    just_now = timezone.now() - timedelta(seconds=1)
    regular = Contact.objects.create(last_name="regular")
    Order.objects.create(contact=regular, total=10, ordered_at=timezone.now() - timedelta(days=400))
    Order.objects.create(contact=regular, total=10, ordered_at=just_now)
    newcomer = Contact.objects.create(last_name="newcomer")
    Order.objects.create(contact=newcomer, total=10, ordered_at=just_now)
    Order.objects.create(contact=newcomer, total=12, ordered_at=just_now)
    kpis = viewer_client.get(HOME).context["kpis"]
    assert kpis.weighted_pipeline == Decimal("600.00") and kpis.open_deals == 2
    assert kpis.win_rate == 1.0
    assert kpis.new_customers == 1


def test_user_content_is_escaped(owner_client):
    contact = Contact.objects.create(first_name="<script>alert(1)</script>")
    create_task(title="<b>bold</b>", due_at=timezone.now() - timedelta(hours=1), contact=contact)
    page = owner_client.get(HOME).content.decode()
    assert "<script>alert(1)</script>" not in page and "<b>bold</b>" not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


def test_a_failing_provider_does_not_take_the_page_down(owner_client, monkeypatch):
    def broken(ctx):
        raise RuntimeError("boom")
        yield  # pragma: no cover

    monkeypatch.setitem(today._providers, "broken", broken)
    create_task(title="still shown", due_at=timezone.now() - timedelta(hours=1))
    page = owner_client.get(HOME).content.decode()
    assert "still shown" in page


def test_another_module_adds_items_through_the_registry(owner_client, monkeypatch):
    def tickets(ctx):
        yield today.TodayItem(
            key="ticket:1", kind="ticket", title="Printer on fire", reason="SLA in 1 hour", score=99
        )

    monkeypatch.setitem(today._providers, "tickets", tickets)
    create_task(title="a task", due_at=timezone.now() - timedelta(hours=1))
    items = owner_client.get(HOME).context["items"]
    assert items[0].title == "Printer on fire"


def _count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(HOME).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_data(owner_client):
    owner_client.get(HOME)
    contact = Contact.objects.create(last_name="x", email="x@example.com")
    create_task(title="t", contact=contact, due_at=timezone.now() - timedelta(hours=1))
    create_deal({"title": "d", "contact": contact})
    Deal.objects.update(last_activity_at=timezone.now() - timedelta(days=40))
    few = _count_queries(owner_client)
    for i in range(15):
        other = Contact.objects.create(last_name=f"y{i}", lifecycle_stage="customer")
        create_task(title=f"t{i}", contact=other, due_at=timezone.now() - timedelta(hours=i + 2))
        create_deal({"title": f"d{i}", "contact": other, "amount": Decimal(i)})
        Order.objects.create(contact=other, total=i)
    Deal.objects.update(last_activity_at=timezone.now() - timedelta(days=40))
    assert Task.objects.open().count() == 16
    assert _count_queries(owner_client) == few
    assert few <= 21  # one query per kind of item (tickets near their SLA the newest)


def test_the_demo_button_fills_an_empty_database_only(owner_client, monkeypatch):
    calls = []
    fake = types.ModuleType("solocrm.web.demo")
    fake.DemoDataExists = type("DemoDataExists", (Exception,), {})
    fake.load_demo = lambda progress=None, **options: calls.append(options)
    monkeypatch.setitem(sys.modules, "solocrm.web.demo", fake)
    response = owner_client.post("/demo/", follow=True)
    assert len(calls) == 1 and "Demo data loaded" in response.content.decode()
    Contact.objects.create(last_name="real customer")
    response = owner_client.post("/demo/", follow=True)
    assert len(calls) == 1 and "only be loaded into an empty database" in response.content.decode()


def test_only_the_owner_may_load_demo_data(assistant_client):
    assert assistant_client.post("/demo/").status_code == 403
    assert assistant_client.get("/demo/").status_code == 405


def test_a_refresh_recomputes_the_cached_figures(settings):
    settings.SOLOCRM_CURRENCY = "USD"
    last_month = dashboard.month_start(timezone.localdate(), 1) + timedelta(days=2)
    dashboard.kpis()  # caches last month: nothing yet
    Order.objects.create(total=Decimal("80.00"), currency="USD", ordered_at=last_month)
    assert dashboard.kpis().revenue_last_month == Decimal("0.00")
    assert dashboard.kpis(refresh=True).revenue_last_month == Decimal("80.00")
    assert dashboard.kpis().revenue_last_month == Decimal("80.00")


def test_the_warmer_thread_refreshes_and_survives_a_failure(monkeypatch):
    import threading

    calls = []

    def fake_kpis(refresh=False):
        calls.append(refresh)
        raise RuntimeError("database went away")

    monkeypatch.setattr(dashboard, "kpis", fake_kpis)
    monkeypatch.setattr(dashboard, "close_old_connections", lambda: None)
    stop = threading.Event()
    stop.set()  # one round, then stop
    dashboard.start_figures_warmer(stop).join(timeout=10)
    assert calls == [True]


def test_snoozed_deals_make_room_for_the_next_ones(owner_client, owner):
    deals = [create_deal({"title": f"quiet {n}", "amount": Decimal(1000 + n)}) for n in range(8)]
    Deal.objects.update(last_activity_at=timezone.now() - timedelta(days=30))
    for deal in deals[1:8]:
        TodaySnooze.hide(owner, f"deal:{deal.uuid}", timezone.now() + timedelta(days=1))
    keys = [item.key for item in owner_client.get(HOME).context["items"] if item.kind == "deal"]
    assert keys == [f"deal:{deals[0].uuid}"]


def test_a_deal_past_its_close_date_is_not_crowded_out_by_undated_quiet_ones(owner_client):
    for n in range(8):
        create_deal({"title": f"undated {n}", "amount": Decimal(100)})
    late = create_deal({"title": "late", "amount": Decimal(50000)})
    Deal.objects.update(last_activity_at=timezone.now() - timedelta(days=30))
    Deal.objects.filter(pk=late.pk).update(expected_close=timezone.localdate() - timedelta(days=2))
    items = owner_client.get(HOME).context["items"]
    assert items[0].key == f"deal:{late.uuid}" and "Expected to close 2 days ago" in items[0].reason
