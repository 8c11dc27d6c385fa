"""Signing certificates (stored encrypted), PAdES signatures and their validation."""

import asyncio
import datetime

import pytest
from cryptography import x509
from cryptography.fernet import InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import AuditEntry
from evidence import signing
from evidence.models import SigningCertificate
from evidence.pdf import render_pdf
from evidence.signing import (
    active_certificate,
    certificate_for_signing,
    certificate_generate_self_signed,
    certificate_trust_roots,
    certificate_upload,
    decrypt,
    encrypt,
    sign_pdf,
    validate_pdf,
)
from tests.evidence.conftest import SIGNER_P12_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def small_pdf():
    return render_pdf(
        html='<html lang="en"><body><p>Evidence</p></body></html>',
        base_url=None,
        attachments=[("data.json", b'{"a": 1}', "application/json")],
        title="Evidence",
        language="en",
    )


def _open(record: SigningCertificate):
    return pkcs12.load_key_and_certificates(
        decrypt(record.pkcs12_encrypted), decrypt(record.password_encrypted)
    )


def test_encryption_round_trips_and_needs_the_same_key(settings):
    token = encrypt(b"secret material")

    assert decrypt(token) == b"secret material"
    assert b"secret material" not in token
    settings.EVIDENCE_ENCRYPTION_KEY = "another key"
    with pytest.raises(InvalidToken):
        decrypt(token)


def test_a_self_signed_certificate_is_stored_encrypted(org, dpo):
    record = certificate_generate_self_signed(organisation=org, created_by=dpo)

    key, certificate, _ = _open(record)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    stored = bytes(record.pkcs12_encrypted) + bytes(record.password_encrypted)
    assert b"PRIVATE KEY" not in stored and key_der not in stored
    assert b"PRIVATE KEY" not in record.certificate_pem.encode()
    assert key_pem.startswith(b"-----BEGIN PRIVATE KEY")
    assert record.self_signed and record.active and record.created_by == dpo
    assert record.subject_name == org.legal_name
    assert record.fingerprint_sha256 == certificate.fingerprint(hashes.SHA256()).hex()
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    assert record.not_after - record.not_before > datetime.timedelta(days=3 * 365 - 2)
    assert key.key_size == 3072


def test_a_new_certificate_deactivates_the_previous_one(org):
    first = certificate_generate_self_signed(organisation=org)
    second = certificate_generate_self_signed(organisation=org)

    first.refresh_from_db()
    assert not first.active and second.active
    assert active_certificate(org) == second
    assert SigningCertificate.objects.filter(organisation=org).count() == 2


def test_the_first_export_of_a_trial_organisation_makes_one_certificate(org, other_org):
    assert active_certificate(org) is None

    first = certificate_for_signing(org)
    again = certificate_for_signing(org)

    assert first == again and first.self_signed
    assert SigningCertificate.objects.filter(organisation=org).count() == 1
    assert active_certificate(other_org) is None


def test_a_self_signed_certificate_signs_a_trusted_pades_signature(org, small_pdf):
    record = certificate_generate_self_signed(organisation=org)

    signed = sign_pdf(pdf=small_pdf, certificate=record, reason="Test", location="Madrid")

    assert signed.startswith(small_pdf)  # an incremental update keeps the original bytes
    report = validate_pdf(pdf=signed, trust_roots=certificate_trust_roots(org))
    assert report.intact and report.valid and report.trusted and report.coverage_entire_file
    assert report.signer == org.legal_name
    assert not report.timestamp


def test_a_certificate_is_opened_once_per_process_and_every_signature_holds(
    org, small_pdf, monkeypatch
):
    record = certificate_generate_self_signed(organisation=org)
    opened = []
    real = signing._open_signer
    monkeypatch.setattr(signing, "_open_signer", lambda c: opened.append(c.pk) or real(c))

    signed = [sign_pdf(pdf=small_pdf, certificate=record, reason="Test") for _ in range(3)]
    replacement = certificate_generate_self_signed(organisation=org)
    signed.append(sign_pdf(pdf=small_pdf, certificate=replacement, reason="Test"))

    assert opened == [record.pk, replacement.pk]
    for document in signed:
        report = validate_pdf(pdf=document, trust_roots=certificate_trust_roots(org))
        assert report.intact and report.valid and report.trusted


def test_signing_and_validating_work_where_an_event_loop_is_running(org, small_pdf):
    # As after Playwright's sync API in this process, or in an async view: pyHanko's sync API
    # calls asyncio.run(), which a running loop refuses.
    record = certificate_generate_self_signed(organisation=org)
    roots = certificate_trust_roots(org)

    async def inside_a_loop():
        signed = sign_pdf(pdf=small_pdf, certificate=record, reason="Test")
        return signed, validate_pdf(pdf=signed, trust_roots=roots)

    signed, report = asyncio.run(inside_a_loop())
    assert signed.startswith(small_pdf) and report.valid and report.trusted


def test_an_unsigned_pdf_is_reported_unsigned(small_pdf):
    report = validate_pdf(pdf=small_pdf)

    assert not report.signed and not report.intact


def test_garbage_is_reported_not_a_pdf_without_raising():
    report = validate_pdf(pdf=b"not a pdf at all")

    assert not report.signed and report.errors


def test_another_organisations_certificate_is_not_trusted(org, other_org, small_pdf):
    record = certificate_generate_self_signed(organisation=org)
    certificate_generate_self_signed(organisation=other_org)
    signed = sign_pdf(pdf=small_pdf, certificate=record, reason="Test")

    report = validate_pdf(pdf=signed, trust_roots=certificate_trust_roots(other_org))

    assert report.intact and not report.trusted


def test_an_uploaded_pkcs12_signs_and_chains_to_its_root(org, dpo, pki, small_pdf):
    record = certificate_upload(
        organisation=org,
        pkcs12_data=pki.pkcs12(pki.signer),
        password=SIGNER_P12_PASSWORD,
        uploaded_by=dpo,
    )

    assert not record.self_signed and record.active
    assert record.subject_name == "Clínica Dental Norte S.L."
    assert record.issuer_name == "Test Root CA"
    assert pki.root.pem in record.certificate_pem  # the chain is kept
    signed = sign_pdf(pdf=small_pdf, certificate=record, reason="Test")
    assert validate_pdf(pdf=signed, trust_roots=[pki.root.pem]).trusted


def test_an_upload_replaces_the_active_self_signed_certificate(org, pki):
    trial = certificate_for_signing(org)

    uploaded = certificate_upload(
        organisation=org, pkcs12_data=pki.pkcs12(pki.signer), password=SIGNER_P12_PASSWORD
    )

    trial.refresh_from_db()
    assert not trial.active and active_certificate(org) == uploaded


def test_a_timestamped_signature_is_b_t(org, pki, small_pdf):
    record = certificate_generate_self_signed(organisation=org)

    signed = sign_pdf(
        pdf=small_pdf, certificate=record, reason="Test", timestamper=pki.dummy_timestamper()
    )

    report = validate_pdf(pdf=signed, trust_roots=[record.certificate_pem, pki.root.pem])
    assert report.timestamp and report.trusted and report.signed_at is not None


def _bad_uploads(pki):
    certificate_only = pkcs12.serialize_key_and_certificates(
        b"x",
        None,
        pki.signer.cert,
        None,
        serialization.BestAvailableEncryption(SIGNER_P12_PASSWORD.encode()),
    )
    return {
        "wrong password": (pki.pkcs12(pki.signer), "wrong", "password"),
        "garbage": (b"\x00garbage" * 50, SIGNER_P12_PASSWORD, "not a PKCS#12"),
        "a PEM file": (pki.signer.pem.encode(), SIGNER_P12_PASSWORD, "not a PKCS#12"),
        "empty": (b"", SIGNER_P12_PASSWORD, "not a PKCS#12"),
        "expired": (pki.pkcs12(pki.expired_signer), SIGNER_P12_PASSWORD, "expired on 2020-12-31"),
        "no signing usage": (
            pki.pkcs12(pki.no_signing_usage),
            SIGNER_P12_PASSWORD,
            "neither digitalSignature nor nonRepudiation",
        ),
        "no private key": (certificate_only, SIGNER_P12_PASSWORD, "not its private key"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "wrong password",
        "garbage",
        "a PEM file",
        "empty",
        "expired",
        "no signing usage",
        "no private key",
    ],
)
def test_a_bad_upload_is_refused_with_a_clear_message_and_stores_nothing(org, pki, case):
    data, password, message = _bad_uploads(pki)[case]

    with pytest.raises(ValidationError) as refused:
        certificate_upload(organisation=org, pkcs12_data=data, password=password)

    assert message in " ".join(refused.value.messages)
    assert not SigningCertificate.objects.exists()


# --- audit of certificate changes (invariant 6) ---------------------------------------------


def _certificate_entries(org):
    return list(
        AuditEntry.objects.filter(organisation=org, register="signingcertificate").order_by("pk")
    )


def test_changing_the_signing_certificate_is_audited_with_the_one_it_replaced(org, dpo, pki):
    trial = certificate_for_signing(org)  # made by the system on a first export
    uploaded = certificate_upload(
        organisation=org,
        pkcs12_data=pki.pkcs12(pki.signer),
        password=SIGNER_P12_PASSWORD,
        uploaded_by=dpo,
    )

    made, replaced = _certificate_entries(org)
    assert (made.user, made.action, made.object_id) == (None, "created", str(trial.pk))
    assert made.changes[0] == {
        "field": "fingerprint_sha256",
        "old": "",
        "new": trial.fingerprint_sha256,
    }
    assert (replaced.user, replaced.action, replaced.object_id) == (
        dpo,
        "created",
        str(uploaded.pk),
    )
    assert replaced.changes[0] == {
        "field": "fingerprint_sha256",
        "old": trial.fingerprint_sha256,
        "new": uploaded.fingerprint_sha256,
    }
    assert replaced.object_repr.startswith("Clínica Dental Norte S.L. (")


def test_a_refused_upload_leaves_no_audit_entry(org, dpo, pki):
    with pytest.raises(ValidationError):
        certificate_upload(
            organisation=org, pkcs12_data=pki.pkcs12(pki.signer), password="wrong", uploaded_by=dpo
        )
    assert _certificate_entries(org) == []


def test_the_signing_page_audits_who_generated_a_certificate_and_from_where(client_for, org, dpo):
    client_for(dpo).post(
        reverse("evidence:signing", kwargs={"org_slug": org.slug}),
        {"generate": "1"},
        REMOTE_ADDR="198.51.100.4",
    )
    (entry,) = _certificate_entries(org)
    assert (entry.user, entry.ip_address) == (dpo, "198.51.100.4")
    assert entry.object_id == str(SigningCertificate.objects.get(organisation=org).pk)
