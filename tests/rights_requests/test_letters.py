"""Letters rendered for real, read back and their signatures checked (rights_requests.letters)."""

import hashlib
import io
import re
import subprocess
from datetime import date, datetime

import pypdf
import pytest
import time_machine
from django.urls import reverse

from accounts.models import AuditEntry
from evidence.signing import certificate_trust_roots, validate_pdf
from rights_requests import letters, services
from rights_requests.choices import ErasureException, LetterKind, Right, SentVia
from tests.consents.factories import DataSubjectFactory
from tests.rights_requests.factories import carried_out, logged_request, verified_request

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime(2027, 2, 10, 10, 0), tick=False):
        yield


def _pdf(letter) -> bytes:
    with letter.file.open("rb") as handle:
        return handle.read()


def _pdftotext(pdf: bytes, tmp_path, *options: str) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *options, str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _text(pdf: bytes, tmp_path) -> str:
    text = _pdftotext(pdf, tmp_path)
    # pdftotext marks right-to-left runs with embeddings (U+202B ... U+202C): not our text.
    return re.sub("[\u202a-\u202e\u2066-\u2069]", "", text)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _lang(pdf: bytes) -> str:
    return str(pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Lang"])


@pytest.fixture
def spanish(org):
    return DataSubjectFactory(
        organisation=org,
        full_name="Lucía Gómez Pardo",
        phone="+34600111333",
        email="lucia@example.org",
        preferred_language="es",
    )


@pytest.fixture
def arabic(org):
    return DataSubjectFactory(
        organisation=org,
        full_name="مريم العلوي",
        phone="+34600111444",
        email="mariam@example.org",
        preferred_language="ar",
    )


def test_a_spanish_acknowledgement_is_a_signed_pdf_with_the_due_date(org, spanish, tmp_path):
    rr = logged_request(org, subject=spanish, received_on=date(2027, 1, 31))
    letter = letters.letter_create(
        rights_request=rr,
        kind=LetterKind.ACKNOWLEDGEMENT,
        body=letters.default_body(rr, LetterKind.ACKNOWLEDGEMENT),
        user=None,
    )
    pdf = _pdf(letter)
    assert hashlib.sha256(pdf).hexdigest() == letter.sha256
    assert letter.language == "es" and _lang(pdf) == "es"
    report = validate_pdf(pdf=pdf, trust_roots=certificate_trust_roots(org))
    assert report.signed and report.intact and report.valid and report.trusted
    text = _flat(_text(pdf, tmp_path))
    assert "Lucía Gómez Pardo" in text
    assert rr.reference in text
    assert "NIF/CIF" in text  # the letterhead in Spanish
    assert "1 mar 2027" in text  # due: 28 February 2027 is a Sunday


def test_an_arabic_letter_is_right_to_left_and_signed(org, arabic, tmp_path):
    rr = logged_request(org, subject=arabic, email=arabic.email)
    assert rr.language == "ar"
    body = "نؤكد استلام طلبكم."
    letter = letters.letter_create(
        rights_request=rr, kind=LetterKind.ACKNOWLEDGEMENT, body=body, user=None
    )
    pdf = _pdf(letter)
    assert _lang(pdf) == "ar"
    report = validate_pdf(pdf=pdf, trust_roots=certificate_trust_roots(org))
    assert report.intact and report.valid and report.trusted
    text = _text(pdf, tmp_path)
    # pdftotext moves the final full stop ahead and spells the lam-alef ligature back wrongly.
    assert "نؤكد" in text and "طلبكم" in text
    assert "مريم العلوي" in text
    assert "الرقم الضريبي" in text  # "Tax id" in Arabic
    # The reference and the e-mail keep their left-to-right order inside the Arabic page.
    assert rr.reference in text
    assert "mariam@example.org" in text
    # Right to left: the paragraph is set against the right margin of the A4 page (595 pt).
    assert _word_left_edge(pdf, tmp_path, "نؤكد") > 300


def _word_left_edge(pdf: bytes, tmp_path, word: str) -> float:
    layout = _pdftotext(pdf, tmp_path, "-bbox")
    # -bbox lists the glyphs of a right-to-left word as drawn, left to right: reversed.
    (x_min,) = re.findall(rf'<word xMin="([\d.]+)"[^>]*>{word[::-1]}</word>', layout)
    return float(x_min)


def test_a_refusal_gives_the_reasons_and_the_aepd(org, spanish, dpo, tmp_path):
    rr = logged_request(org, subject=spanish)
    letter = services.request_reject(
        rights_request=rr,
        reason="No nos ha enviado ningún documento que permita identificarle.",
        user=dpo,
        sent_via=SentVia.POST,
    )
    text = _flat(_text(_pdf(letter), tmp_path))
    assert "No nos ha enviado ningún documento que permita identificarle." in text
    assert "Agencia Española de Protección de Datos" in text
    assert "C/ Jorge Juan, 6, 28001 Madrid" in text
    assert "sede.aepd.gob.es" in text
    assert "art. 12.4" in text  # the Spanish way of citing GDPR Art. 12(4)


def test_an_extension_notice_names_the_new_due_date_and_the_reason(org, spanish, dpo, tmp_path):
    rr = verified_request(org, subject=spanish, received_on=date(2027, 1, 31))
    letter = services.request_extend(
        rights_request=rr,
        months=2,
        reason="Historial en tres sistemas distintos.",
        user=dpo,
        sent_via=SentVia.WHATSAPP,
    )
    text = _flat(_text(_pdf(letter), tmp_path))
    assert "30 abr 2027" in text
    assert "Historial en tres sistemas distintos." in text
    assert "art. 12.3" in text


def test_an_answer_names_what_was_done_or_the_exception(org, spanish, dpo, tmp_path):
    rr = verified_request(org, subject=spanish, right=Right.ACCESS)
    carried_out(rr, dpo, summary="Copia de sus datos entregada en PDF y JSON.")
    letter = services.request_answer(
        rights_request=rr, answer="Adjuntamos sus datos.", user=dpo, sent_via=SentVia.IN_PERSON
    )
    text = _flat(_text(_pdf(letter), tmp_path))
    assert "Adjuntamos sus datos." in text
    assert "Copia de sus datos entregada en PDF y JSON." in text

    erasure = verified_request(org, subject=spanish, right=Right.ERASURE)
    letter = services.request_answer(
        rights_request=erasure,
        answer="Conservamos su historia clínica.",
        user=dpo,
        sent_via=SentVia.POST,
        erasure_exception=ErasureException.LEGAL_OBLIGATION,
    )
    assert "art. 17.3.b" in _flat(_text(_pdf(letter), tmp_path))


def test_a_letter_downloads_as_an_attachment_and_the_copy_is_on_record(
    client_for, org, staff, spanish
):
    rr = logged_request(org, subject=spanish)
    letter = letters.letter_create(
        rights_request=rr, kind=LetterKind.ACKNOWLEDGEMENT, body="Recibida.", user=None
    )
    url = reverse("rights_requests:letter", args=[org.slug, rr.pk, letter.pk])
    response = client_for(staff).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == letter.sha256
    entry = AuditEntry.objects.get(action=AuditEntry.Action.DOWNLOADED, register="requestletter")
    assert entry.user == staff


def test_a_letter_is_sent_once(org, spanish):
    rr = logged_request(org, subject=spanish)
    letter = letters.letter_create(
        rights_request=rr, kind=LetterKind.IDENTITY, body="Envíe su DNI.", user=None
    )
    letters.letter_send(letter=letter, via=SentVia.WHATSAPP, user=None)
    with pytest.raises(letters.ValidationError, match="sent already"):
        letters.letter_send(letter=letter, via=SentVia.EMAIL, user=None)
