"""Evidence PDFs print with the vendored fonts only, and keep numbers and codes in their order.

An auditor may open a certificate years later on another machine: what it shows must not
depend on the fonts that machine (or ours) had installed, and in Arabic a phone number, a
version label or an article reference must not come out reversed.
"""

import html
import io
import os
import re
import subprocess
import sys
import threading
import weakref
from pathlib import Path

import pikepdf
import pypdf
import pytest

from consents.services import proof_create
from evidence import pdf as evidence_pdf
from evidence.certificates import certificate_pdf
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice

pytestmark = pytest.mark.django_db

ARABIC_NAME = "ليلى بن علي"
PHONE = "+34 600 12 34 56"
QUOTE = "نعم، أوافق 👍 ✅ 🙏 😊 ❤️ 👌"
# WeasyPrint names an embedded font after its CSS family and weight.
VENDORED_BASE_FONTS = {
    "Constancia-Sans",
    "Constancia-Sans-Bold",
    "Constancia-Arabic",
    "Constancia-Arabic-Bold",
    "Constancia-Mono",
    "Constancia-Emoji",
}
# Set to a directory to keep the rendered PDFs and look at them (pdftoppm -png -r 60).
KEEP = os.environ.get("CONSTANCIA_KEEP_PDFS")


def _arabic_subject(org, dpo):
    """An Arabic name, a Spanish phone, notice "2025-09", a WhatsApp reply with emoji."""
    purpose = PurposeFactory(
        organisation=org, code="marketing", name="عروض عبر واتساب", legal_basis="consent"
    )
    notice = published_notice(purposes=[purpose], version="2025-09", language="ar")
    subject = DataSubjectFactory(
        organisation=org, full_name=ARABIC_NAME, phone="+34600123456", email="layla@example.org"
    )
    proof = proof_create(organisation=org, subject=subject, quote=QUOTE, files=[], created_by=dpo)
    grant(subject, purpose, notice, recorded_by=dpo, proof=proof)
    return subject


@pytest.fixture
def arabic_subject(org, dpo):
    return _arabic_subject(org, dpo)


def _keep(pdf: bytes, name: str) -> None:
    if KEEP:
        Path(KEEP).mkdir(parents=True, exist_ok=True)
        (Path(KEEP) / name).write_bytes(pdf)


def _pdftotext(pdf: bytes, tmp_path, *args) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *args, str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _visual_lines(pdf: bytes, tmp_path) -> list[str]:
    """Each printed line as its words read from left to right on the page, glyph by glyph.

    pdftotext's plain output rebuilds the logical order of right-to-left lines and leaves the
    brackets mirrored ("(6(1)(a"); the positions of the glyphs say what a reader sees. Which
    bracket a glyph is cannot be told (a mirrored "(" is drawn with the glyph of ")", and the
    PDF maps each glyph back to the character it was first drawn for): brackets come out as "|".
    """
    layout = _pdftotext(pdf, tmp_path, "-bbox-layout")
    lines = []
    for line in re.findall(r"<line .*?</line>", layout, flags=re.S):
        words = re.findall(r'<word xMin="([\d.]+)"[^>]*>(.*?)</word>', line)
        ordered = sorted(words, key=lambda word: float(word[0]))
        text = html.unescape(" ".join(text for _, text in ordered))
        lines.append(text.translate({ord("("): "|", ord(")"): "|"}))
    return lines


# "6(1)(a)" as drawn left to right; reversed it is "|a||1|6".
ARTICLE_DRAWN = "6|1||a|"


def _embedded_base_fonts(pdf: bytes) -> set[str]:
    """The /BaseFont of every font the PDF uses, without the subset tag; each must carry its
    font program (/FontFile2: nothing is left for the reader's machine to substitute)."""
    names = set()
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for obj in document.objects:
            if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Type") != "/Font":
                continue
            if obj.get("/Subtype") == "/Type0":
                continue  # its descendant CIDFont is the one with the descriptor
            descriptor = obj.get("/FontDescriptor")
            assert descriptor is not None and "/FontFile2" in descriptor, obj.get("/BaseFont")
            names.add(re.sub(r"^([A-Z]{6}\+)", "", str(obj.BaseFont)[1:]))
    return names


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_every_embedded_font_is_a_vendored_one(org, arabic_subject, language):
    pdf = certificate_pdf(subject=arabic_subject, language=language, sign=False)
    _keep(pdf, f"certificate-{language}.pdf")

    fonts = _embedded_base_fonts(pdf)

    assert fonts <= VENDORED_BASE_FONTS, fonts
    # The Arabic name, the Latin text and the emoji each needed their vendored font.
    assert {"Constancia-Arabic", "Constancia-Sans", "Constancia-Emoji"} <= fonts


def test_the_font_files_are_committed_with_their_licence():
    for path in evidence_pdf.FONT_FILES:
        assert path.is_file() and path.stat().st_size > 10_000
    licence = (evidence_pdf.FONT_DIR / "OFL.txt").read_text()
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence


def _fetched_urls(monkeypatch) -> list[str]:
    """The URLs every evidence fetcher made from now on opens, in a thread with no fonts loaded."""
    opened = []
    make_fetcher = evidence_pdf._url_fetcher

    def spying_fetcher(*args, **kwargs):
        fetcher = make_fetcher(*args, **kwargs)
        fetch = fetcher.fetch

        def spy(url, headers=None):
            opened.append(url)
            return fetch(url, headers)

        fetcher.fetch = spy
        return fetcher

    monkeypatch.setattr(evidence_pdf, "_url_fetcher", spying_fetcher)
    monkeypatch.setattr(evidence_pdf, "_styles", threading.local())  # as in a new thread
    return opened


def test_the_fonts_are_loaded_through_the_restricted_fetcher_only(monkeypatch):
    opened = _fetched_urls(monkeypatch)
    html = '<html lang="en"><body><p>Hola, ليلى 👍</p></body></html>'

    evidence_pdf.render_pdf(html=html, base_url=None, attachments=[], title="t", language="en")

    font_urls = {path.as_uri() for path in evidence_pdf.FONT_FILES}
    assert set(opened) == font_urls


def test_a_thread_loads_the_fonts_once_and_its_renders_share_them(monkeypatch):
    opened = _fetched_urls(monkeypatch)
    english = '<html lang="en"><body><p>Hola, ليلى 👍</p></body></html>'
    arabic = '<html lang="ar" dir="rtl"><body><p>ليلى, Hola 👍</p></body></html>'
    evidence_pdf.render_pdf(html=english, base_url=None, attachments=[], title="t", language="en")
    first = len(opened)

    again = evidence_pdf.render_pdf(
        html=arabic, base_url=None, attachments=[], title="t", language="ar"
    )

    assert first == len(evidence_pdf.FONT_FILES) and len(opened) == first  # none read again
    assert _embedded_base_fonts(again) <= VENDORED_BASE_FONTS
    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append(evidence_pdf._shared_styles()))
    thread.start()
    thread.join()
    assert elsewhere[0][0] is not evidence_pdf._shared_styles()[0]  # Pango's maps stay per thread
    assert len(opened) == 2 * first


def test_an_edited_stylesheet_is_read_at_the_next_render(monkeypatch, tmp_path):
    stylesheet = tmp_path / "evidence.css"
    stylesheet.write_text("p { color: red; }")
    monkeypatch.setattr(evidence_pdf.finders, "find", lambda name: str(stylesheet))
    monkeypatch.setattr(evidence_pdf, "_styles", threading.local())
    font_config, sheets = evidence_pdf._shared_styles()
    assert evidence_pdf._shared_styles()[1] is sheets

    stylesheet.write_text("p { color: blue; }")
    os.utime(stylesheet, ns=(1, 1))

    assert evidence_pdf._shared_styles()[1] is not sheets


def test_the_fetcher_refuses_other_files_beside_the_fonts():
    fetcher = evidence_pdf._url_fetcher()

    assert fetcher.fetch(evidence_pdf.FONT_FILES[0].as_uri()).read()[:4] == b"\x00\x01\x00\x00"
    with pytest.raises(ValueError):
        fetcher.fetch((evidence_pdf.FONT_DIR / "build_fonts.py").as_uri())


def test_emoji_in_a_quoted_reply_print_as_glyphs_not_boxes(org, arabic_subject):
    pdf = certificate_pdf(subject=arabic_subject, language="en", sign=False)

    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)

    for emoji in "👍✅🙏😊❤👌":
        assert emoji in text


def test_a_character_no_vendored_font_has_prints_as_its_name_and_code_point(tmp_path):
    html = '<html lang="es"><body><p>Nombre: 中村 ✓ fin</p></body></html>'

    pdf = evidence_pdf.render_pdf(
        html=html, base_url=None, attachments=[], title="t", language="es"
    )

    text = _pdftotext(pdf, tmp_path)
    assert "[U+4E2D CJK UNIFIED IDEOGRAPH-4E2D]" in text
    assert "中" not in text
    assert _embedded_base_fonts(pdf) <= VENDORED_BASE_FONTS


def test_covered_text_is_left_as_it_is():
    text = f"José Ñúñez, {ARABIC_NAME}, {QUOTE}, \u2066{PHONE}\u2069, \u00a0€ «»"

    assert evidence_pdf.cover_text(text) == text


def test_the_arabic_certificate_keeps_phone_version_and_article_in_order(
    org, arabic_subject, tmp_path
):
    pdf = certificate_pdf(subject=arabic_subject, language="ar", sign=False)
    _keep(pdf, "certificate-ar.pdf")

    lines = _visual_lines(pdf, tmp_path)

    assert any(line == PHONE for line in lines), [line for line in lines if "34" in line]
    assert any("layla@example.org" in line for line in lines)
    # "الإصدار 2025-09" and "(المادة 6(1)(a))": without isolates they print "09-2025", "(a)(1)6".
    assert any("2025-09" in line for line in lines)
    assert not any("09-2025" in line for line in lines)
    assert any(ARTICLE_DRAWN in line for line in lines), [line for line in lines if "1|" in line]


@pytest.mark.parametrize(
    ("language", "article"), [("en", "(Art. 6(1)(a))"), ("es", "(art. 6.1.a)")]
)
def test_a_left_to_right_certificate_keeps_the_phone_of_an_arabic_name_in_order(
    org, arabic_subject, language, article, tmp_path
):
    pdf = certificate_pdf(subject=arabic_subject, language=language, sign=False)
    _keep(pdf, f"certificate-{language}.pdf")

    text = _pdftotext(pdf, tmp_path)

    assert PHONE in text
    assert "2025-09" in text
    # The legal-basis column is narrow: the label may wrap.
    assert re.sub(r"\s+", "", article) in re.sub(r"\s+", "", text)


RENDER_SCRIPT = """
import sys, django
django.setup()
from evidence.pdf import render_pdf
html = sys.stdin.read()
sys.stdout.buffer.write(
    render_pdf(html=html, base_url=None, attachments=[], title="t", language=sys.argv[1])
)
"""
SAMPLE_HTML = f"""<html lang="{{lang}}" dir="{{dir}}"><body>
<h1>Prueba del consentimiento: José Ñúñez · {ARABIC_NAME}</h1>
<p>{QUOTE} <span class="mono">\u2066{PHONE}\u2069 e3b0c44298fc1c149afbf4c8996fb924</span></p>
<p>中村 ✓ ★ ½ € «citado» — “fin”</p></body></html>"""


def _render_with_fontconfig(tmp_path, name: str, font_dirs: list[str], language: str) -> bytes:
    """Render SAMPLE_HTML in a fresh process whose fontconfig sees only ``font_dirs``."""
    cache = tmp_path / f"cache-{name}"
    dirs = "".join(f"<dir>{d}</dir>" for d in font_dirs)
    config = tmp_path / f"fonts-{name}.conf"
    config.write_text(f"<fontconfig>{dirs}<cachedir>{cache}</cachedir></fontconfig>")
    env = {**os.environ, "FONTCONFIG_FILE": str(config)}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    html = SAMPLE_HTML.format(lang=language, dir="rtl" if language == "ar" else "ltr")
    return subprocess.run(
        [sys.executable, "-c", RENDER_SCRIPT, language],
        input=html.encode(),
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
        capture_output=True,
        timeout=120,
    ).stdout


def _pages_as_png(pdf: bytes, tmp_path, name: str) -> list[bytes]:
    (tmp_path / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", str(tmp_path / f"{name}.pdf"), str(tmp_path / name)],
        check=True,
    )
    return [page.read_bytes() for page in sorted(tmp_path.glob(f"{name}-*.png"))]


@pytest.mark.parametrize("language", ["es", "ar"])
def test_the_pages_are_the_same_with_no_host_fonts_and_with_every_host_font(tmp_path, language):
    # Every font directory the host has (DejaVu at least, Noto on many machines) against none.
    bare = _render_with_fontconfig(tmp_path, "bare", [], language)
    full = _render_with_fontconfig(
        tmp_path, "full", ["/usr/share/fonts", "/usr/local/share/fonts"], language
    )

    assert _embedded_base_fonts(bare) == _embedded_base_fonts(full) <= VENDORED_BASE_FONTS
    assert _pages_as_png(bare, tmp_path, "bare") == _pages_as_png(full, tmp_path, "full")


@pytest.mark.parametrize(
    ("label", "isolated"),
    [
        ("الموافقة (المادة 6(1)(a))", "الموافقة (المادة \u20666(1)(a)\u2069)"),
        ("الإصدار 2025-09.", "الإصدار \u20662025-09\u2069."),
        ("ليلى +34 600 12 34 56", "ليلى \u2066+34 600 12 34 56\u2069"),
        ("الحدث #3", "الحدث \u2066#3\u2069"),
        ("Consent (Art. 6(1)(a))", "\u2066Consent (Art. 6(1)(a))\u2069"),
    ],
)
def test_codes_with_digits_are_isolated_left_to_right(label, isolated):
    assert evidence_pdf.isolate_numbers(label) == isolated


def test_words_without_digits_are_left_alone():
    assert evidence_pdf.isolate_numbers("عروض (marketing)") == "عروض (marketing)"


def test_emoji_runs_in_text_are_marked_and_attributes_are_not():
    html = '<p title="😊">Sí 👍🏽 y 👨\u200d👩\u200d👧</p><title>a 😊</title>'

    marked = evidence_pdf.mark_emoji(html)

    assert marked == (
        '<p title="😊">Sí <span lang="und-Zsye">👍🏽</span> y '
        '<span lang="und-Zsye">👨\u200d👩\u200d👧</span></p><title>a 😊</title>'
    )


def test_the_copies_of_the_fonts_are_removed_at_exit_but_not_a_parents(monkeypatch, tmp_path):
    # Only this test's configurations: the suite's own stay in use.
    monkeypatch.setattr(evidence_pdf, "_styles", threading.local())
    monkeypatch.setattr(evidence_pdf, "_made", weakref.WeakSet())
    evidence_pdf.render_pdf(
        html="<p>Hola</p>", base_url=None, attachments=[], title="t", language="es"
    )
    mine, _sheets = evidence_pdf._shared_styles()
    folder = Path(mine._folder)
    inherited = type(mine)()  # as a forked helper holds its parent's
    inherited._folder = tmp_path / "parent's fonts"
    inherited._folder.mkdir()
    inherited.made_by = os.getpid() + 1
    evidence_pdf._made.add(inherited)
    assert folder.is_dir()

    evidence_pdf.fonts_remove()

    assert not folder.exists() and mine._folder is None
    assert inherited._folder.is_dir()
