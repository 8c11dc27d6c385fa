"""Rebuild the fonts in this directory from the upstream Noto files (run by hand, not by the app).

    python evidence/fonts/build_fonts.py NOTO_CORE_DIR NOTO_MONO_DIR NOTO_EMOJI_TTF

NOTO_CORE_DIR and NOTO_MONO_DIR: usr/share/fonts/truetype/noto of Debian 12's fonts-noto-core
and fonts-noto-mono 20201225-1 (`apt-get download`, `dpkg-deb -x`); NOTO_EMOJI_TTF: Google's
NotoEmoji[wght].ttf 3.002 (monochrome). Each font is subset to the scripts evidence needs, its
hinting dropped (a PDF is not rasterised at screen sizes by us), and renamed "Constancia ...":
a family name no machine has installed, so WeasyPrint can only ever find these files under it,
and a test can tell from the PDF's /BaseFont names that no host font was used. The OFL licence
and the copyright notices travel in each file's name table and in OFL.txt beside them.
"""

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

HERE = Path(__file__).resolve().parent

# Latin (Spanish, Catalan, Basque, Galician, Portuguese, French, Romanian, Polish, ...), Greek and
# Cyrillic names, punctuation, currency, arrows and the common symbols.
LATIN = (
    "U+0000-036F,U+0370-03FF,U+0400-04FF,U+1E00-1EFF,U+2000-206F,U+20A0-20CF,"
    "U+2100-218F,U+2190-21FF,U+2200-22FF,U+2460-24FF,U+25A0-25FF,U+FB00-FB06,U+FEFF,U+FFFD"
)
# With the spaces, digits and punctuation the font has: Pango keeps them in the Arabic run.
ARABIC = (
    "U+0020-0040,U+00A0-00BF,U+2000-206F,"
    "U+0600-06FF,U+0750-077F,U+0870-08FF,U+FB50-FDFF,U+FE70-FEFF"
)
MONO = "U+0000-017F,U+2000-206F,U+20AC"
EMOJI = "*"  # all of it: replies carry any emoji

FACES = [
    # (source, file, characters, family, style); written as <Family>-<Style>.ttf
    ("core", "NotoSans-Regular.ttf", LATIN, "Constancia Sans", "Regular"),
    ("core", "NotoSans-Bold.ttf", LATIN, "Constancia Sans", "Bold"),
    ("core", "NotoSansArabic-Regular.ttf", ARABIC, "Constancia Arabic", "Regular"),
    ("core", "NotoSansArabic-Bold.ttf", ARABIC, "Constancia Arabic", "Bold"),
    ("mono", "NotoSansMono-Regular.ttf", MONO, "Constancia Mono", "Regular"),
    ("emoji", None, EMOJI, "Constancia Emoji", "Regular"),
]


def _rename(font: TTFont, family: str, style: str, origin: str) -> None:
    name = font["name"]
    postscript = f"{family.replace(' ', '')}-{style}"
    full = family if style == "Regular" else f"{family} {style}"
    for record in list(name.names):
        # Typographic family names and the upstream description would name the original.
        if record.nameID in (3, 10, 16, 17, 21, 22, 25):
            name.removeNames(nameID=record.nameID)
    for name_id, value in (
        (1, family),
        (2, style),
        (3, f"{postscript};constancia"),
        (4, full),
        (6, postscript),
        (10, f"Subset of {origin} for Constancia's evidence PDFs (renamed, hinting removed)."),
    ):
        name.setName(value, name_id, 3, 1, 0x409)
        name.setName(value, name_id, 1, 0, 0)
    if "CFF " in font:
        raise ValueError("CFF fonts are not expected here")


def build(core: Path, mono: Path, emoji: Path) -> None:
    sources = {"core": core, "mono": mono}
    for key, filename, unicodes, family, style in FACES:
        if key == "emoji":
            font = TTFont(emoji)
            # One static weight: WeasyPrint would otherwise embed the whole variable font.
            font = instancer.instantiateVariableFont(font, {"wght": 400}, updateFontNames=False)
            origin = "Noto Emoji 3.002 (monochrome)"
        else:
            font = TTFont(sources[key] / filename)
            origin = f"{font['name'].getDebugName(4)} {font['name'].getDebugName(5).split(';')[0]}"
        options = subset.Options()
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        options.name_languages = ["*"]
        options.hinting = False
        options.notdef_outline = True
        options.glyph_names = False
        options.drop_tables += ["DSIG"]
        subsetter = subset.Subsetter(options)
        if unicodes == "*":
            subsetter.populate(unicodes=font.getBestCmap().keys())
        else:
            subsetter.populate(unicodes=subset.parse_unicodes(unicodes))
        subsetter.subset(font)
        _rename(font, family, style, origin)
        out = HERE / f"{family.replace(' ', '')}-{style}.ttf"
        font.save(out)
        print(f"{out.name}: {out.stat().st_size} bytes, {len(font.getBestCmap())} characters")


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
