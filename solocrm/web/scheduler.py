"""The background worker's clock: once a minute `solocrm worker` calls ``tick``, which queues
the periodic jobs that are due. Adding a periodic job means adding one call here.

- the daily digest of every user whose hour has come (claimed per user and day with a
  conditional UPDATE, so two workers or a restart never send one twice);
- the daily analytics refresh (solocrm.analytics.tasks.run_if_due: the refresh job is exclusive
  and its "is it due" check keeps two workers from refreshing twice);
- the daily backup (solocrm.ops.jobs.backup_if_due: exclusive, and due only while the backup
  folder holds no archive from today);
- the mailbox syncs whose polling interval (one minute by default) has passed;
- e-mail scheduled for later whose send job went missing (solocrm.mail.outgoing.due_unqueued).

A long-running worker also keeps the IMAP IDLE watchers (``start_watchers``): they queue a
mailbox sync within seconds of new mail where the server supports IDLE (solocrm/mail/idle.py).

The tick also leaves a heartbeat in the data directory, so the preferences page can warn when
no worker is running (and therefore no digest is sent).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from solocrm.lib.heartbeat import beat

log = logging.getLogger("solocrm.worker")


@dataclass
class TickReport:
    digests: int = 0
    analytics_started: bool = False
    mail_syncs: int = 0
    backup_started: bool = False


def start_watchers():
    """Start the IMAP IDLE watchers (a thread per active mail account); ``.stop()`` ends them.
    Only for a long-running worker: `--once` and the tests tick without them."""
    from solocrm.mail import idle

    return idle.start()


def tick(now: datetime | None = None) -> TickReport:
    """Queue every periodic job due at ``now``; each job's failure is logged, never raised."""
    from solocrm.analytics import tasks as analytics_tasks
    from solocrm.mail import jobs as mail_jobs
    from solocrm.mail import outgoing as mail_outgoing
    from solocrm.ops import jobs as ops_jobs
    from solocrm.sales.tasks import reminders
    from solocrm.sales.tasks.tasks import queue_digest

    now = now or timezone.now()
    report = TickReport()
    try:
        beat(now)
    except OSError:  # an unwritable data directory must not stop the digests
        log.exception("could not write the worker's heartbeat")
    try:
        queued = reminders.due_digests(now, lambda user_id, day: queue_digest(user_id, day.isoformat()))
        report.digests = len(queued)
    except Exception:  # the analytics refresh below must still get its turn
        log.exception("queueing the daily digests failed")
    try:
        report.analytics_started = analytics_tasks.run_if_due(now)
    except ImproperlyConfigured as error:
        log.error("%s", error)
    except Exception:
        log.exception("the daily analytics refresh check failed")
    try:
        report.mail_syncs = mail_jobs.queue_due_syncs(now)
    except Exception:
        log.exception("queueing the mailbox syncs failed")
    try:
        mail_outgoing.due_unqueued(now)
    except Exception:
        log.exception("queueing the scheduled e-mail failed")
    try:
        report.backup_started = ops_jobs.backup_if_due(now)
    except Exception:
        log.exception("the daily backup check failed")
    if report.digests or report.analytics_started:
        log.info(
            "tick: %d digest(s) queued, analytics refresh %s",
            report.digests,
            "started" if report.analytics_started else "not due",
        )
    return report
