"""The quote's PDF: what it says, Unicode text, and CJK text with and without a CJK font."""

from __future__ import annotations

from pathlib import Path

import pytest

from solocrm.sales.quotes import pdf as quote_pdf
from solocrm.sales.quotes import services as quotes
from solocrm.sales.quotes.tests.quote_helpers import line, pdf_text


@pytest.fixture
def quote(deal):
    return quotes.create_quote(
        deal,
        {"introduction": "Thank you for your enquiry.", "terms": "50 % on order.", "discount_percent": "10"},
        lines=[line("Planting plan", "2", "450.00", tax="20"), line("Zoë’s hedge – €uro box", "1", "12.50")],
    )


def test_the_pdf_names_the_business_the_number_the_lines_and_the_totals(quote, settings):
    settings.SOLOCRM_BUSINESS_NAME = "Green Thumb Studio"
    settings.SOLOCRM_BUSINESS_ADDRESS = "1 High Street\nLondon"
    data = quote_pdf.render_pdf(quote)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    for expected in (
        "Green Thumb Studio",
        "London",
        f"Quote {quote.number}",
        "Ada Lovelace",
        "Garden redesign",
        "Planting plan",
        "Zoë’s hedge – €uro box",
        "Thank you for your enquiry.",
        "50 % on order.",
        "912.50 EUR",  # subtotal 900 + 12.50
        "−91.25 EUR".replace("−", "-"),  # 10 % off
        "162.00 EUR",  # tax: 900 × 0.9 × 20 %
        "983.25 EUR",  # total
    ):
        assert expected in text, expected
    assert f"/Title ({quote.number})".encode() in data or quote.number.encode("utf-16-be") in data


def test_cjk_text_without_a_cjk_font_still_renders(deal, monkeypatch, settings):
    monkeypatch.setattr(quote_pdf, "CJK_CANDIDATES", ())
    settings.SOLOCRM_PDF_FONT = "/nowhere/font.ttf"
    quote_pdf.cjk_font.cache_clear()
    quote = quotes.create_quote(deal, lines=[line("园林设计 Garden design")])
    data = quote_pdf.render_pdf(quote)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "Garden design" in text and "园林设计" not in text  # no font could draw it


def _system_cjk_font() -> Path | None:
    quote_pdf.cjk_font.cache_clear()
    return quote_pdf.cjk_font("")


@pytest.mark.skipif(_system_cjk_font() is None, reason="no CJK font installed (apt install fonts-wqy-zenhei)")
def test_cjk_text_is_drawn_with_a_system_cjk_font(deal, settings):
    settings.SOLOCRM_PDF_FONT = ""
    quote_pdf.cjk_font.cache_clear()
    quote = quotes.create_quote(deal, {"terms": "付款条件：三十天"}, lines=[line("园林设计 Garden design")])
    text = pdf_text(quote_pdf.render_pdf(quote))
    assert "园林设计" in text and "付款条件：三十天" in text and "Garden design" in text


def test_solocrm_pdf_font_is_used_when_it_exists(settings, tmp_path):
    font = tmp_path / "mine.ttf"
    font.write_bytes((quote_pdf.FONT_DIR / "DejaVuSans.ttf").read_bytes())
    quote_pdf.cjk_font.cache_clear()
    assert quote_pdf.cjk_font(str(font)) == font


def test_a_latin_quote_does_not_load_the_cjk_font(quote):
    assert not quote_pdf.needs_cjk(quote)


def test_the_vendored_fonts_and_their_licence_are_in_the_package():
    names = {path.name for path in quote_pdf.FONT_DIR.iterdir()}
    assert {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE-DejaVu.txt"} <= names
