"""HTML to PDF/A-3b with WeasyPrint, with machine-readable records embedded as attachments.

Nothing in an evidence PDF may reach the network: names, quotes and notice texts are typed by
people, and an <img src="https://..."> among them would make the renderer fetch it. The URL
fetcher below allows only data: URLs, files under our static directories, the vendored fonts
(plus files the caller names explicitly). Images of proofs are passed as data: URLs.

Fonts: only the files in evidence/fonts/ (Noto subsets renamed "Constancia ...", OFL). Evidence
must print the same on every machine, years apart, whatever fonts the host has: the families
have names no machine has installed, the stacks end in no generic family, and a character none
of the files covers is printed as a textual stand-in ("[U+4E2D CJK UNIFIED IDEOGRAPH-4E2D]")
instead of letting fontconfig reach for a host font. The records embedded as JSON keep the text
as typed.

Rendering costs 0.2-0.7 s a page and more for long tables: call it from Celery, not a request.
"""

import atexit
import base64
import functools
import mimetypes
import os
import re
import shutil
import threading
import unicodedata
import weakref
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.contrib.staticfiles import finders

STYLESHEET = "pdf/evidence.css"
FONT_DIR = Path(__file__).resolve().parent / "fonts"
# (family, file, weight). Bold Mono and the italics are synthesised by Pango from these files.
FONT_FACES = (
    ("Constancia Sans", "ConstanciaSans-Regular.ttf", 400),
    ("Constancia Sans", "ConstanciaSans-Bold.ttf", 700),
    ("Constancia Arabic", "ConstanciaArabic-Regular.ttf", 400),
    ("Constancia Arabic", "ConstanciaArabic-Bold.ttf", 700),
    ("Constancia Mono", "ConstanciaMono-Regular.ttf", 400),
    ("Constancia Emoji", "ConstanciaEmoji-Regular.ttf", 400),
)
FONT_FILES = tuple(FONT_DIR / filename for _, filename, _ in FONT_FACES)
# No generic family at the end: "sans-serif" would hand the choice to the host's fontconfig.
FONT_FAMILY = {"ar": '"Constancia Arabic", "Constancia Sans", "Constancia Emoji"'}
DEFAULT_FONT_FAMILY = '"Constancia Sans", "Constancia Arabic", "Constancia Emoji"'
# Characters that take no glyph (isolates, joiners, marks): never replaced.
_INVISIBLE_CATEGORIES = {"Cf", "Cc"}
# A run of Latin letters, digits and the punctuation of codes ("6(1)(a)", "2025-09", "+34 600",
# "v1.2"), with at least one digit: the bidirectional algorithm reorders the digits and mirrors
# the brackets of such a run when it sits in Arabic text.
_CODE_CHARACTERS = r"[0-9A-Za-z()\[\].,:/+\-_]"
# Single spaces join the groups of one number ("+34 600 12 34 56", "Art. 6(1)(a)").
_NUMBER_RUN = re.compile(
    rf"[+#]?[0-9A-Za-z]{_CODE_CHARACTERS}*(?: (?=[0-9+(]){_CODE_CHARACTERS}+)*"
)
_OPENING, _CLOSING = "([", ")]"


def _static_roots() -> list[Path]:
    roots = [Path(p) for p in getattr(settings, "STATICFILES_DIRS", [])]
    if getattr(settings, "STATIC_ROOT", None):
        roots.append(Path(settings.STATIC_ROOT))
    return [root.resolve() for root in roots]


def _url_fetcher(allowed_files: Iterable[Path] = ()):
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    allowed = {Path(p).resolve() for p in (*allowed_files, *FONT_FILES)}
    roots = _static_roots()

    class EvidenceURLFetcher(URLFetcher):
        """data: URLs, our static files, our fonts and the caller's files; nothing else."""

        def fetch(self, url, headers=None):
            scheme = urlsplit(url).scheme.lower()
            if scheme == "file":
                path = Path(url2pathname(unquote(urlsplit(url).path))).resolve()
                if path not in allowed and not any(path.is_relative_to(r) for r in roots):
                    raise ValueError(f"File outside the allowed directories: {path}")
                # Read here rather than through urllib's handler chain (proxies, FTP, ...):
                # an allowed file is all this can ever open.
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(
                    path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type}
                )
            if scheme != "data":
                raise ValueError(f"Evidence PDFs fetch nothing over {scheme or 'relative'} URLs")
            return super().fetch(url, headers)

    return EvidenceURLFetcher(allowed_protocols={"data", "file"}, allow_redirects=False)


def _deduplicate_associated_files(document, pdf) -> None:
    # WeasyPrint 70 lists each attachment twice in the catalogue's /AF array (from the
    # EmbeddedFiles name tree and again from the file specifications).
    if "AF" not in pdf.catalog:
        return
    seen, unique = set(), []
    for reference in pdf.catalog["AF"]:
        key = bytes(reference) if isinstance(reference, bytes | bytearray) else str(reference)
        if key not in seen:
            seen.add(key)
            unique.append(reference)
    pdf.catalog["AF"][:] = unique


def font_family(language: str) -> str:
    return FONT_FAMILY.get((language or "").split("-")[0], DEFAULT_FONT_FAMILY)


def font_face_css() -> str:
    """@font-face rules for the vendored fonts, by absolute file URL (no static-files lookup)."""
    return "\n".join(
        f'@font-face {{ font-family: "{family}"; src: url("{(FONT_DIR / filename).as_uri()}"); '
        f"font-weight: {weight}; font-style: normal; }}"
        for family, filename, weight in FONT_FACES
    )


@functools.cache
def _cmap(filename: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(FONT_DIR / filename, lazy=True) as font:
        return frozenset(font.getBestCmap())


@functools.cache
def covered_characters() -> frozenset[int]:
    """Every code point some vendored font has a glyph for."""
    return frozenset().union(*(_cmap(filename) for _, filename, _ in FONT_FACES))


@functools.cache
def _emoji_only_characters() -> frozenset[int]:
    """Code points only the emoji font draws."""
    others = frozenset().union(
        *(_cmap(filename) for family, filename, _ in FONT_FACES if family != "Constancia Emoji")
    )
    return _cmap("ConstanciaEmoji-Regular.ttf") - others


def textual_fallback(character: str) -> str:
    """What the page prints for a character no vendored font can draw: its code point and
    Unicode name, isolated left to right so that it reads the same in Arabic text."""
    name = unicodedata.name(character, "")
    label = f"U+{ord(character):04X} {name}".strip()
    return f"\u2066[{label}]\u2069"


def cover_text(text: str) -> str:
    """``text`` with every character no vendored font covers replaced by a textual stand-in.

    Without it Pango asks fontconfig for any installed font that has the glyph: the PDF would
    then differ from machine to machine, or show an empty box where no font has it.
    """
    covered = covered_characters()
    replacements = {}
    for character in set(text):
        code = ord(character)
        if code < 0x80 or code in covered:
            continue
        category = unicodedata.category(character)
        # Variation selectors and tag characters select a presentation; they draw nothing.
        if category in _INVISIBLE_CATEGORIES or 0xFE00 <= code <= 0xFE0F or code >= 0xE0000:
            continue
        replacements[code] = " " if category == "Zs" else textual_fallback(character)
    return text.translate(replacements) if replacements else text


def _balanced(run: str) -> str:
    """``run`` cut after its last character where every bracket it opened is closed, without
    trailing sentence punctuation: "6(1)(a))." in "(المادة 6(1)(a))." is "6(1)(a)"."""
    depth, end = 0, 0
    for index, character in enumerate(run):
        if character in _OPENING:
            depth += 1
        elif character in _CLOSING:
            if depth == 0:
                break
            depth -= 1
        if depth == 0 and character not in ".,:/-+":
            end = index + 1
    return run[:end]


def isolate_numbers(text: str) -> str:
    """``text`` with each code-like run that holds a digit wrapped in U+2066 ... U+2069 (LEFT-TO-
    RIGHT ISOLATE ... POP DIRECTIONAL ISOLATE): it then reads left to right, as written, in
    Arabic as in Spanish. For text where no markup can carry dir="ltr" (translated labels)."""

    def isolate(match: re.Match) -> str:
        run = match.group(0)
        core = _balanced(run)
        if not core or not any(c.isdigit() for c in core):
            return run
        return f"\u2066{core}\u2069{run[len(core) :]}"

    return _NUMBER_RUN.sub(isolate, text)


# Joiners, presentation selectors, keycap, skin tones and tags continue an emoji sequence.
_EMOJI_CONTINUATION = re.compile(
    "[\u200d\ufe0e\ufe0f\u20e3\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]"
)
_TEXT_AND_TAGS = re.compile(
    r"(<(?:style|title|script)\b.*?</(?:style|title|script)>|<[^>]*>)", re.S | re.I
)


def mark_emoji(html: str) -> str:
    """``html`` with each run of emoji in text wrapped in <span lang="und-Zsye">.

    Pango gives an emoji run the language of its element, and fontconfig ranks language support
    above the order of a family list: in a Spanish paragraph a host font that speaks Spanish
    and has a "😊" (DejaVu Sans does) beat the vendored emoji font, which speaks no language.
    Marked as emoji (BCP 47 "und-Zsye"), the run goes to the vendored font.
    """
    emoji = _emoji_only_characters()

    def mark(text: str) -> str:
        out, run = [], []
        for character in text:
            if ord(character) in emoji or (run and _EMOJI_CONTINUATION.match(character)):
                run.append(character)
                continue
            if run:
                out.append(f'<span lang="und-Zsye">{"".join(run)}</span>')
                run = []
            out.append(character)
        if run:
            out.append(f'<span lang="und-Zsye">{"".join(run)}</span>')
        return "".join(out)

    parts = _TEXT_AND_TAGS.split(html)
    # Even indexes are text between tags; odd ones the tags (and style/title/script blocks).
    return "".join(
        mark(part) if index % 2 == 0 and not part.isascii() else part
        for index, part in enumerate(parts)
    )


def data_url(content: bytes, content_type: str) -> str:
    return f"data:{content_type};base64,{base64.b64encode(content).decode('ascii')}"


_styles = threading.local()
# Every shared configuration still alive (a thread's goes with the thread), for fonts_remove.
_made: "weakref.WeakSet" = weakref.WeakSet()


@atexit.register
def fonts_remove() -> None:
    """Remove this process's copies of the fonts (a temporary folder per shared configuration)
    while the interpreter can still do it: FontConfiguration.__del__ fails during shutdown, and
    a forked helper, which ends with os._exit, must call this itself. A forked helper leaves its
    parent's alone."""
    for font_config in list(_made):
        if font_config.made_by == os.getpid() and font_config._folder:
            shutil.rmtree(font_config._folder, ignore_errors=True)
            font_config._folder = None


def _shared_styles():
    """This thread's font configuration and the parsed stylesheets that use it (the vendored
    fonts' @font-face rules, static/pdf/evidence.css), made once and shared by its renders.

    Loading the fonts into a fresh configuration and parsing the stylesheets took 50-80 ms of a
    200-700 ms certificate (bench/README.md). Per thread, as Pango's font maps are not shared
    across threads, and per process (a pack's forked helpers make their own); made again when
    evidence.css changes on disk, so an edit shows at the next render as before. The CSS may
    fetch nothing but the fonts and our static files (_url_fetcher with no caller's files)."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    path = finders.find(STYLESHEET)
    key = (os.getpid(), path, Path(path).stat().st_mtime_ns if path else None)
    if getattr(_styles, "key", None) != key:
        fetcher = _url_fetcher()
        font_config = FontConfiguration()
        sheets = [CSS(string=font_face_css(), url_fetcher=fetcher, font_config=font_config)]
        if path:
            sheets.append(CSS(filename=path, url_fetcher=fetcher, font_config=font_config))
        font_config.made_by = os.getpid()
        _made.add(font_config)
        _styles.key, _styles.value = key, (font_config, sheets)
    return _styles.value


def render_pdf(
    *,
    html: str,
    base_url: str | None,
    attachments: list[tuple[str, bytes, str]],
    title: str,
    language: str,
    allowed_files: Iterable[Path] = (),
) -> bytes:
    """Render ``html`` as PDF/A-3b; each (name, content, content type) attachment is embedded
    with the relationship "Data" (PDF/A-3: source data of what the pages show).

    ``base_url`` resolves relative links (None: relative links resolve to nothing). The
    stylesheet static/pdf/evidence.css is always applied, with the vendored fonts (the stack for
    ``language`` on html); characters they cannot draw are replaced (cover_text) and emoji are
    marked as such (mark_emoji).
    """
    from weasyprint import CSS, HTML, Attachment

    fetcher = _url_fetcher(allowed_files)
    font_config, shared = _shared_styles()
    # Margin boxes (page numbers, running header) do not inherit body fonts: set it on html.
    stylesheets = [*shared, CSS(string=f"html {{ font-family: {font_family(language)}; }}")]
    html = mark_emoji(cover_text(html))
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
        stylesheets=stylesheets, font_config=font_config
    )
    document.metadata.title = title
    document.metadata.lang = language
    # An Attachment can be written once only: build fresh ones for every render.
    pdf_attachments = [
        Attachment(
            url=data_url(content, content_type),
            url_fetcher=fetcher,
            name=name,
            relationship="Data",
        )
        for name, content, content_type in attachments
    ]
    return document.write_pdf(
        pdf_variant="pdf/a-3b",
        attachments=pdf_attachments,
        finisher=_deduplicate_associated_files,
    )
