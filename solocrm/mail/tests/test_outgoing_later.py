"""Sending later through the mail.send job: sent once when due, never twice (a re-run, a
second worker, a crash mid-send), retried only when the server said "later"; and the copy the
sync finds in the Sent folder is the message already stored, not a second one."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from solocrm.contacts.models import Interaction
from solocrm.jobs import services as job_services
from solocrm.jobs.choices import JobStatus
from solocrm.jobs.models import Job
from solocrm.mail import outgoing, sync
from solocrm.mail.models import MailMessage, MailMessageCopy, SendStatus
from solocrm.mail.outgoing import send_mail


def _run(job: Job) -> Job:
    """What a worker does with a queued job."""
    job.refresh_from_db()
    assert job_services.claim(job, enforce_limit=False) == job_services.CLAIMED
    job.refresh_from_db()
    return job_services.execute(job)


def _later(lead, **kwargs) -> tuple[MailMessage, Job]:
    message = send_mail(
        to=lead,
        subject="Tomorrow",
        body="Hello {{ first_name }}",
        send_at=timezone.now() + timedelta(hours=1),
        **kwargs,
    )  # fmt: skip
    return message, Job.objects.get(kind=outgoing.KIND, params__message=str(message.uuid))


def _due(message: MailMessage) -> None:
    MailMessage.objects.filter(pk=message.pk).update(send_at=timezone.now() - timedelta(seconds=1))


def test_a_scheduled_message_waits_then_goes_once(send_account, smtp_server, lead, owner):
    message, job = _later(lead, user=owner)
    assert message.status == SendStatus.SCHEDULED and smtp_server.messages == []
    assert job.status == JobStatus.QUEUED and job.created_by == owner
    assert not Interaction.objects.filter(contact=lead).exists()
    _due(message)
    assert _run(job).status == JobStatus.DONE
    message.refresh_from_db()
    assert message.status == SendStatus.SENT and len(smtp_server.messages) == 1
    assert Interaction.objects.filter(contact=lead).count() == 1
    again = Job.objects.create(kind=job.kind, handler=job.handler, params=job.params, time_limit=60)
    assert _run(again).result["outcome"] == "skipped"  # a re-run sends nothing
    assert len(smtp_server.messages) == 1 and Interaction.objects.filter(contact=lead).count() == 1


def test_a_job_run_before_its_time_sends_nothing(send_account, smtp_server, lead):
    _message, job = _later(lead)
    assert _run(job).result["outcome"] == "not due" and smtp_server.messages == []


def test_a_message_left_sending_by_a_crash_is_never_sent_again(send_account, smtp_server, lead):
    message, job = _later(lead)
    _due(message)
    # the worker claimed it (committed) and was killed before the server answered
    MailMessage.objects.filter(pk=message.pk).update(status=SendStatus.SENDING, attempts=1)
    assert _run(job).result["outcome"] == "unknown"
    message.refresh_from_db()
    assert message.status == SendStatus.UNKNOWN and "Sent folder" in message.send_error
    assert smtp_server.messages == []
    outgoing.send_again(message)  # the owner checked: it did not go; sent at once (inline jobs)
    message.refresh_from_db()
    assert message.status == SendStatus.SENT and len(smtp_server.messages) == 1


def test_two_runners_of_one_message_send_it_once(send_account, smtp_server, lead):
    message, _job = _later(lead)
    _due(message)
    first = MailMessage.objects.get(pk=message.pk)
    second = MailMessage.objects.get(pk=message.pk)  # read before the first claims it
    assert outgoing.deliver(first) == SendStatus.SENT
    assert outgoing.deliver(second) == "skipped"
    assert len(smtp_server.messages) == 1


def test_a_temporary_refusal_is_retried_later_a_permanent_one_fails(send_account, smtp_server, lead):
    message, job = _later(lead)
    _due(message)
    smtp_server.refuse_with = "451 4.3.0 try again later"
    assert _run(job).result["outcome"] == "retry"
    message.refresh_from_db()
    assert message.status == SendStatus.SCHEDULED and message.send_at > timezone.now()
    assert "try again later" in message.send_error and message.attempts == 1
    assert Job.objects.filter(kind=outgoing.KIND, status=JobStatus.QUEUED).count() == 1
    _due(message)
    smtp_server.refuse_with = "554 5.7.1 no thanks"
    retry = Job.objects.get(kind=outgoing.KIND, status=JobStatus.QUEUED)
    assert _run(retry).status == JobStatus.FAILED
    message.refresh_from_db()
    assert message.status == SendStatus.FAILED and "no thanks" in message.send_error
    assert smtp_server.messages == [] and not Interaction.objects.filter(contact=lead).exists()


def test_a_scheduled_message_can_be_cancelled(send_account, smtp_server, lead):
    message, job = _later(lead)
    outgoing.cancel(message)
    _due(message)
    assert _run(job).result["outcome"] == "skipped" and smtp_server.messages == []


def test_with_a_backend_that_can_wait_the_task_runs_at_the_time(send_account, lead, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    message, job = _later(lead)
    task = DBTaskResult.objects.get(id=job.task_id)
    assert task.run_after == message.send_at


def test_due_messages_without_a_job_are_queued(send_account, smtp_server, lead):
    message, job = _later(lead)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.CANCELLED)  # the job was lost
    _due(message)
    assert outgoing.due_unqueued() == 1  # inline backend: queued and run at once
    message.refresh_from_db()
    assert message.status == SendStatus.SENT and len(smtp_server.messages) == 1


def test_the_copy_in_the_sent_folder_is_not_stored_twice(account, dovecot, smtp_server, ada):
    account.smtp_host, account.smtp_port, account.smtp_security = "127.0.0.1", smtp_server.port, "none"
    account.save()
    message = send_mail(to=ada, subject="Your plan", body="Hello {{ first_name }}", account=account)
    dovecot.append(smtp_server.messages[0][2], folder="Sent")  # as a mail client keeps a copy
    report = sync.sync_account(account)
    assert report.stored == 0 and report.copies == 1
    assert MailMessage.objects.count() == 1
    copy = MailMessageCopy.objects.get()
    assert (copy.message_id, copy.folder) == (message.pk, "Sent")
    assert Interaction.objects.filter(contact=ada).count() == 1


def test_a_time_already_come_goes_through_the_job_at_once(send_account, smtp_server, lead):
    message = send_mail(to=lead, subject="Now", body="x", send_at=timezone.now())
    message.refresh_from_db()  # the inline backend ran the job in this call
    assert message.status == SendStatus.SENT and len(smtp_server.messages) == 1
    assert Job.objects.get(kind=outgoing.KIND).status == JobStatus.DONE
