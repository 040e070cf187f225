"""`solocrm tasks today`: the Today list in the terminal."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from solocrm.sales.tasks.reminders import snooze_until
from solocrm.sales.tasks.services import create_task
from solocrm.web.models import TodaySnooze

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command("tasks", "today", *args, stdout=out)
    return out.getvalue()


def test_it_says_so_when_nothing_is_due():
    assert "Nothing needs you today." in _run()


def test_it_prints_the_ranked_items_with_their_reasons():
    create_task(title="Call the printer", due_at=timezone.now() - timedelta(days=2))
    create_task(title="Pay the rent", due_at=timezone.now() - timedelta(days=5))
    out = _run()
    assert out.index("Pay the rent") < out.index("Call the printer")
    assert "Overdue by 5 days" in out


def test_markup_in_a_title_is_printed_as_typed():
    create_task(title="[red]not red[/red] [link=x]", due_at=timezone.now() - timedelta(hours=1))
    assert "[red]not red[/red]" in _run()


def test_json_lines_and_the_limit():
    for n in range(3):
        create_task(title=f"task {n}", due_at=timezone.now() - timedelta(days=n + 1))
    lines = _run("--json", "--limit", "2").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["kind"] == "task" and first["title"] == "task 2" and first["reason"] == "Overdue by 3 days"


def test_a_users_snoozed_items_are_left_out_for_that_user(owner):
    from solocrm.sales.deals.models import Deal
    from solocrm.sales.deals.services import create_deal

    deal = create_deal({"title": "Quiet deal"})
    Deal.objects.update(last_activity_at=timezone.now() - timedelta(days=30))
    TodaySnooze.hide(owner, f"deal:{deal.uuid}", snooze_until("tomorrow", timezone.now()))
    assert "Quiet deal" in _run()
    assert "Quiet deal" not in _run("--user", "olivia")


def test_an_unknown_user_or_a_bad_limit_is_refused():
    with pytest.raises(CommandError, match="no active user"):
        _run("--user", "nobody")
    with pytest.raises(CommandError, match="at least 1"):
        _run("--limit", "0")
