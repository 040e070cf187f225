"""Sync from a real Dovecot: what is stored, what never is, and that nothing is ever duplicated."""

import logging

import pytest

from solocrm.contacts.choices import InteractionKind
from solocrm.contacts.models import Contact, Interaction
from solocrm.mail import imap, sync
from solocrm.mail.models import (
    Direction,
    MailAttachment,
    MailFolderState,
    MailMessage,
    MailMessageCopy,
    MailThread,
)

from .factory import message

pytestmark = pytest.mark.django_db(transaction=True)


def test_known_sender_is_stored_with_a_timeline_entry_and_unknown_is_not(account, dovecot, ada):
    dovecot.append(
        message(subject="Order question", text="Where is my order?", message_id="<q1@customer.test>")
    )
    dovecot.append(message(sender="Mum <mum@family.test>", subject="Sunday lunch", text="Private!"))
    report = sync.sync_account(account)
    assert (report.seen, report.stored, report.skipped) == (2, 1, 1)
    stored = MailMessage.objects.get()
    assert stored.message_id == "q1@customer.test"
    assert stored.contact == ada and stored.direction == Direction.IN
    assert stored.text.strip() == "Where is my order?"
    assert not MailMessage.objects.filter(subject__icontains="lunch").exists()
    assert not Interaction.objects.filter(body__icontains="Private").exists()
    entry = Interaction.objects.get(contact=ada, kind=InteractionKind.EMAIL_IN)
    assert entry.subject == "Order question" and stored.interaction == entry
    account.refresh_from_db()
    assert account.last_sync_at and account.last_error == ""


def test_rerun_is_a_no_op_and_mail_is_never_marked_read(account, dovecot, ada):
    dovecot.append(message())
    sync.sync_account(account)
    again = sync.sync_account(account)
    assert (again.seen, again.stored) == (0, 0)
    assert MailMessage.objects.count() == 1 and Interaction.objects.filter(contact=ada).count() == 1
    conn = dovecot.client()
    conn.select("INBOX", readonly=True)
    _typ, data = conn.search(None, "UNSEEN")
    assert data[0].split() == [b"1"]
    conn.logout()


def test_default_folders_are_inbox_and_the_special_use_sent_folder(account, dovecot):
    conn = imap.connect(account)
    try:
        assert imap.default_folders(conn) == ["INBOX", "Sent"]
    finally:
        imap.close(conn)


def test_sent_mail_to_a_contact_is_outgoing_and_stops_speed_to_lead(account, dovecot, ada):
    from datetime import timedelta

    from django.utils import timezone

    from solocrm.sales.leadforms.services import with_response_times

    later = timezone.now() + timedelta(minutes=1)
    reply = message(sender="Owner <owner@example.com>", to="Ada <ada@customer.test>", date=later)
    dovecot.append(reply, folder="Sent")
    sync.sync_account(account)
    stored = MailMessage.objects.get()
    assert stored.direction == Direction.OUT and stored.contact == ada
    assert Interaction.objects.filter(contact=ada, kind=InteractionKind.EMAIL_OUT).count() == 1
    assert with_response_times(
        Contact.objects.filter(pk=ada.pk)
    ).get().first_response_at == stored.date.replace(microsecond=0)


def test_the_same_message_in_two_folders_and_two_accounts_is_stored_once(account, dovecot, ada):
    raw = message(message_id="<same@customer.test>")
    dovecot.append(raw)
    dovecot.append(raw, folder="Archive")
    account.folders = ["INBOX", "Archive"]
    account.save()
    second = type(account).objects.get(pk=account.pk)
    second.pk, second.uuid, second.name = None, None, "Second"
    from solocrm.lib.ids import uuid7

    second.uuid = uuid7()
    second.save()
    first = sync.sync_account(account)
    assert (first.stored, first.copies) == (1, 1)
    other = sync.sync_account(second)
    assert (other.stored, other.copies) == (0, 2)
    assert MailMessage.objects.count() == 1
    assert MailMessageCopy.objects.count() == 4
    assert Interaction.objects.filter(contact=ada).count() == 1


def test_messages_without_message_id_get_a_stable_key(account, dovecot, ada):
    raw = message(message_id=None, subject="No id")
    dovecot.append(raw)
    dovecot.append(raw, folder="Archive")
    account.folders = ["INBOX", "Archive"]
    account.save()
    sync.sync_account(account)
    stored = MailMessage.objects.get()
    assert stored.message_key.startswith("h:") and stored.copies.count() == 2


def test_stopped_after_a_batch_then_restarted_stores_each_message_once(account, dovecot, ada, monkeypatch):
    monkeypatch.setattr(sync, "HEADER_BATCH", 3)
    dovecot.append_many([message(subject=f"Message {n}") for n in range(7)])
    partial = sync.sync_account(account, stop_after_batches=1)
    assert partial.stored == 3
    assert MailFolderState.objects.get(folder="INBOX").last_uid == 3
    rest = sync.sync_account(account)
    assert rest.stored == 4
    assert MailMessage.objects.count() == 7 and Interaction.objects.filter(contact=ada).count() == 7


def test_a_crash_inside_a_batch_rolls_it_back_and_the_restart_completes(account, dovecot, ada, monkeypatch):
    monkeypatch.setattr(sync, "HEADER_BATCH", 2)
    dovecot.append_many([message(subject=f"Message {n}") for n in range(5)])
    real_store, calls = sync._store_batch, []

    def crash_in_the_second_batch(*args, **kwargs):
        calls.append(1)
        stored = real_store(*args, **kwargs)  # written, not yet committed
        if len(calls) == 2:
            raise KeyboardInterrupt  # as kill -9 would, mid-batch: nothing of the batch is kept
        return stored

    monkeypatch.setattr(sync, "_store_batch", crash_in_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        sync.sync_account(account)
    assert MailMessage.objects.count() == 2
    assert MailFolderState.objects.get(folder="INBOX").last_uid == 2
    monkeypatch.setattr(sync, "_store_batch", real_store)
    sync.sync_account(account)
    assert MailMessage.objects.count() == 5
    assert Interaction.objects.filter(contact=ada, kind=InteractionKind.EMAIL_IN).count() == 5
    assert MailMessageCopy.objects.count() == 5


def test_a_new_uidvalidity_reads_the_folder_again_without_duplicates(account, dovecot, ada):
    dovecot.append_many([message(subject="One"), message(subject="Two", message_id=None)])
    sync.sync_account(account)
    before = MailFolderState.objects.get(folder="INBOX").uidvalidity
    dovecot.renumber("INBOX")
    report = sync.sync_account(account)
    assert report.resynced_folders == ["INBOX"] and report.stored == 0 and report.copies == 2
    state = MailFolderState.objects.get(folder="INBOX")
    assert state.uidvalidity != before
    assert MailMessage.objects.count() == 2
    assert set(MailMessageCopy.objects.values_list("uidvalidity", flat=True)) == {state.uidvalidity}
    assert Interaction.objects.filter(contact=ada).count() == 2


def test_threading_by_references_then_by_subject_and_people(account, dovecot, ada, bob):
    dovecot.append(message(subject="Quote", message_id="<a@customer.test>"))
    dovecot.append(
        message(
            sender="owner@example.com",
            to="ada@customer.test",
            subject="Re: Quote",
            message_id="<b@example.com>",
            in_reply_to="<a@customer.test>",
            references="<a@customer.test>",
        ),
        folder="Sent",
    )
    # no In-Reply-To (a broken client): joined by subject and people
    dovecot.append(message(subject="RE: quote", message_id="<c@customer.test>"))
    dovecot.append(message(sender="bob@client.test", subject="Quote", message_id="<d@client.test>"))
    sync.sync_account(account)
    ids = ["a@customer.test", "b@example.com", "c@customer.test", "d@client.test"]
    a, b, c, d = (MailMessage.objects.get(message_id=i) for i in ids)
    assert a.thread == b.thread == c.thread
    assert d.thread != a.thread
    assert MailThread.objects.count() == 2


def test_support_mailbox_creates_contacts_for_new_senders_but_not_for_robots(account, dovecot):
    account.is_support = True
    account.save()
    dovecot.append(message(sender="Carla Diaz <carla@newcustomer.test>", subject="Help please"))
    dovecot.append(message(sender="noreply@shop.test", subject="Your receipt"))
    dovecot.append(message(sender="news@shop.test", headers={"List-Id": "<news.shop.test>"}))
    report = sync.sync_account(account)
    assert (report.stored, report.contacts_created, report.skipped) == (1, 1, 2)
    carla = Contact.objects.get(email="carla@newcustomer.test")
    assert (carla.first_name, carla.last_name) == ("Carla", "Diaz")
    assert MailMessage.objects.get().contact == carla
    assert Interaction.objects.filter(contact=carla, kind=InteractionKind.EMAIL_IN).count() == 1


def test_a_lost_connection_is_retried_with_back_off(account, dovecot, ada, monkeypatch):
    dovecot.append(message())
    real_connect, waits = imap.connect, []

    def flaky(acc, **kwargs):
        if len(waits) < 2:
            raise ConnectionResetError("network down")
        return real_connect(acc, **kwargs)

    monkeypatch.setattr(imap, "connect", flaky)
    report = sync.sync_account(account, sleep=waits.append)
    assert waits == [sync.BACKOFF, sync.BACKOFF * 2] and report.stored == 1


def test_retries_are_bounded_and_the_error_is_recorded(account, monkeypatch):
    def down(acc, **kwargs):
        raise ConnectionRefusedError("refused")

    monkeypatch.setattr(imap, "connect", down)
    waits = []
    with pytest.raises(sync.SyncError):
        sync.sync_account(account, sleep=waits.append)
    assert len(waits) == sync.RETRIES
    account.refresh_from_db()
    assert "refused" in account.last_error


def test_a_missing_folder_is_reported_and_the_others_are_read(account, dovecot, ada):
    dovecot.append(message())
    account.folders = ["Nope", "INBOX"]
    account.save()
    report = sync.sync_account(account)
    assert report.stored == 1 and report.folder_errors and report.folder_errors[0].startswith("Nope:")
    account.refresh_from_db()
    assert account.last_error.startswith("Nope:")
    assert MailFolderState.objects.get(folder="Nope").last_error


def test_a_wrong_password_is_an_error_for_the_owner_not_retried(account, monkeypatch):
    account.imap_password = "wrong"
    account.save()
    waits = []
    with pytest.raises(sync.SyncError, match="login failed"):
        sync.sync_account(account, sleep=waits.append)
    assert waits == []


# --- hostile mail --------------------------------------------------------------------------------


def test_hostile_html_is_sanitised_and_remote_images_blocked(account, dovecot, ada):
    html = (
        '<p onclick="steal()">Hi<script>alert(1)</script></p>'
        '<a href="javascript:alert(2)">click</a><img src="https://tracker.test/p.gif" onerror="x()">'
        '<iframe src="https://evil.test"></iframe><style>body{}</style>'
    )
    dovecot.append(message(html=html))
    sync.sync_account(account)
    stored = MailMessage.objects.get()
    lowered = stored.html.lower()
    for bad in ("<script", "onclick", "onerror", "javascript:", "<iframe", "<style", ' src="https'):
        assert bad not in lowered
    assert 'data-remote-src="https://tracker.test/p.gif"' in stored.html
    assert stored.has_remote_images


def test_an_attachment_over_the_limit_is_refused_with_a_log_line_and_the_message_kept(
    account, dovecot, ada, settings, caplog
):
    settings.SOLOCRM_MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
    big = b"\0" * (30 * 1024 * 1024)
    dovecot.append(
        message(
            subject="Big files",
            attachments=[
                ("huge.bin", "application/octet-stream", big),
                ("small.pdf", "application/pdf", b"%PDF-1.4"),
            ],
        )
    )
    with caplog.at_level(logging.WARNING, logger="solocrm.mail.sync"):
        report = sync.sync_account(account)
    assert report.attachments_refused == 1
    assert "huge.bin" in caplog.text and "over the" in caplog.text
    stored = MailMessage.objects.get()
    assert stored.subject == "Big files"
    small = MailAttachment.objects.get(message=stored)
    assert (small.filename, small.size) == ("small.pdf", 8)
    assert sync.attachment_path(small).read_bytes() == b"%PDF-1.4"


def test_a_malformed_mime_tree_is_stored_with_what_can_be_read(account, dovecot, ada):
    raw = (
        b"From: ada@customer.test\r\nTo: owner@example.com\r\nSubject: broken\r\n"
        b"Message-ID: <broken@customer.test>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
        b"--outer\r\nContent-Type: text/plain; charset=no-such-charset\r\n\r\nreadable text\r\n"
        b'--outer\r\nContent-Type: multipart/alternative; boundary="never-closed"\r\n\r\n'
        b"--never-closed\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"!!!not base64!!!\r\n"
        b"--outer\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%\r\n"
    )
    dovecot.append(raw)
    sync.sync_account(account)
    stored = MailMessage.objects.get()
    assert stored.subject == "broken" and "readable text" in stored.text


def test_a_header_injection_subject_loses_its_line_breaks(account, dovecot, ada):
    raw = message(subject="PLACEHOLDER").replace(
        b"PLACEHOLDER", b"=?utf-8?q?Hello=0D=0ABcc:_victim@evil.test?="
    )
    dovecot.append(raw)
    sync.sync_account(account)
    stored = MailMessage.objects.get()
    assert "\r" not in stored.subject and "\n" not in stored.subject
    assert stored.subject == "Hello Bcc: victim@evil.test"
    assert "\n" not in Interaction.objects.get(contact=ada).subject


def test_a_forged_from_of_a_known_contact_is_stored_and_flagged(account, dovecot, ada):
    dovecot.append(
        message(
            subject="Urgent: new bank details",
            headers={
                "Authentication-Results": "mx.example.com; spf=fail smtp.mailfrom=evil.test; dmarc=fail"
            },
        )
    )
    dovecot.append(
        message(
            subject="Genuine",
            headers={
                "Authentication-Results": "mx.example.com; dkim=pass; dmarc=pass header.from=customer.test"
            },
        )
    )
    sync.sync_account(account)
    assert MailMessage.objects.get(subject__startswith="Urgent").auth_failed
    assert not MailMessage.objects.get(subject="Genuine").auth_failed
    assert Interaction.objects.get(subject__startswith="Urgent").data["auth_failed"] is True


def test_a_reply_in_a_later_sync_joins_the_thread_and_moves_its_last_message(account, dovecot, ada):
    from datetime import UTC, datetime

    dovecot.append(
        message(subject="Plans", message_id="<p1@customer.test>", date=datetime(2026, 11, 1, tzinfo=UTC))
    )
    sync.sync_account(account)
    later = datetime(2026, 11, 20, tzinfo=UTC)
    dovecot.append(
        message(
            subject="Re: Plans", message_id="<p2@customer.test>", in_reply_to="<p1@customer.test>", date=later
        )
    )
    sync.sync_account(account)
    thread = MailThread.objects.get()
    assert thread.messages.count() == 2 and thread.last_message_at == later
