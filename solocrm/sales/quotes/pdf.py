"""The PDF of a quote, drawn with fpdf2.

fpdf2's built-in fonts cover Latin-1 only, so the PDF uses DejaVu Sans (vendored in
solocrm/sales/quotes/fonts/, Bitstream Vera licence): Latin, Greek, Cyrillic and most symbols.
Chinese, Japanese and Korean text falls back to a CJK font, in this order:

1. the file named by SOLOCRM_PDF_FONT, when set;
2. NotoSansSC-Subset.otf, shipped beside DejaVu (SIL OFL; GB 2312's 6,763 common Hanzi, CJK
   punctuation, kana and full-width forms; made by tools/subset_cjk_font.py), so Chinese never
   vanishes on a machine without a CJK font;
3. for characters neither has (a rare Hanzi, Hangul), the first usual system CJK font that exists.

A character that no font has is drawn as U+FFFD (the replacement character, a visible "?" in a
diamond) and logged, never dropped silently. docs/languages.md has the details."""

from __future__ import annotations

import logging
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

from solocrm.lib import l10n
from solocrm.lib.business import business_settings
from solocrm.sales.quotes.models import Quote
from solocrm.sales.quotes.services import business_name

logger = logging.getLogger(__name__)

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVu"
CJK_FAMILY = "CJK"
CJK_SUBSET = FONT_DIR / "NotoSansSC-Subset.otf"
REPLACEMENT = "\ufffd"
# Checked in order for characters outside the shipped subset (Debian/Ubuntu, Fedora/Arch, macOS,
# Windows).
CJK_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simsun.ttc",
)
GREY = (71, 85, 105)


@lru_cache(maxsize=4)
def configured_font(configured: str) -> Path | None:
    """SOLOCRM_PDF_FONT when it names a file."""
    if configured and Path(configured).is_file():
        return Path(configured)
    if configured:
        logger.warning("SOLOCRM_PDF_FONT=%s does not exist; using the shipped CJK font", configured)
    return None


@lru_cache(maxsize=1)
def system_cjk_font() -> Path | None:
    """The first usual system CJK font that exists, for characters outside the shipped subset."""
    return next((Path(candidate) for candidate in CJK_CANDIDATES if Path(candidate).is_file()), None)


@lru_cache(maxsize=8)
def coverage(path: Path) -> frozenset[int]:
    """The code points a font file draws (the first face of a collection, as fpdf2 uses)."""
    try:
        with TTFont(path, fontNumber=0, lazy=True) as font:
            return frozenset(font.getBestCmap())
    except Exception:  # an unreadable font covers nothing; fpdf2 would refuse it anyway
        logger.exception("cannot read the character map of %s", path)
        return frozenset()


def _texts(quote: Quote):
    yield from (business_name(), business_settings().business_address, quote.number)
    yield from (quote.introduction, quote.terms, quote.deal.title, str(quote.contact or ""))
    yield str(quote.deal.company or "")
    for line in quote.lines.all():
        yield line.name
        yield line.description


def needs_cjk(quote: Quote) -> bool:
    """Whether the quote holds CJK text (U+2E80 on: radicals, kana, ideographs, hangul,
    full-width forms); only such quotes embed a CJK font."""
    return any(ord(char) >= 0x2E80 for text in _texts(quote) for char in text)


def _needs_no_glyph(char: str) -> bool:
    return char.isspace() or ord(char) < 0x20


class QuotePDF(FPDF):
    def __init__(self, quote: Quote) -> None:
        super().__init__(format="A4")
        self.quote = quote
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(True, margin=20)
        self.add_font(FAMILY, "", FONT_DIR / "DejaVuSans.ttf")
        self.add_font(FAMILY, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
        self.covered = set(coverage(FONT_DIR / "DejaVuSans.ttf"))
        self.missing: set[str] = set()
        # The labels are Chinese too when the PDF is made in Chinese, whatever the quote says.
        if needs_cjk(quote) or (get_language() or "").startswith(("zh", "ja", "ko")):
            self._add_cjk_fonts(quote)
        self.set_title(quote.number)
        self.set_creator("solocrm")
        self.set_author(business_name())

    def _add_cjk_fonts(self, quote: Quote) -> None:
        chars = {char for text in _texts(quote) for char in text if not _needs_no_glyph(char)}
        configured = configured_font(getattr(settings, "SOLOCRM_PDF_FONT", "") or "")
        candidates = [configured, CJK_SUBSET]
        if chars - self.covered - (coverage(configured) if configured else set()) - coverage(CJK_SUBSET):
            candidates.append(system_cjk_font())  # a system font is large: only when it is needed
        families = []
        for index, path in enumerate(dict.fromkeys(p for p in candidates if p is not None)):
            family = f"{CJK_FAMILY}{index}"
            try:
                self.add_font(family, "", path)
                self.add_font(family, "B", path)
            except Exception:  # a font fpdf2 cannot read must not cost the customer their PDF
                logger.exception("cannot use %s as a CJK font of the PDF", path)
                continue
            families.append(family)
            self.covered |= coverage(path)
        if families:
            self.set_fallback_fonts(families, exact_match=False)

    def _render_styled_text_line(self, *args, **kwargs):
        # fpdf2 2.8.9: a line that starts with a fallback (CJK) character sets the main font
        # inside a q…Q block and then believes the page still has it, so the next line of Latin
        # text is drawn with no font set (garbled or blank: "致 Ada Lovelace" lost its name).
        # Forgetting that the font is set makes fpdf2 set it again before the next line.
        try:
            return super()._render_styled_text_line(*args, **kwargs)
        finally:
            self.current_font_is_set_on_page = False

    def normalize_text(self, text: str) -> str:
        """Every character no font draws becomes U+FFFD: visible, never silently dropped."""
        if any(not _needs_no_glyph(char) and ord(char) not in self.covered for char in text):
            chars = []
            for char in text:
                if _needs_no_glyph(char) or ord(char) in self.covered:
                    chars.append(char)
                else:
                    if char not in self.missing:
                        logger.warning(
                            "quote %s: no font draws %r (U+%04X)", self.quote.number, char, ord(char)
                        )
                    self.missing.add(char)
                    chars.append(REPLACEMENT)
            text = "".join(chars)
        return super().normalize_text(text)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(*GREY)
        text = _("%(number)s · page %(page)s of %(pages)s") % {
            "number": self.quote.number,
            "page": self.page_no(),
            "pages": "{nb}",
        }
        self.cell(0, 6, text, align="C")


def money(value: Decimal, currency: str) -> str:
    return l10n.money(value, currency)


def _quantity(value: Decimal) -> str:
    return l10n.quantity(value)  # 2.000 → "2", 1.500 → "1.5"


def _percent(value: Decimal) -> str:
    return l10n.percent(value) if value else ""


def _day(value) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _logo(pdf: QuotePDF) -> None:
    """The business's logo (settings page) above its name, 16 mm high."""
    logo = business_settings().logo
    if logo is None:
        return
    try:
        pdf.image(str(logo), x=pdf.l_margin, y=pdf.get_y(), h=16)
    except Exception:  # a damaged file must not stop the quote
        logger.warning("the logo %s cannot be drawn; the PDF has none", logo.name)
        return
    pdf.set_y(pdf.get_y() + 19)


def _head(pdf: QuotePDF, quote: Quote) -> None:
    _logo(pdf)
    pdf.set_font(FAMILY, "B", 16)
    pdf.multi_cell(0, 8, business_name(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 9)
    pdf.set_text_color(*GREY)
    address = business_settings().business_address
    if address:
        pdf.multi_cell(0, 4.5, address, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(6)
    pdf.set_font(FAMILY, "B", 14)
    pdf.cell(0, 8, _("Quote %(number)s") % {"number": quote.number}, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 10)
    customer = quote.contact or quote.deal.company
    rows = [
        (_("For"), str(customer) if customer else ""),
        (_("Company"), str(quote.deal.company) if quote.contact and quote.deal.company else ""),
        (_("Regarding"), quote.deal.title),
        (_("Issued on"), _day(quote.issued_on)),
        (_("Valid until"), _day(quote.valid_until)),
    ]
    for label, value in rows:
        if value:
            pdf.set_text_color(*GREY)
            pdf.cell(30, 5.5, label)
            pdf.set_text_color(0, 0, 0)
            pdf.multi_cell(0, 5.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _paragraph(pdf: QuotePDF, text: str, size: float = 10) -> None:
    if text.strip():
        pdf.set_font(FAMILY, "", size)
        pdf.multi_cell(0, size * 0.5, text.strip(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(3)


def _lines(pdf: QuotePDF, quote: Quote) -> None:
    pdf.set_font(FAMILY, "", 9)
    headings = (_("Item"), _("Qty"), _("Unit price"), _("Discount"), _("Tax"), _("Amount"))
    with pdf.table(
        col_widths=(62, 16, 28, 22, 16, 30),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=5,
        padding=1.5,
        borders_layout="HORIZONTAL_LINES",
        headings_style=_heading_style(),
    ) as table:
        table.row(headings)
        for line in quote.lines.all():
            item = line.name + (f"\n{line.description}" if line.description else "")
            first, *rest = _item_blocks(pdf, item)
            table.row(
                (
                    first,
                    _quantity(line.quantity),
                    money(line.unit_price, quote.currency),
                    _percent(line.discount_percent),
                    _percent(line.tax_rate),
                    money(line.total, quote.currency),
                )
            )
            for block in rest:
                table.row((block, "", "", "", "", ""))
    pdf.ln(3)


ITEM_TEXT_WIDTH = 62 - 2 * 1.5  # the item column less its padding, in mm
LINES_PER_ROW = 30  # 30 lines of 5 mm: a row always fits on a fresh page


def _item_blocks(pdf: QuotePDF, text: str) -> list[str]:
    """The item's text cut into blocks of at most LINES_PER_ROW printed lines: fpdf2 cannot
    split one table row over two pages, so a long description becomes several rows."""
    lines = pdf.multi_cell(ITEM_TEXT_WIDTH, 5, text, dry_run=True, output=MethodReturnValue.LINES)
    if len(lines) <= LINES_PER_ROW:
        return [text]
    return ["\n".join(lines[i : i + LINES_PER_ROW]) for i in range(0, len(lines), LINES_PER_ROW)]


def _heading_style():
    from fpdf.fonts import FontFace

    return FontFace(family=FAMILY, emphasis="BOLD", color=GREY)


def _totals(pdf: QuotePDF, quote: Quote) -> None:
    rows = [(_("Subtotal"), quote.subtotal)]
    if quote.discount_total:
        label = _("Discount %(percent)s") % {"percent": _percent(quote.discount_percent)}
        rows.append((label, -quote.discount_total))
    if quote.tax_total:
        rows.append((_("Tax"), quote.tax_total))
    for label, value in rows:
        pdf.set_font(FAMILY, "", 10)
        pdf.cell(134, 6, label, align="R")
        pdf.cell(40, 6, money(value, quote.currency), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "B", 11)
    pdf.cell(134, 8, _("Total"), align="R")
    pdf.cell(40, 8, money(quote.total, quote.currency), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(5)


def render_pdf(quote: Quote) -> bytes:
    """The quote as PDF bytes (A4)."""
    pdf = QuotePDF(quote)
    pdf.add_page()
    _head(pdf, quote)
    _paragraph(pdf, quote.introduction)
    _lines(pdf, quote)
    _totals(pdf, quote)
    if quote.terms.strip():
        pdf.set_font(FAMILY, "B", 10)
        pdf.cell(0, 6, _("Terms"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        _paragraph(pdf, quote.terms, 9)
    return bytes(pdf.output())
