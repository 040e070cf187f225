"""`solocrm worker`: the queue is drained by django-tasks-db's worker, the scheduler claims and
queues each daily digest once, and --once exits after one round. E-mail goes to a real SMTP
server (aiosmtpd) so delivery itself is tested."""

from __future__ import annotations

import email
import signal
import socket
from datetime import timedelta
from email import policy
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from solocrm.lib import heartbeat
from solocrm.sales.tasks.services import create_task
from solocrm.sales.tasks.tasks import send_daily_digest
from solocrm.users.models import Preferences
from solocrm.web import scheduler
from solocrm.web.management.commands import worker

# The worker closes stale connections between jobs (like Django between requests), which on
# PostgreSQL would end a test's wrapping transaction: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    from aiosmtpd.controller import Controller

    inbox, port = _Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def queued(settings):
    """The real database queue instead of the tests' inline backend."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def due_digest(owner):
    prefs = Preferences.of(owner)
    prefs.digest_hour = 0  # due whenever the test runs
    prefs.save()
    create_task(title="Call Ada <today>", due_at=timezone.now() - timedelta(hours=1), actor=owner)
    return owner


def _run(*args: str) -> str:
    out = StringIO()
    call_command("worker", "--once", *args, stdout=out)
    return out.getvalue()


def test_once_delivers_exactly_one_digest_and_a_second_run_none(queued, smtp, due_digest):
    log = _run()
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == due_digest.email and message["Subject"].startswith("solocrm: 1 task")
    assert message.is_multipart() and {p.get_content_type() for p in message.iter_parts()} == {
        "text/plain",
        "text/html",
    }
    assert "Call Ada <today>" in message.get_body(("plain",)).get_content()
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert "worker" in log and "send_daily_digest" in log
    _run()
    assert len(smtp.messages) == 1 and DBTaskResult.objects.count() == 1


def test_the_worker_drains_what_others_queued(queued, smtp, due_digest):
    today = timezone.localdate().isoformat()
    send_daily_digest.enqueue(due_digest.pk, today)  # e.g. queued by another process
    assert DBTaskResult.objects.get().status == "READY"
    Preferences.objects.filter(user=due_digest).update(last_digest_on=timezone.localdate())
    _run()
    assert len(smtp.messages) == 1 and DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_a_failing_smtp_server_fails_the_job_not_the_worker(queued, settings, due_digest):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _free_port(), 2
    _run()
    assert DBTaskResult.objects.get().status == "FAILED"
    # At most once: the day's digest stays claimed, it is not retried every minute.
    assert Preferences.of(due_digest).last_digest_on == timezone.localdate()


def test_nothing_to_do_means_no_e_mail(queued, smtp, owner):
    Preferences.objects.create(user=owner, digest_hour=0)
    _run()
    assert smtp.messages == [] and Preferences.of(owner).last_digest_on == timezone.localdate()


def test_inline_jobs_still_get_the_schedule(smtp, due_digest):
    log = _run()
    assert len(smtp.messages) == 1 and "inline" in log


def test_two_ticks_in_the_same_minute_queue_one_digest(queued, due_digest):
    assert scheduler.tick().digests == 1
    assert scheduler.tick().digests == 0
    assert DBTaskResult.objects.count() == 1
    assert heartbeat.last_tick() is not None and not heartbeat.worker_is_late()


def test_the_tick_starts_the_analytics_refresh_when_due(settings, monkeypatch):
    from solocrm.analytics import tasks as analytics_tasks

    calls = []
    monkeypatch.setattr(analytics_tasks, "run_if_due", lambda now=None: calls.append(now) or True)
    assert scheduler.tick().analytics_started is True and len(calls) == 1


def test_a_broken_analytics_setting_is_logged_not_raised(settings, caplog):
    settings.SOLOCRM_ANALYTICS_HOUR = "25"
    assert scheduler.tick().analytics_started is False
    assert "SOLOCRM_ANALYTICS_HOUR" in caplog.text


def test_a_bad_interval_is_refused():
    with pytest.raises(CommandError, match="interval"):
        call_command("worker", "--once", "--interval", "0")


def test_the_first_signal_stops_gently_and_the_second_at_once():
    runner = worker.Runner(interval=1, once=False, worker_id="w", backend=None)
    stopped = []
    runner.pool = type("FakePool", (), {"stop": lambda self: stopped.append(True)})()
    runner.stop(signal.SIGTERM, None)
    assert runner.stopping.is_set() and stopped == [True]
    with pytest.raises(KeyboardInterrupt):
        runner.stop(signal.SIGINT, None)


def test_a_stopped_runner_ends_its_loop(monkeypatch):
    runner = worker.Runner(interval=0.1, once=False, worker_id="w", backend=None)
    ticks = []
    monkeypatch.setattr(runner, "tick", lambda: (ticks.append(1), runner.stopping.set()))
    runner.run()
    assert ticks == [1]
