"""Raw RFC 5322 messages for the tests and the benchmark."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


def message(
    *,
    sender: str = "Ada Lovelace <ada@customer.test>",
    to: str = "owner@example.com",
    cc: str = "",
    subject: str = "Hello",
    text: str = "Hi there",
    html: str = "",
    message_id: str | None = "",
    in_reply_to: str = "",
    references: str = "",
    date: datetime | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime(2026, 11, 2, 9, 30, tzinfo=UTC))
    if message_id is not None:
        msg["Message-ID"] = message_id or make_msgid(domain="mail.test")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
