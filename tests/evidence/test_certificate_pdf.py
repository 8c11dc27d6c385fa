"""The proof-of-consent certificate: rendered for real, read back, signature validated."""

import datetime
import io
import json
import re
import subprocess

import pikepdf
import pypdf
import pytest
import time_machine
from PIL import Image

from consents.acts import ConsentAct, Decision
from consents.models import Action, Channel
from consents.services import consent_record, proof_create
from consents.uploads import InspectedUpload
from evidence import pdf as evidence_pdf
from evidence.certificates import RECORDS_FILENAME, certificate_pdf, certificate_records
from evidence.signing import certificate_trust_roots, validate_pdf
from tests.consents.factories import DataSubjectFactory, PurposeFactory, published_notice, withdraw

pytestmark = pytest.mark.django_db

SPANISH_NAME = "José Ñúñez Peña"
ARABIC_NAME = "ليلى بن علي"


def _png(colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 400), colour).save(out, format="PNG")
    return out.getvalue()


def _history(org, dpo, *, full_name=SPANISH_NAME):
    """Three events: two purposes granted on WhatsApp with a screenshot, one withdrawn online."""
    marketing = PurposeFactory(organisation=org, code="marketing", name="Ofertas por WhatsApp")
    reminders = PurposeFactory(
        organisation=org, code="reminders", name="Recordatorio de citas", category="appointments"
    )
    notice = published_notice(purposes=[marketing, reminders], version="2026-01")
    subject = DataSubjectFactory(organisation=org, full_name=full_name, email="jose@example.org")
    proof = proof_create(
        organisation=org,
        subject=subject,
        quote="Sí, acepto recibir ofertas y recordatorios.",
        files=[
            InspectedUpload(name="whatsapp.png", content=_png(), content_type="image/png"),
        ],
        created_by=dpo,
    )
    granted = consent_record(
        organisation=org,
        act=ConsentAct(
            subject=subject,
            decisions=[
                Decision(purpose=marketing, action=Action.GRANTED, notice=notice),
                Decision(purpose=reminders, action=Action.GRANTED, notice=notice),
            ],
            channel=Channel.WHATSAPP,
            recorded_by=dpo,
            proof=proof,
        ),
    )
    withdrawn = withdraw(
        subject,
        marketing,
        channel=Channel.WEB_FORM,
        by_subject=True,
        ip_address="203.0.113.7",
        user_agent="Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/130 Mobile",
    )
    return {"subject": subject, "notice": notice, "events": [*granted, withdrawn]}


@pytest.fixture
def history(org, dpo):
    return _history(org, dpo)


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def _squeezed(text: str) -> str:
    # Long hashes wrap across lines: compare without any whitespace.
    return re.sub(r"\s+", "", text)


def _attachment(pdf: bytes, name: str) -> bytes:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return document.attachments[name].get_file().read_bytes()


def test_signed_certificate_is_intact_and_trusted_by_the_organisation_certificate(org, history):
    pdf = certificate_pdf(subject=history["subject"])

    report = validate_pdf(pdf=pdf, trust_roots=certificate_trust_roots(org))

    assert report.signed and report.intact and report.valid and report.trusted
    assert report.coverage_entire_file
    assert report.signer == org.legal_name
    assert not report.timestamp


def test_without_trust_roots_the_signature_is_intact_but_untrusted(history):
    report = validate_pdf(pdf=certificate_pdf(subject=history["subject"]))

    assert report.intact and report.valid
    assert not report.trusted


def test_one_changed_byte_in_the_signed_content_is_reported_not_intact(org, history):
    pdf = certificate_pdf(subject=history["subject"])
    byte_range = [int(n) for n in re.search(rb"/ByteRange\s*\[([\d\s]+)\]", pdf)[1].split()]
    # A byte in the middle of the first signed range (the rendered pages), not the signature.
    position = byte_range[1] // 2
    tampered = bytearray(pdf)
    tampered[position] = (tampered[position] + 1) % 256

    report = validate_pdf(pdf=bytes(tampered), trust_roots=certificate_trust_roots(org))

    assert report.signed
    assert not report.intact
    assert report.errors


def test_a_timestamped_certificate_reports_its_timestamp(org, history, pki):
    pdf = certificate_pdf(subject=history["subject"], timestamper=pki.dummy_timestamper())

    report = validate_pdf(pdf=pdf, trust_roots=[*certificate_trust_roots(org), pki.root.pem])

    assert report.intact and report.valid and report.trusted
    assert report.timestamp
    assert report.signed_at is not None


def test_text_names_every_event_the_notice_hash_and_the_person(history, tmp_path):
    text = _text(certificate_pdf(subject=history["subject"], sign=False), tmp_path)
    squeezed = _squeezed(text)

    for event in history["events"]:
        assert f"#{event.sequence}" in text
        assert event.hash in squeezed
    assert history["notice"].sha256 in squeezed
    assert SPANISH_NAME in text
    assert "Sí, acepto recibir ofertas" in text
    assert "203.0.113.7" in text
    # The annex reproduces the full notice text.
    assert history["notice"].text in text


def test_an_arabic_name_round_trips_in_the_text(org, dpo, tmp_path):
    history = _history(org, dpo, full_name=ARABIC_NAME)

    pdf = certificate_pdf(subject=history["subject"], language="ar", sign=False)

    # pypdf, not pdftotext: poppler reorders the lam + alef maksura ligature when it extracts.
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert ARABIC_NAME in text


@time_machine.travel(datetime.datetime(2026, 5, 4, 10, 30, tzinfo=datetime.UTC), tick=False)
def test_the_embedded_json_equals_the_records(history):
    subject = history["subject"]
    pdf = certificate_pdf(subject=subject, sign=False)

    embedded = json.loads(_attachment(pdf, RECORDS_FILENAME))

    assert embedded == certificate_records(subject=subject)
    assert [e["sequence"] for e in embedded["events"]] == [1, 2, 3]
    assert [e["state"] for e in embedded["events"]] == ["given", "given", "withdrawn"]
    assert embedded["ledger_verification"]["ok"] is True


def test_records_follow_the_consent_record_fields(org, history):
    records = certificate_records(subject=history["subject"])

    first, _, withdrawal = records["events"]
    assert first["record_id"] == first["hash"] == history["events"][0].hash
    assert first["notice"]["sha256"] == history["notice"].sha256
    assert first["recorded_by"] == history["events"][0].recorded_by.email
    assert first["captured_at"].endswith(("+01:00", "+02:00"))
    assert {p["kind"] for p in first["proof"]} == {"quote", "file"}
    assert withdrawal["recorded_by"] == "data subject"
    assert withdrawal["ip_address"] == "203.0.113.7"
    assert withdrawal["dpv_state"] == "dpv:ConsentWithdrawn"
    marketing = next(p for p in records["purposes"] if p["code"] == "marketing")
    assert marketing["dpv"] == {
        "purpose": "dpv:Marketing",
        "legal_basis": "dpv:Consent",
        "gdpr_legal_basis": "eu-gdpr:A6-1-a",
    }
    assert {s["purpose"]["code"]: s["state"] for s in records["current_state"]} == {
        "marketing": "withdrawn",
        "reminders": "given",
    }
    assert records["controller"]["tax_id"] == org.tax_id
    assert records["ledger_verification"]["head_sequence"] == 3
    json.dumps(records)


def test_records_for_one_purpose_hold_only_its_events(history):
    marketing = history["events"][0].purpose

    records = certificate_records(subject=history["subject"], purpose=marketing)

    assert [e["sequence"] for e in records["events"]] == [1, 3]
    assert [p["code"] for p in records["purposes"]] == ["marketing"]


def test_the_pdf_identifies_as_pdf_a_3b_before_and_after_signing(history):
    unsigned = certificate_pdf(subject=history["subject"], sign=False)
    signed = certificate_pdf(subject=history["subject"])

    for pdf in (unsigned, signed):
        with pikepdf.open(io.BytesIO(pdf)) as document:
            with document.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
                assert xmp["pdfaid:part"] == "3"
                assert xmp["pdfaid:conformance"] == "B"
                producer = xmp["pdf:Producer"]
            assert str(document.docinfo["/Producer"]) == producer
            # One associated file, listed once (WeasyPrint 70 lists it twice without the finisher).
            assert len(document.Root.AF) == 1
            assert str(document.Root.AF[0].AFRelationship) == "/Data"


@pytest.mark.parametrize("language", ["es", "en", "ar"])
def test_the_certificate_renders_in_each_language(org, history, language, tmp_path):
    pdf = certificate_pdf(subject=history["subject"], language=language, sign=False)
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)

    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    text = _text(pdf, tmp_path)

    assert SPANISH_NAME in text
    # The vendored fonts (evidence/fonts/), whatever this machine has installed.
    assert "+Constancia-Sans " in fonts.stdout
    assert ("+Constancia-Arabic " in fonts.stdout) == (language == "ar")
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert str(document.Root.Lang) == language


def test_a_png_proof_appears_as_a_thumbnail(history):
    pdf = certificate_pdf(subject=history["subject"], sign=False)

    with pikepdf.open(io.BytesIO(pdf)) as document:
        images = [image for page in document.pages for image in page.get_images().values()]

    assert images
    width = max(int(image.Width) for image in images)
    assert width <= 480  # the thumbnail, not the 640 px original


def test_the_url_fetcher_allows_data_and_static_files_only(settings, tmp_path):
    fetcher = evidence_pdf._url_fetcher()
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    stylesheet = settings.STATICFILES_DIRS[0] / "pdf" / "evidence.css"

    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    assert b"@page" in fetcher.fetch(stylesheet.as_uri()).read()
    for url in ("http://127.0.0.1:9/x.png", "https://example.com/x.png", outside.as_uri()):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_a_remote_image_in_user_text_is_never_fetched(monkeypatch):
    fetched = []

    def refuse(self, *args, **kwargs):
        fetched.append(args)
        raise AssertionError("network access")

    monkeypatch.setattr("urllib.request.OpenerDirector.open", refuse)
    html = '<html lang="en"><body><p>x</p><img src="http://127.0.0.1:9/t.png"></body></html>'

    pdf = evidence_pdf.render_pdf(
        html=html, base_url=None, attachments=[], title="t", language="en"
    )

    assert pdf.startswith(b"%PDF-")
    assert fetched == []
