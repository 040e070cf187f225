"""IMAP IDLE against a real Dovecot: new mail wakes the sync within seconds; the supervisor
starts and stops watchers with the accounts; the one-minute polling is really one minute."""

import time
from datetime import timedelta

import pytest
from django.db import close_old_connections
from django.utils import timezone

from solocrm.mail import idle, jobs, sync
from solocrm.mail.models import MailAccount, MailMessage

from .factory import message

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for(condition, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        close_old_connections()
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_new_mail_is_stored_within_seconds_through_idle(account, dovecot, ada):
    sync.sync_account(account)  # the first sync, as the clock would have run it
    watcher = idle.Watcher(account, jobs.queue_sync)
    watcher.start()
    try:
        assert watcher.idling.wait(15), "the watcher never entered IDLE"
        dovecot.append(message(subject="Arrived while idling"))
        assert _wait_for(lambda: MailMessage.objects.filter(subject="Arrived while idling").exists())
        assert _wait_for(watcher.idling.is_set)  # and it waits again
    finally:
        watcher.stop()
        watcher.join(10)
    assert not watcher.is_alive()


def test_a_lost_connection_is_retried_with_back_off(account, dovecot, monkeypatch):
    waits = []
    real_connect = idle.imap.connect

    def flaky(acc, **kwargs):
        if len(waits) < 2:
            raise ConnectionResetError("network down")
        return real_connect(acc, **kwargs)

    monkeypatch.setattr(idle.imap, "connect", flaky)
    watcher = idle.Watcher(account, lambda acc: None)
    real_wait = watcher.stopping.wait
    watcher.stopping.wait = lambda seconds: (waits.append(seconds), real_wait(0))[1]
    watcher.start()
    try:
        assert watcher.idling.wait(15)
    finally:
        watcher.stop()
        watcher.join(10)
    assert waits[:2] == [idle.BACKOFF, idle.BACKOFF * 2]


def test_the_supervisor_follows_the_accounts(account, dovecot):
    supervisor = idle.Supervisor(lambda acc: None, refresh=3600)
    try:
        supervisor.refresh()
        watcher = supervisor.watchers[account.pk]
        assert watcher.idling.wait(15)
        MailAccount.objects.filter(pk=account.pk).update(active=False)
        supervisor.refresh()
        assert supervisor.watchers == {}
        watcher.join(10)
        assert not watcher.is_alive()
    finally:
        supervisor.stop_watchers()


def test_a_one_minute_interval_is_due_at_every_tick(account):
    now = timezone.now()
    MailAccount.objects.filter(pk=account.pk).update(poll_minutes=1, last_sync_at=now - timedelta(seconds=55))
    assert [a.pk for a in sync.due_accounts(now)] == [account.pk]
    MailAccount.objects.filter(pk=account.pk).update(last_sync_at=now - timedelta(seconds=20))
    assert sync.due_accounts(now) == []


def test_queue_sync_keeps_at_most_one_waiting(account, settings):
    from solocrm.jobs.choices import JobStatus
    from solocrm.jobs.models import Job

    Job.objects.create(
        kind=jobs.KIND,
        handler="x",
        params={"account": str(account.uuid)},
        status=JobStatus.QUEUED,
        time_limit=60,
    )
    assert jobs.queue_sync(account) is None
