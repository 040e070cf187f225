"""Make the CJK font subset that quote PDFs use: solocrm/sales/quotes/fonts/NotoSansSC-Subset.otf.

Quote PDFs (solocrm/sales/quotes/pdf.py) draw Latin text in DejaVu Sans and fall back to this font
for Chinese, so Chinese never vanishes on a machine without a CJK font. A full Noto Sans CJK face
is ~16 MB; this keeps the characters of GB 2312 (the 6,763 common Hanzi of simplified Chinese,
plus its punctuation, kana, Greek and Cyrillic), CJK punctuation, full- and half-width forms and
the additional Hanzi below (common in names but missing from GB 2312): about 2.5 MB.

The source is Noto Sans CJK SC (SIL Open Font License 1.1), the face Debian's fonts-noto-cjk
ships in a collection:

    apt-get download fonts-noto-cjk && dpkg-deb -x fonts-noto-cjk_*.deb x
    python tools/subset_cjk_font.py x/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

(or a NotoSansCJKsc-Regular.otf / NotoSansSC-Regular.otf downloaded from the Noto project; pass
--face 0 for a single font file). fontTools is already installed: fpdf2 depends on it.
docs/languages.md tells how the PDF uses the font and what happens to a character outside it."""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

OUTPUT = Path(__file__).resolve().parent.parent / "solocrm/sales/quotes/fonts/NotoSansSC-Subset.otf"

# Hanzi outside GB 2312 that are frequent in personal and company names (and a few in everyday
# words since the 2013 Table of General Standard Chinese Characters).
EXTRA_HANZI = (
    "喆堃淼昇珺琤玥瑄瑢璟璠旻昀晞晗暐曌烜焜煜熠燚炜焘韡韬颢骞骐骕垚堉塬墉彧忞恺悦惇慜"
    "栎桉棻楠榕樾檀沄沅泓洺浛涴淏渝湉溍滢潆澔瀚犇玮琇琬琰瑾璇璐甯皓睿砚祎禛秾竑筠箐"
    "綦翀翕翯羿耘芃芮苒茜荟莜萩蓁蔚蕙薏蘅赟钖铖锜镕阚隽雯霁靓颀馥髙鹍鹏鹤麒黛囍"
)


def characters() -> set[int]:
    codepoints: set[int] = set()
    for high in range(0xA1, 0xF8):  # every two-byte GB 2312 code
        for low in range(0xA1, 0xFF):
            try:
                codepoints.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    codepoints.update(range(0x3000, 0x3040))  # CJK symbols and punctuation
    codepoints.update(range(0xFF00, 0xFFF0))  # full- and half-width forms
    codepoints.update(range(0x20, 0x7F))  # ASCII, so a line of mixed text keeps one face
    codepoints.update(map(ord, EXTRA_HANZI))
    return codepoints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="Noto Sans CJK: a .ttc collection or an .otf")
    parser.add_argument("--face", type=int, default=2, help="face in a .ttc (2 = SC in Noto's)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    face = args.face if args.source.suffix.lower() in {".ttc", ".otc"} else -1
    font = TTFont(args.source, fontNumber=face, lazy=False)
    options = subset.Options()
    options.layout_features = ["*"]  # keep vertical forms and locale variants that GSUB picks
    options.name_IDs = ["*"]  # keep the copyright and licence records
    options.name_languages = ["*"]
    options.notdef_outline = True  # a missing glyph is drawn as a box, not as nothing
    options.hinting = False  # PDFs are scaled freely; hints only add size
    options.desubroutinize = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(characters()))
    subsetter.subset(font)
    font.save(args.output)
    cmap = font.getBestCmap()
    print(f"{args.output}: {len(cmap)} characters, {args.output.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
