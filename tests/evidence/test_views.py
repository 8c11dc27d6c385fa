"""Evidence pages through the real client: certificate request to download, packs, verification."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditEntry
from evidence.models import SigningCertificate
from jobs.models import Job
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice
from tests.evidence.conftest import SIGNER_P12_PASSWORD

pytestmark = pytest.mark.django_db


JOB_PAGES = {
    "exports": "jobs:list",
    "export_status": "jobs:status",
    "export_download": "jobs:download",
}


def url(name, org, **kwargs):
    # The Exports page and its rows moved to the jobs app with the job machinery.
    return reverse(JOB_PAGES.get(name, f"evidence:{name}"), kwargs={"org_slug": org.slug, **kwargs})


@pytest.fixture
def subject(org):
    purpose = PurposeFactory(organisation=org, code="marketing", name="Promociones")
    notice = published_notice(purposes=[purpose])
    person = DataSubjectFactory(organisation=org, full_name="Lucía Pérez")
    grant(person, purpose, notice)
    return person


def test_the_dpo_asks_for_a_certificate_and_downloads_it_once_done(
    client_for, org, dpo, subject, django_capture_on_commit_callbacks
):
    client = client_for(dpo)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("certificate", org, pk=subject.pk), {"language": "es"})
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.status == Job.Status.DONE, job.error
    page = client.get(url("exports", org)).content.decode()
    assert 'data-status="done"' in page and "Lucía Pérez" in page
    download = client.get(url("export_download", org, pk=job.pk))
    assert download["Content-Disposition"].startswith("attachment;")
    pdf = b"".join(download.streaming_content)
    assert pdf.startswith(b"%PDF-")
    assert AuditEntry.objects.filter(action="downloaded", register="job").count() == 1
    assert AuditEntry.objects.filter(action="exported", register="job").count() == 1

    verified = client.post(url("verify", org), {"file": SimpleUploadedFile("c.pdf", pdf)})
    assert 'data-testid="verify-result"' in verified.content.decode()
    assert verified.context["report"].ok
    tampered = bytearray(pdf)
    tampered[len(pdf) // 2] ^= 0x01
    refused = client.post(
        url("verify", org), {"file": SimpleUploadedFile("c.pdf", bytes(tampered))}
    )
    assert not refused.context["report"].ok
    page = refused.content.decode()
    assert "Verification failed" in page and "changed after signing" in page
    assert "not one of ours" not in page
    # Verifying is on record as what it is, not as an export nobody made (structure issue).
    verifications = AuditEntry.objects.filter(action=AuditEntry.Action.VERIFIED).order_by("pk")
    assert [(e.register, e.object_repr, e.user) for e in verifications] == [
        ("consentevent", "c.pdf: OK", dpo),
        ("consentevent", "c.pdf: FAILED", dpo),
    ]
    assert not AuditEntry.objects.filter(register="exportjob", action="recorded").exists()


def test_a_running_job_row_polls_and_a_finished_one_stops(client_for, org, auditor):
    job = Job.objects.create(organisation=org, kind="pack", progress_total=10)
    row = client_for(auditor).get(url("export_status", org, pk=job.pk)).content.decode()
    assert 'hx-trigger="every 2s"' in row
    Job.objects.filter(pk=job.pk).update(status="failed", error="disk full")
    row = client_for(auditor).get(url("export_status", org, pk=job.pk)).content.decode()
    assert "hx-trigger" not in row and "disk full" in row


def test_an_unfinished_or_foreign_job_has_nothing_to_download(client_for, org, other_org, dpo):
    job = Job.objects.create(organisation=org, kind="pack")
    foreign = Job.objects.create(organisation=other_org, kind="pack")
    client = client_for(dpo)
    assert client.get(url("export_download", org, pk=job.pk)).status_code == 404
    assert client.get(url("export_download", org, pk=foreign.pk)).status_code == 404


def test_the_pack_form_refuses_unknown_people_and_backwards_dates(client_for, org, dpo, subject):
    client = client_for(dpo)
    response = client.post(url("pack", org), {"subjects": "611 000 000"})
    assert "None of these people is on record" in response.content.decode()
    response = client.post(url("pack", org), {"date_from": "2026-12-01", "date_to": "2026-01-01"})
    assert "The end date is before the start date" in response.content.decode()
    assert not Job.objects.exists()


def test_a_file_that_is_neither_pdf_nor_zip_is_reported_and_nothing_checked(client_for, org, dpo):
    response = client_for(dpo).post(
        url("verify", org), {"file": SimpleUploadedFile("x.txt", b"hello")}
    )
    assert not response.context["report"].ok
    assert "It is neither" in response.content.decode()


def test_the_dpo_uploads_a_pkcs12_and_a_wrong_password_changes_nothing(client_for, org, dpo, pki):
    client = client_for(dpo)
    bundle = pki.pkcs12(pki.signer)
    response = client.post(
        url("signing", org),
        {"pkcs12": SimpleUploadedFile("firma.p12", bundle), "password": "wrong"},
    )
    assert response.status_code == 200 and not SigningCertificate.objects.exists()
    assert "password" in response.content.decode().lower()
    response = client.post(
        url("signing", org),
        {"pkcs12": SimpleUploadedFile("firma.p12", bundle), "password": SIGNER_P12_PASSWORD},
    )
    assert response.status_code == 302
    certificate = SigningCertificate.objects.get(active=True)
    assert not certificate.self_signed
    assert b"PRIVATE KEY" not in bytes(certificate.pkcs12_encrypted)


def test_the_dpo_generates_a_trial_certificate_which_replaces_the_active_one(client_for, org, dpo):
    client = client_for(dpo)
    client.post(url("signing", org), {"generate": "1"})
    client.post(url("signing", org), {"generate": "1"})
    assert SigningCertificate.objects.filter(organisation=org).count() == 2
    assert SigningCertificate.objects.filter(organisation=org, active=True).count() == 1
