"""What the quote, product and attachment tests share: a deal with a customer, quotes built
through the services, and reading the text back out of a PDF."""

from __future__ import annotations

import re
import zlib
from decimal import Decimal

import pytest

from solocrm.contacts.models import Company, Contact
from solocrm.sales.deals.models import Deal
from solocrm.sales.deals.services import create_deal
from solocrm.sales.orders.models import Product
from solocrm.sales.quotes import services as quotes


@pytest.fixture
def customer(db) -> Contact:
    company = Company.objects.create(name="Analytical Engines")
    return Contact.objects.create(
        first_name="Ada", last_name="Lovelace", email="ada@example.com", company=company
    )


@pytest.fixture
def deal(customer, owner) -> Deal:
    """An open deal of the owner's (a user must exist, or every page sends to the set-up page)."""
    data = {"title": "Garden redesign", "contact": customer, "currency": "EUR", "amount": Decimal("900")}
    return create_deal(data, actor=owner)


@pytest.fixture
def product(db) -> Product:
    return Product.objects.create(name="Design hour", sku="DH-1", price=Decimal("80.00"), currency="EUR")


def line(name: str = "Work", quantity="1", price="100.00", discount="0", tax="0", product=None) -> dict:
    return {
        "product": product,
        "name": name,
        "quantity": Decimal(quantity),
        "unit_price": Decimal(price),
        "discount_percent": Decimal(discount),
        "tax_rate": Decimal(tax),
    }


def sent_quote(deal: Deal, actor=None, **data):
    """A quote with one line, sent (through the locmem outbox in tests)."""
    quote = quotes.create_quote(
        deal, data, lines=[line("Planting plan", "2", "450.00", tax="20")], actor=actor
    )
    return quotes.send_quote(quote, "ada@example.com", actor=actor, base_url="http://testserver")


_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(match: re.Match) -> bytes:
    """A PDF string escape: \\n, \\b…, an octal \\ddd, or an escaped character (\\( \\) \\\\); glyph ids
    of a CJK font often have such bytes."""
    code = match[1]
    if code[:1].isdigit():
        return bytes((int(code, 8) & 0xFF,))
    return _ESCAPES.get(code, code)


def pdf_text(data: bytes) -> str:
    """The text drawn in a PDF made by fpdf2: the show-text strings of every page, decoded with
    each font's ToUnicode map (fpdf2 writes glyph ids, not characters, for TrueType fonts)."""
    objects = {int(m[1]): m[2] for m in re.finditer(rb"(\d+) 0 obj(.*?)endobj", data, re.S)}

    def stream(body: bytes) -> bytes:
        match = re.search(rb"stream\r?\n(.*)\r?\nendstream", body, re.S)
        raw = match[1] if match else b""
        return zlib.decompress(raw) if b"FlateDecode" in body else raw

    cmaps = {}
    for body in objects.values():
        for name, font_id in re.findall(rb"/(F\d+) (\d+) 0 R", body):
            to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", objects.get(int(font_id), b""))
            if to_unicode:
                cmap = stream(objects[int(to_unicode[1])])
                pairs = re.findall(rb"<([0-9A-Fa-f]{4})> <([0-9A-Fa-f]+)>", cmap)
                cmaps[name] = {int(a, 16): bytes.fromhex(b.decode()).decode("utf-16-be") for a, b in pairs}
    text = []
    for body in objects.values():
        if b"stream" not in body or b"/Length" not in body:
            continue
        content = stream(body)
        font = None
        for token in re.finditer(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", content, re.S):
            if token[1]:
                font = token[1]
            elif font in cmaps:
                raw = re.sub(rb"\\([0-7]{1,3}|.)", _unescape, token[2], flags=re.S)
                codes = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw) - 1, 2)]
                text.append("".join(cmaps[font].get(code, "\ufffd") for code in codes))
    return " ".join(text)
