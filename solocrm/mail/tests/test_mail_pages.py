"""The Mail pages: conversations list (filters, query count), a conversation (sandboxed HTML,
remote images on request), attachment downloads, the timeline link; roles."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from solocrm.mail import sync
from solocrm.mail.models import MailAttachment, MailMessage, MailThread

from .factory import message

pytestmark = pytest.mark.django_db(transaction=True)

INBOX = reverse("mail:inbox")


@pytest.fixture
def synced(account, dovecot, ada, bob):
    dovecot.append(
        message(
            subject="Quote",
            message_id="<q@customer.test>",
            html='<p>Hello<script>alert(1)</script><img src="https://tracker.test/p.gif"></p>',
            attachments=[("offer.html", "text/html", b"<script>alert(1)</script>")],
        )
    )
    dovecot.append(
        message(
            sender="owner@example.com",
            to="ada@customer.test",
            subject="Re: Quote",
            in_reply_to="<q@customer.test>",
        ),
        folder="Sent",
    )
    for n in range(5):
        dovecot.append(message(sender="bob@client.test", subject=f"Bob {n}"))
    sync.sync_account(account)
    return MailThread.objects.get(subject="Quote")


def test_strangers_get_nothing_and_viewers_read(client, viewer, synced):
    thread_url = reverse("mail:thread", args=[synced.uuid])
    attachment = MailAttachment.objects.get()
    urls = [INBOX, thread_url, reverse("mail:attachment", args=[attachment.uuid])]
    for url in urls:
        assert client.get(url).status_code == 302
    client.force_login(viewer)
    for url in urls:
        assert client.get(url).status_code == 200


def test_the_list_shows_conversations_with_their_latest_message_in_few_queries(viewer_client, synced, ada):
    viewer_client.get(INBOX)  # the session and the user are read once per request; warm caches
    with CaptureQueriesContext(connection) as one:
        viewer_client.get(INBOX, {"q": "bob 3"})  # one conversation
    with CaptureQueriesContext(connection) as queries:
        page = viewer_client.get(INBOX)
    text = page.content.decode()
    assert page.status_code == 200 and "6 conversations" in text
    assert "You:" in text  # the Quote thread's latest is ours
    assert len(queries) == len(one) <= 9, [q["sql"] for q in queries]


def test_filters_by_account_direction_contact_and_words(viewer_client, synced, account, ada):
    assert "1 conversation" in viewer_client.get(INBOX, {"direction": "out"}).content.decode()
    assert "1 conversation" in viewer_client.get(INBOX, {"contact": str(ada.uuid)}).content.decode()
    assert "6 conversations" in viewer_client.get(INBOX, {"account": str(account.uuid)}).content.decode()
    assert "1 conversation" in viewer_client.get(INBOX, {"q": "bob 3"}).content.decode()
    bad = viewer_client.get(INBOX, {"direction": "sideways", "contact": "nope"})
    assert bad.status_code == 200 and "not understood" in bad.content.decode()


def test_a_conversation_is_shown_in_a_sandbox_with_remote_images_blocked(viewer_client, synced):
    url = reverse("mail:thread", args=[synced.uuid])
    page = viewer_client.get(url).content.decode()
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page
    assert "<script" not in page.split("<iframe", 1)[1].split("</iframe>", 1)[0]
    assert "alert(1)" not in page
    assert "data-remote-src=&quot;https://tracker.test/p.gif&quot;" in page
    assert "img-src data: cid:&quot;" in page  # the frame's own policy: no remote image
    assert "Show remote images" in page
    first = MailMessage.objects.get(message_id="q@customer.test")
    shown = viewer_client.get(url, {"images": str(first.uuid)}).content.decode()
    assert "src=&quot;https://tracker.test/p.gif&quot;" in shown and "https: http:" in shown
    assert "Block remote images" in shown
    assert "/compose/" not in page  # no compose page yet: no Reply / Forward links


def test_attachments_download_and_are_never_sniffed(viewer_client, synced):
    attachment = MailAttachment.objects.get()
    response = viewer_client.get(reverse("mail:attachment", args=[attachment.uuid]))
    assert (
        response["Content-Disposition"].startswith("attachment;")
        and "offer.html" in response["Content-Disposition"]
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"
    assert (
        viewer_client.get(
            reverse("mail:attachment", args=["00000000-0000-0000-0000-000000000000"])
        ).status_code
        == 404
    )


def test_the_timeline_links_to_the_conversation(viewer_client, synced, ada):
    first = MailMessage.objects.get(message_id="q@customer.test")
    page = viewer_client.get(reverse("contacts:detail", args=[ada.uuid])).content.decode()
    link = reverse("mail:message", args=[first.uuid])
    assert link in page
    response = viewer_client.get(link)
    assert response.status_code == 302
    assert response["Location"] == reverse("mail:thread", args=[synced.uuid]) + f"#m-{first.uuid}"


def test_an_empty_mailbox_invites_the_owner_to_add_an_account(owner_client):
    page = owner_client.get(INBOX).content.decode()
    assert "No e-mail yet." in page and reverse("mail:account_add") in page


def test_reply_and_forward_link_to_the_compose_page_for_editors_only(
    client, owner, viewer, synced, send_account
):
    first = MailMessage.objects.get(message_id="q@customer.test")
    url = reverse("mail:thread", args=[synced.uuid])
    client.force_login(owner)
    page = client.get(url).content.decode()
    assert f"/mail/compose/?reply_to={first.uuid}" in page and f"/mail/compose/?forward={first.uuid}" in page
    client.force_login(viewer)
    assert "/mail/compose/" not in client.get(url).content.decode()
