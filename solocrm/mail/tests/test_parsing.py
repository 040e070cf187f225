"""Reading hostile and odd messages without a server."""

import pytest

from solocrm.mail import parsing

from .factory import message


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script><p>x</p>",
        '<p onmouseover="alert(1)">x</p>',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt&#58;alert(1)">x</a>',
        '<img src=x onerror="alert(1)">',
        "<svg><script>alert(1)</script></svg>",
        '<iframe src="javascript:alert(1)"></iframe>',
        '<form action="https://evil.test"><input name=p></form>',
        '<div style="background:url(javascript:alert(1))">x</div>',
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext>",
        '<object data="javascript:alert(1)"></object><embed src="x.swf">',
    ],
)
def test_no_script_survives_sanitising(html):
    cleaned, _remote = parsing.sanitise_html(html)
    lowered = cleaned.lower()
    for bad in (
        "<script",
        "javascript:",
        "onerror",
        "onmouseover",
        "<iframe",
        "<form",
        "style=",
        "<object",
        "<embed",
    ):
        assert bad not in lowered, cleaned


def test_remote_images_are_blocked_and_inline_ones_kept():
    cleaned, remote = parsing.sanitise_html(
        '<img src="https://t.test/pixel.gif" alt="p"><img src="//cdn.test/a.png"><img src="cid:logo@x">'
    )
    assert remote
    assert 'data-remote-src="https://t.test/pixel.gif"' in cleaned
    assert 'data-remote-src="//cdn.test/a.png"' in cleaned
    assert 'src="cid:logo@x"' in cleaned
    assert ' src="http' not in cleaned and ' src="//' not in cleaned
    assert parsing.sanitise_html("<p>plain</p>") == ("<p>plain</p>", False)


def test_a_message_id_is_normalised_and_a_missing_one_gets_a_stable_header_key():
    headers = parsing.parse_headers(message(message_id=" <Abc.1@Host.test> "))
    assert headers.message_id == "Abc.1@Host.test" and headers.key == "m:Abc.1@Host.test"
    raw = message(message_id=None, subject="same")
    assert parsing.parse_headers(raw).key == parsing.parse_headers(raw).key
    assert parsing.parse_headers(raw).key.startswith("h:")
    assert (
        parsing.parse_headers(raw).key != parsing.parse_headers(message(message_id=None, subject="other")).key
    )


def test_addresses_are_compared_by_their_identity_key():
    headers = parsing.parse_headers(
        message(
            sender="Ada <ADA@Customer.TEST>",
            to="a@x.test, Bad Entry <not-an-address>",
            cc="c@xn--bcher-kva.de",
        )
    )
    assert headers.from_address == "ada@customer.test"
    assert headers.to == ["a@x.test"]
    assert headers.cc == ["c@bücher.de"]


@pytest.mark.parametrize(
    ("subject", "key"),
    [
        ("Re: Re: Quote", "quote"),
        ("FW: Quote", "quote"),
        ("回复：Quote", "quote"),
        ("AW: [2] quote", "[2] quote"),
    ],
)
def test_reply_prefixes_are_ignored_in_the_subject_key(subject, key):
    assert parsing.subject_key(subject) == key


def test_robots_are_recognised():
    assert parsing.parse_headers(message(sender="no-reply@shop.test")).automated
    assert parsing.parse_headers(message(headers={"Auto-Submitted": "auto-replied"})).automated
    assert parsing.parse_headers(message(headers={"Precedence": "bulk"})).automated
    assert not parsing.parse_headers(message(headers={"Auto-Submitted": "no"})).automated


def test_an_unparseable_date_falls_back():
    raw = message().replace(b"Date: Mon, 02 Nov 2026 09:30:00 +0000", b"Date: yesterday-ish")
    assert parsing.parse_headers(raw).date.year >= 2026


def test_a_truncated_message_keeps_what_can_be_read():
    raw = message(html="<p>hello</p>", attachments=[("a.txt", "text/plain", b"abc")])
    body = parsing.parse_body(raw[: raw.index(b"Content-Type: text/html") + 30])  # cut mid-part
    assert "Hi there" in body.text
