"""The mailbox sync as a background job (kind ``mail.sync``, one job per account and run).

The worker's clock (solocrm.web.scheduler.tick, once a minute) calls ``queue_due_syncs``: every
active account whose polling interval has passed and that has no sync queued or running gets
one. A sync is safe to run twice (nothing is duplicated), so a job a crash left running is
queued again."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from solocrm.jobs import services as job_services
from solocrm.jobs.choices import ACTIVE, JobStatus
from solocrm.jobs.models import Job
from solocrm.jobs.registry import job_kind

from . import sync
from .models import MailAccount

log = logging.getLogger(__name__)

KIND = "mail.sync"


@job_kind(KIND, limit=1, rerun_after_crash=True, time_limit=3600)
def sync_job(job: Job, progress: job_services.Progress) -> dict[str, Any]:
    account = MailAccount.objects.filter(uuid=(job.params or {}).get("account")).first()
    if account is None:
        raise job_services.JobFailed(_("The mail account no longer exists."))
    try:
        report = sync.sync_account(account, progress=progress)
    except sync.SyncError as error:
        raise job_services.JobFailed(str(error)) from None
    result = report.as_dict()
    result["message"] = _("%(stored)d new e-mail(s) stored, %(skipped)d not concerning contacts.") % {
        "stored": report.stored,
        "skipped": report.skipped,
    }
    return result


def _title(account: MailAccount) -> str:
    return _("Mail sync: %(name)s") % {"name": account.name}


def has_active_sync(account: MailAccount) -> bool:
    return Job.objects.filter(kind=KIND, status__in=ACTIVE, params__account=str(account.uuid)).exists()


def queue_due_syncs(now: datetime | None = None) -> int:
    """Queue a sync of each account that is due and has none queued or running; how many."""
    queued = 0
    for account in sync.due_accounts(now or timezone.now()):
        if has_active_sync(account):
            continue
        job_services.enqueue(sync_job, params={"account": str(account.uuid)}, title=_title(account))
        queued += 1
    return queued


def run_here(account: MailAccount, progress=None) -> Job:
    """Sync ``account`` in this process (the command line), recorded as a job. Raises
    JobBusy when a sync is already running."""
    job = job_services.run_here(
        sync_job, params={"account": str(account.uuid)}, title=_title(account), also=progress
    )
    if job.status != JobStatus.DONE:
        raise sync.SyncError(job.message or job.status)
    return job


def queue_sync(account: MailAccount, *, user=None) -> Job | None:
    """Queue a sync of ``account`` now (the "Sync now" button, IMAP IDLE's wake-up) unless one
    is already waiting to start; a running one may have passed the new mail already, so it does
    not count. Returns the job, or None when one was already queued."""
    waiting = Job.objects.filter(kind=KIND, status=JobStatus.QUEUED, params__account=str(account.uuid))
    if waiting.exists():
        return None
    return job_services.enqueue(
        sync_job, params={"account": str(account.uuid)}, title=_title(account), user=user
    )


def latest_sync(account: MailAccount) -> Job | None:
    return (
        Job.objects.filter(kind=KIND, params__account=str(account.uuid))
        .order_by("-created_at", "-id")
        .first()
    )


def active_syncs() -> dict[str, Job]:
    """The queued or running sync of each account ({account uuid: job}), in one query."""
    return {
        str((job.params or {}).get("account")): job
        for job in Job.objects.filter(kind=KIND, status__in=ACTIVE).order_by("created_at", "id")
    }
