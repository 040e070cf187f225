"""Reading e-mail safely: headers, addresses, bodies, attachments (stdlib ``email``), and the
HTML sanitised by nh3 with remote images blocked.

The parser runs with ``policy.compat32`` and decodes encoded words itself: ``policy.default``
builds a rich object per header and took 15 ms per message here against 0.1 ms, which alone
would have spent the 10,000-message sync budget (docs/decisions.md).

Nothing here trusts the message: header values lose control characters (CR/LF included, so a
subject cannot inject headers anywhere it is reused), a part that cannot be decoded is skipped
with what could be read kept, and HTML keeps only harmless tags and attributes."""

from __future__ import annotations

import email
import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

import nh3

from solocrm.contacts.identity import email_key

logger = logging.getLogger(__name__)

# Fetched first, before deciding whether a message is kept (BODY.PEEK[HEADER.FIELDS (…)]).
HEADER_FIELDS = (
    "FROM",
    "TO",
    "CC",
    "DATE",
    "SUBJECT",
    "MESSAGE-ID",
    "IN-REPLY-TO",
    "REFERENCES",
    "AUTO-SUBMITTED",
    "PRECEDENCE",
    "LIST-ID",
    "AUTHENTICATION-RESULTS",
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_SPACES = re.compile(r"\s+")
_MSGID = re.compile(r"<([^<>\s]+)>")
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs|antw|回复|答复|转发)\s*(?:\[\d+\])?\s*[:：]\s*)+", re.IGNORECASE
)
_DMARC_FAIL = re.compile(r"\bdmarc\s*=\s*fail\b", re.IGNORECASE)
_AUTOMATED_LOCAL = re.compile(r"^(no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounces?)([+.-]|$)", re.I)


def clean_header(value: object, limit: int = 300) -> str:
    """A header value on one line: control characters (CR, LF, NUL…) become spaces."""
    text = _CONTROL.sub(" ", str(value or ""))
    return _SPACES.sub(" ", text).strip()[:limit]


def normalise_message_id(value: str) -> str:
    """``<abc@host>`` → ``abc@host`` (the first id in the value); '' when there is none."""
    value = clean_header(value, 2000)
    found = _MSGID.search(value)
    text = found.group(1) if found else value.strip("<> ")
    return "" if " " in text else text


def message_ids(value: str) -> list[str]:
    """Every ``<id>`` in a References or In-Reply-To value, in order, without repeats."""
    return list(dict.fromkeys(_MSGID.findall(clean_header(value, 20000))))


def subject_key(subject: str) -> str:
    """The subject without Re:/Fwd:/回复: prefixes, case-folded: threads' fallback key."""
    return _SPACES.sub(" ", _REPLY_PREFIX.sub("", subject)).strip().casefold()[:300]


def participants_key(addresses: set[str]) -> str:
    return hashlib.sha256("\n".join(sorted(addresses)).encode()).hexdigest()


def _text(value: object) -> str:
    """A header value with its encoded words (RFC 2047) decoded; undecodable bytes replaced."""
    if value is None:
        return ""
    try:
        chunks = decode_header(value)  # type: ignore[arg-type]
    except Exception:  # a malformed encoded word: keep the raw text
        return str(value)
    out = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            name = charset if charset and charset != "unknown-8bit" else "utf-8"
            try:
                out.append(chunk.decode(name, errors="replace"))
            except LookupError:
                out.append(chunk.decode("utf-8", errors="replace"))
        else:
            out.append(chunk)
    return "".join(out)


def _raw(value: object) -> str:
    """The undecoded text of a header (a Header object for 8-bit values: its decoded text)."""
    return value if isinstance(value, str) else _text(value)


def _header(msg: Message, name: str) -> str:
    return _text(msg.get(name))


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """(name, address key) pairs of an address header, bad entries dropped."""
    raw = [_raw(v) for v in msg.get_all(name, [])]
    pairs = []
    for display, address in getaddresses(raw):
        address = clean_header(address, 254)
        if "@" not in address or " " in address:
            continue
        pairs.append((clean_header(_text(display), 200), email_key(address)))
    return pairs


@dataclass
class Headers:
    """What the first, headers-only fetch tells about a message."""

    message_id: str
    key: str
    from_name: str
    from_address: str
    to: list[str]
    cc: list[str]
    subject: str
    date: datetime
    in_reply_to: str
    references: list[str]
    automated: bool
    auth_failed: bool

    @property
    def addresses(self) -> set[str]:
        return {a for a in [self.from_address, *self.to, *self.cc] if a}


def parse_headers(raw: bytes, fallback_date: datetime | None = None) -> Headers:
    msg = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
    senders = _addresses(msg, "From")
    from_name, from_address = senders[0] if senders else ("", "")
    to = list(dict.fromkeys(a for _n, a in _addresses(msg, "To")))
    cc = list(dict.fromkeys(a for _n, a in _addresses(msg, "Cc")))
    subject = clean_header(_header(msg, "Subject"))
    try:
        date = parsedate_to_datetime(clean_header(_header(msg, "Date")))
        if date.tzinfo is None:
            date = date.replace(tzinfo=UTC)
    except (TypeError, ValueError, IndexError):
        date = fallback_date or datetime.now(UTC)
    message_id = normalise_message_id(_header(msg, "Message-ID"))
    if message_id and len(message_id) <= 250:
        key = "m:" + message_id
    else:  # no (usable) Message-ID: the same message gives the same key in every folder
        basis = "\n".join(
            [from_address, ",".join(to), ",".join(cc), _header(msg, "Date"), subject, message_id]
        )
        key = "h:" + hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()
    auto = clean_header(_header(msg, "Auto-Submitted")).lower()
    precedence = clean_header(_header(msg, "Precedence")).lower()
    local = from_address.partition("@")[0]
    automated = (
        (auto not in {"", "no"})
        or precedence in {"bulk", "list", "junk"}
        or bool(_header(msg, "List-Id"))
        or bool(_AUTOMATED_LOCAL.match(local))
    )
    results = " ".join(_text(v) for v in msg.get_all("Authentication-Results", []))
    return Headers(
        message_id=message_id[:998],
        key=key,
        from_name=from_name,
        from_address=from_address,
        to=to,
        cc=cc,
        subject=subject,
        date=date,
        in_reply_to=normalise_message_id(_header(msg, "In-Reply-To"))[:998],
        references=message_ids(_header(msg, "References")),
        automated=automated,
        auth_failed=bool(_DMARC_FAIL.search(results)),
    )


# --- bodies -----------------------------------------------------------------------------------


@dataclass
class Part:
    filename: str
    content_type: str
    data: bytes
    inline: bool


@dataclass
class Body:
    text: str = ""
    html: str = ""
    has_remote_images: bool = False
    attachments: list[Part] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _decode(part: Message) -> str:
    data = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return data.decode("utf-8", errors="replace")


def parse_body(raw: bytes) -> Body:
    """Text, sanitised HTML and attachments of a whole message; never raises on bad MIME."""
    body = Body()
    try:
        msg = email.message_from_bytes(raw, policy=policy.compat32)
        parts = list(msg.walk())
    except Exception as error:  # the parser itself failed: keep nothing of the body
        body.problems.append(f"unreadable MIME: {error}")
        return body
    texts: list[str] = []
    htmls: list[str] = []
    for part in parts:
        try:
            if part.is_multipart():
                continue
            content_type = part.get_content_type()
            disposition = (part.get_content_disposition() or "").lower()
            filename = part.get_filename()
            if disposition == "attachment" or filename or not content_type.startswith("text/"):
                data = part.get_payload(decode=True) or b""
                if not data and content_type == "message/rfc822":
                    data = part.as_bytes()
                body.attachments.append(
                    Part(
                        clean_header(_text(filename), 255), content_type[:100], data, disposition == "inline"
                    )
                )
            elif content_type == "text/html":
                htmls.append(_decode(part))
            else:
                texts.append(_decode(part))
        except Exception as error:  # one broken part: keep the others
            body.problems.append(f"unreadable part: {error}")
    body.text = "\n\n".join(t.strip("\r\n") for t in texts).replace("\x00", "")
    if htmls:
        body.html, body.has_remote_images = sanitise_html("\n".join(htmls))
    return body


# --- HTML -------------------------------------------------------------------------------------

_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_REMOTE_SRC = re.compile(r'\ssrc="((?:https?:)?//[^"]*)"', re.IGNORECASE)
URL_SCHEMES = {"http", "https", "mailto", "cid"}


def _block_remote(match: re.Match) -> str:
    return _REMOTE_SRC.sub(lambda m: f' data-remote-src="{m.group(1)}"', match.group(0))


def sanitise_html(html: str) -> tuple[str, bool]:
    """(safe HTML, has remote images). nh3 keeps only harmless tags and attributes (no script,
    no style, no on* handlers, no javascript: URLs); then every remote image's ``src`` becomes
    ``data-remote-src`` so nothing is fetched (no tracking pixels) until the reader asks."""
    cleaned = nh3.clean(html.replace("\x00", ""), url_schemes=URL_SCHEMES, strip_comments=True)
    blocked = _IMG.sub(_block_remote, cleaned)
    return blocked, blocked != cleaned
