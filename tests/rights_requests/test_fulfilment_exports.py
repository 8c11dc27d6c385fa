"""Access (GDPR Art. 15) and portability (Art. 20): jobs that build the person's copy, read back."""

import csv
import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from pypdf import PdfReader

from consents import services
from consents.models import ConsentEvent, ProofFile, PurposeCategory
from evidence.signing import certificate_trust_roots, validate_pdf
from jobs.models import Job
from rights_requests import exports, fulfilment
from rights_requests.choices import Right
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice
from tests.rights_requests.fulfil_factories import group_member, rights_request

pytestmark = pytest.mark.django_db

PROOF_PDF = b"%PDF-1.4\n% a signed consent form\n"


def _person(org, *, name, phone, language, staff=None):
    marketing = PurposeFactory(organisation=org, code="offers", name="Ofertas")
    citas = PurposeFactory(
        organisation=org, code="citas", name="Citas", category=PurposeCategory.APPOINTMENTS
    )
    notice = published_notice(
        purposes=[marketing, citas],
        title="Aviso de privacidad",
        text="Responsable: Clínica. Destinatarios: WhatsApp. Conservación: 24 meses.",
        informs_international_transfers=True,
        transfer_safeguards="Estados Unidos, EU-US Data Privacy Framework.",
    )
    subject = DataSubjectFactory(
        organisation=org,
        full_name=name,
        phone=phone,
        email="persona@example.org",
        preferred_language=language,
        notes="Prefiere que le escriban por la tarde.",
    )
    proof = services.proof_create(organisation=org, subject=subject, quote="Sí, acepto 👍")
    record = ProofFile(
        organisation=org,
        proof=proof,
        original_name="consentimiento.pdf",
        content_type="application/pdf",
        size=len(PROOF_PDF),
        sha256=__import__("hashlib").sha256(PROOF_PDF).hexdigest(),
    )
    record.file.save("x.pdf", ContentFile(PROOF_PDF), save=True)
    grant(subject, marketing, notice, proof=proof, recorded_by=staff)
    grant(subject, citas, notice, channel="web_form", by_subject=True, ip_address="203.0.113.7")
    from tests.consents.factories import withdraw

    withdraw(subject, marketing)
    group_member(subject, group_name="Pacientes de ortodoncia")
    return subject, record


def _run(request, user, start, django_capture_on_commit_callbacks) -> Job:
    with django_capture_on_commit_callbacks(execute=True):
        job = start(rights_request=request, user=user)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    return job


@pytest.mark.parametrize(
    ("language", "name", "phone"),
    [("es", "Lucía Pérez", "+34612345678"), ("ar", "مريم العلوي", "+34611222333")],
)
def test_the_access_copy_is_a_signed_pdf_in_the_persons_language_listing_every_event(
    org, dpo, language, name, phone, django_capture_on_commit_callbacks
):
    subject, proof_file = _person(org, name=name, phone=phone, language=language, staff=dpo)
    request = rights_request(subject, Right.ACCESS)

    job = _run(request, dpo, fulfilment.access_export_start, django_capture_on_commit_callbacks)

    archive = zipfile.ZipFile(job.result.path)
    names = set(archive.namelist())
    assert {"access-report.pdf", "data.json", "SHA256SUMS", "csv/consent-events.csv"} <= names
    assert f"proofs/{proof_file.sha256}.pdf" in names
    assert archive.read(f"proofs/{proof_file.sha256}.pdf") == PROOF_PDF
    # SHA256SUMS covers every other file.
    sums = dict(line.split("  ")[::-1] for line in archive.read("SHA256SUMS").decode().splitlines())
    assert set(sums) == names - {"SHA256SUMS"}

    data = json.loads(archive.read("data.json"))
    ledger = list(ConsentEvent.objects.filter(subject=subject).order_by("sequence"))
    assert [e["sequence"] for e in data["consent_events"]] == [e.sequence for e in ledger]
    assert [e["hash"] for e in data["consent_events"]] == [e.hash for e in ledger]
    assert data["data_subject"]["full_name"] == name
    assert data["data_subject"]["phone"] == phone
    assert data["data_subject"]["notes"].startswith("Prefiere")
    assert data["notices"][0]["text"].startswith("Responsable")
    assert data["consent_events"][0]["proof_kept"]["quote"] == "Sí, acepto 👍"
    assert data["consent_events"][0]["recorded_by"] == "controller"  # no staff e-mail
    assert dpo.email not in json.dumps(data)
    info = data["information"]
    assert {p["code"] for p in info["purposes"]} == {"offers", "citas"}
    assert info["international_transfers"][0]["safeguards"].startswith("Estados Unidos")
    assert any(r["code"] == "whatsapp" for r in info["recipients"])
    assert info["complaint"]["web"] == "https://www.aepd.es"
    assert info["retention_months"] == {"citas": 24, "offers": 24}
    assert data["group_memberships"][0]["group"] == "Pacientes de ortodoncia"
    assert data["rights_requests"][0]["reference"] == request.reference

    rows = list(
        csv.DictReader(io.StringIO(archive.read("csv/consent-events.csv").decode("utf-8-sig")))
    )
    assert [int(r["sequence"]) for r in rows] == [e.sequence for e in ledger]

    pdf = archive.read("access-report.pdf")
    report = validate_pdf(pdf=pdf, trust_roots=certificate_trust_roots(org))
    assert report.intact and report.valid and report.trusted, report.summary
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    for event in ledger:
        assert f"#{event.sequence}" in text
    assert "Estados Unidos" in text and "www.aepd.es" in text
    embedded = json.loads(reader.attachments["data.json"][0])
    assert [e["sequence"] for e in embedded["consent_events"]] == [e.sequence for e in ledger]
    assert reader.trailer["/Root"]["/Lang"] == language

    request.refresh_from_db()
    assert request.carried_out["job"] == job.pk
    assert request.carried_out["sha256"] == job.result_sha256
    assert request.carried_out["counts"]["events"] == len(ledger)
    assert request.carried_out["counts"]["proof_files"] == 1
    assert name not in job.description and phone not in job.description


def test_the_arabic_copy_reads_right_to_left(org, dpo):
    subject, _record = _person(org, name="مريم العلوي", phone="+34611222333", language="ar")
    request = rights_request(subject, Right.ACCESS)
    from django.utils import translation

    with translation.override("ar"):
        data = exports.access_data(request, generated_at=timezone.now())
    pdf = exports.access_pdf(rights_request=request, data=data, language="ar", sign=False)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "مريم العلوي" in text
    html = __import__("django.template.loader", fromlist=["x"]).render_to_string(
        "rights_requests/fulfilment/access_pdf.html",
        {
            "language": "ar",
            "direction": "rtl",
            "data": data,
            "identity": data["data_subject"],
            "info": data["information"],
            "events": [],
            "organisation": org,
            "rights_request": request,
        },
    )
    assert 'dir="rtl"' in html and 'lang="ar"' in html


def test_a_second_export_is_refused_while_one_is_prepared(org, dpo):
    subject, _record = _person(org, name="Lucía", phone="+34612345678", language="es")
    request = rights_request(subject, Right.ACCESS)
    fulfilment.access_export_start(rights_request=request, user=dpo)  # not run: no commit
    with pytest.raises(Exception, match="being prepared already"):
        fulfilment.access_export_start(rights_request=request, user=dpo)
    request.refresh_from_db()
    assert request.carried_out_at is None


def test_portability_holds_what_the_person_provided_and_nothing_else(
    org, dpo, django_capture_on_commit_callbacks
):
    subject, proof_file = _person(org, name="Lucía Pérez", phone="+34612345678", language="es")
    request = rights_request(subject, Right.PORTABILITY)

    job = _run(
        request, dpo, fulfilment.portability_export_start, django_capture_on_commit_callbacks
    )

    archive = zipfile.ZipFile(job.result.path)
    data = json.loads(archive.read("data.json"))
    assert data["identity"] == {
        "full_name": "Lucía Pérez",
        "phone": "+34612345678",
        "email": "persona@example.org",
        "preferred_language": "es",
        "guardian_name": "",
    }
    answers = [(a["purpose"], a["answer"]) for a in data["consent_answers"]]
    assert answers == [("offers", "granted"), ("citas", "granted"), ("offers", "withdrawn")]
    assert data["proofs"][0]["quote"] == "Sí, acepto 👍"
    assert f"proofs/{proof_file.sha256}.pdf" in archive.namelist()
    assert "Prefiere" not in archive.read("data.json").decode()  # staff notes are not theirs
    identity = archive.read("identity.csv").decode("utf-8-sig")
    assert "Lucía Pérez" in identity
    request.refresh_from_db()
    assert request.carried_out["counts"] == {"consent_answers": 3, "proof_files": 1}
