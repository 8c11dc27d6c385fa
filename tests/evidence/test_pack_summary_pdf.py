"""The evidence pack's summary PDF: vendored fonts, footer and references that read right."""

import os
import zipfile
from pathlib import Path

import pytest

from evidence.packs import PackScope, build_pack
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice
from tests.evidence.test_pdf_fonts_and_direction import (
    ARTICLE_DRAWN,
    VENDORED_BASE_FONTS,
    _embedded_base_fonts,
    _visual_lines,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def arabic_pack(org, staff, tmp_path):
    """A pack from an organisation whose default language is Arabic."""
    org.default_language = "ar"
    org.save(update_fields=["default_language"])
    purpose = PurposeFactory(organisation=org, code="marketing", name="عروض", legal_basis="consent")
    notice = published_notice(purposes=[purpose], version="2025-09")
    subject = DataSubjectFactory(organisation=org, full_name="ليلى بن علي", phone="+34600123456")
    grant(subject, purpose, notice, recorded_by=staff)
    path = tmp_path / "pack.zip"
    build_pack(organisation=org, scope=PackScope(), path=path)
    with zipfile.ZipFile(path) as pack:
        summary = pack.read("summary.pdf")
    if os.environ.get("CONSTANCIA_KEEP_PDFS"):
        (Path(os.environ["CONSTANCIA_KEEP_PDFS"]) / "summary-ar.pdf").write_bytes(summary)
    return summary


def test_the_summary_uses_the_vendored_fonts_only(arabic_pack):
    fonts = _embedded_base_fonts(arabic_pack)

    assert fonts <= VENDORED_BASE_FONTS
    assert "Constancia-Arabic" in fonts


def test_the_summary_footer_reads_right_in_arabic(org, arabic_pack, tmp_path):
    lines = _visual_lines(arabic_pack, tmp_path)

    # The footer was one CSS string: page "1 / 2" printed as "2 / 1", and "S.L." lost its final
    # dot to the other end of the name.
    assert any(line.startswith("1 / 2") for line in lines), lines[-4:]
    assert not any("2 / 1" in line for line in lines)
    assert any(line == org.legal_name for line in lines)
    assert not any(f".{org.legal_name[:-1]}" in line for line in lines)


def test_the_summary_keeps_phone_and_article_in_order_in_arabic(arabic_pack, tmp_path):
    lines = _visual_lines(arabic_pack, tmp_path)

    assert any("+34600123456" in line for line in lines)
    assert any(ARTICLE_DRAWN in line for line in lines), [line for line in lines if "1|" in line]
