"""The quote's PDF: what it says, Unicode text, and CJK text with and without a CJK font."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import translation

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


@pytest.fixture
def no_system_font(monkeypatch, settings):
    """A machine with no CJK font installed and a SOLOCRM_PDF_FONT that points nowhere."""
    monkeypatch.setattr(quote_pdf, "CJK_CANDIDATES", ())
    settings.SOLOCRM_PDF_FONT = "/nowhere/font.ttf"
    quote_pdf.system_cjk_font.cache_clear()
    quote_pdf.configured_font.cache_clear()
    yield
    quote_pdf.system_cjk_font.cache_clear()


def test_chinese_is_drawn_with_the_shipped_font_when_no_cjk_font_is_installed(deal, no_system_font):
    deal.contact.first_name, deal.contact.last_name = "伟", "张"
    deal.contact.save()
    quote = quotes.create_quote(
        deal,
        {"introduction": "感谢您的询价。", "terms": "付款条件：三十天内付清"},
        lines=[
            line("园林设计 Garden design"),
            {**line("草坪养护"), "description": "每月两次，含肥料（有机）"},
        ],
    )
    data = quote_pdf.render_pdf(quote)
    text = "".join(pdf_text(data).split())  # each change of font starts a new text run
    for expected in (
        "园林设计Gardendesign",
        "草坪养护",
        "每月两次，含肥料（有机）",
        "付款条件：三十天内付清",
        "感谢您的询价。",
    ):
        assert "".join(expected.split()) in text, expected
    assert "张伟" in text
    assert b"NotoSansCJK" in data or b"Noto" in data  # the shipped subset is embedded
    assert "\ufffd" not in text


def test_a_character_outside_every_font_is_replaced_visibly_not_dropped(deal, no_system_font, caplog):
    # Hangul and a CJK Extension B ideograph are not in the GB 2312 subset.
    quote = quotes.create_quote(deal, lines=[line("设计 한 𠀀 end")])
    text = "".join(pdf_text(quote_pdf.render_pdf(quote)).split())
    assert "设计\ufffd\ufffdend" in text
    assert "U+D55C" in caplog.text and "U+20000" in caplog.text


def test_a_latin_quote_made_in_chinese_draws_its_chinese_labels(quote, no_system_font):
    with translation.override("zh-hans"):
        text = "".join(pdf_text(quote_pdf.render_pdf(quote)).split())
    assert "小计" in text and "总额" in text and "Plantingplan" in text
    # the Latin value after a Chinese label keeps its font (an fpdf2 bug worked around in QuotePDF)
    assert "致AdaLovelace" in text and "公司AnalyticalEngines" in text and "983.25EUR" in text
    assert "\ufffd" not in text


def test_the_shipped_subset_covers_the_common_hanzi():
    covered = quote_pdf.coverage(quote_pdf.CJK_SUBSET)
    gb2312 = set()
    for high in range(0xB0, 0xF8):  # the Hanzi rows of GB 2312
        for low in range(0xA1, 0xFF):
            try:
                gb2312.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    assert len(gb2312) == 6763
    assert gb2312 <= covered
    assert {ord(char) for char in "，。：；！？（）《》、“”￥"} <= covered


def _system_cjk_font() -> Path | None:
    quote_pdf.system_cjk_font.cache_clear()
    return quote_pdf.system_cjk_font()


@pytest.mark.skipif(_system_cjk_font() is None, reason="no CJK font installed (apt install fonts-wqy-zenhei)")
def test_a_rare_character_is_drawn_with_a_system_cjk_font(deal, settings):
    settings.SOLOCRM_PDF_FONT = ""
    quote_pdf.system_cjk_font.cache_clear()
    font = quote_pdf.system_cjk_font()
    rare = next(char for char in "한䶮𠀀" if ord(char) in quote_pdf.coverage(font))
    quote = quotes.create_quote(deal, {"terms": "付款条件：三十天"}, lines=[line(f"园林设计 {rare}")])
    text = "".join(pdf_text(quote_pdf.render_pdf(quote)).split())
    assert f"园林设计{rare}" in text and "付款条件：三十天" in text


def test_solocrm_pdf_font_is_used_when_it_exists(deal, settings, tmp_path):
    font = tmp_path / "mine.ttf"
    font.write_bytes((quote_pdf.FONT_DIR / "DejaVuSans.ttf").read_bytes())
    quote_pdf.configured_font.cache_clear()
    assert quote_pdf.configured_font(str(font)) == font
    settings.SOLOCRM_PDF_FONT = str(font)
    quote = quotes.create_quote(deal, lines=[line("园林设计")])
    pdf = quote_pdf.QuotePDF(quote)
    files = [Path(pdf.fonts[key].ttffile) for key in pdf._fallback_font_ids if not key.endswith("B")]
    assert files[:2] == [font, quote_pdf.CJK_SUBSET]  # the configured font first, then the shipped one
    quote_pdf.configured_font.cache_clear()


def test_a_latin_quote_does_not_load_the_cjk_font(quote):
    assert not quote_pdf.needs_cjk(quote)


def test_the_vendored_fonts_and_their_licence_are_in_the_package():
    names = {path.name for path in quote_pdf.FONT_DIR.iterdir()}
    assert {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE-DejaVu.txt"} <= names
    assert {"NotoSansSC-Subset.otf", "LICENSE-NotoSansCJK.txt"} <= names


def test_a_line_with_a_description_longer_than_a_page_still_renders_every_word(deal):
    """fpdf2 cannot split one table row over two pages: a 5,000-character description used to
    raise (a 500 on the web, 422 in the API) so the quote could never be sent."""
    words = [f"word{n}" for n in range(900)]
    quote = quotes.create_quote(
        deal,
        {},
        lines=[{**line("Long brief", "1", "10.00"), "description": " ".join(words)}, line("Short", "1", "1")],
    )
    data = quote_pdf.render_pdf(quote)
    text = pdf_text(data)
    assert "Long brief" in text and "Short" in text
    assert "word0" in text and "word899" in text and "word450" in text


def test_a_description_without_spaces_is_split_too(deal):
    blob = "x" * 6000
    quote = quotes.create_quote(deal, {}, lines=[{**line("Blob", "1", "10.00"), "description": blob}])
    text = pdf_text(quote_pdf.render_pdf(quote)).replace("\n", "")
    assert text.count("x") >= 6000
