"""The organisation signs checkpoints of its chain head, and checks the ones brought back.

A checkpoint (consents.checkpoints) is a canonical JSON statement {organisation, sequence,
head hash, time} with a detached CMS (PKCS#7) signature made with the organisation's signing
certificate (evidence.signing), plus an RFC 3161 timestamp token over the statement when
settings.TSA_URL is set. Anyone can check one with OpenSSL:

    openssl cms -verify -binary -inform DER -in checkpoint.p7s -content checkpoint.json \\
        -purpose any -CAfile signer-certificate.pem -out /dev/null

A copy leaves the database as soon as it is signed: a file in CHECKPOINT_EXPORT_DIR, one in the
bucket of CHECKPOINT_EXPORT_BUCKET and, with CHECKPOINT_EMAIL, an e-mail to the DPO. Sync only
where a timestamp is fetched (asyncio.run).
"""

import asyncio
import base64
import binascii
import datetime
import hashlib
import json
import logging
from pathlib import Path

from asn1crypto import (
    cms,
    tsp,  # noqa: F401 (registers tst_info, the content type of RFC 3161 tokens)
)
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.mail import EmailMessage
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organisation
from consents import checkpoints
from consents.models import IntegrityCheck, LedgerCheckpoint

from .models import SigningCertificate
from .signing import certificate_for_signing, decrypt

logger = logging.getLogger(__name__)

# A bundle is about 4 KB; anything far larger is not one of ours.
UPLOAD_LIMIT = 64 * 1024


def _key_and_certificates(certificate: SigningCertificate):
    bundle = pkcs12.load_key_and_certificates(
        decrypt(certificate.pkcs12_encrypted), decrypt(certificate.password_encrypted)
    )
    key, leaf, chain = bundle
    return key, leaf, list(chain or [])


def _timestamp(statement: bytes, timestamper) -> bytes:
    from pyhanko.sign.timestamps import HTTPTimeStamper

    if timestamper is None and settings.TSA_URL:
        timestamper = HTTPTimeStamper(settings.TSA_URL, timeout=30)
    if timestamper is None:
        return b""
    digest = hashlib.sha256(statement).digest()
    return asyncio.run(timestamper.async_timestamp(digest, "sha256")).dump()


def checkpoint_sign(
    *,
    organisation: Organisation,
    sequence: int,
    head_hash: str,
    triggered_by: str = "",
    timestamper=None,
) -> LedgerCheckpoint:
    """Sign and keep a checkpoint of the chain at #sequence (GDPR Art. 5(1)(f) and 5(2): the
    record's integrity, demonstrable), then send copies outside the database.

    The caller has just verified the chain up to this head (ledger_verify). The certificate is
    the organisation's active one, or a new self-signed one on first use, as for PDFs.
    """
    certificate = certificate_for_signing(organisation)
    key, leaf, chain = _key_and_certificates(certificate)
    at = timezone.now().replace(microsecond=0)
    statement = checkpoints.statement_bytes(
        organisation=organisation, sequence=sequence, head_hash=head_hash, at=at
    )
    # Two verifications within one second state the same thing: one checkpoint says it.
    same = LedgerCheckpoint.objects.filter(
        organisation=organisation, statement=statement.decode("utf-8")
    ).first()
    if same is not None:
        return same
    builder = (
        pkcs7.PKCS7SignatureBuilder().set_data(statement).add_signer(leaf, key, hashes.SHA256())
    )
    for extra in chain:
        builder = builder.add_certificate(extra)
    signature = builder.sign(
        serialization.Encoding.DER,
        [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
    )
    checkpoint = LedgerCheckpoint.objects.create(
        organisation=organisation,
        sequence=sequence,
        head_hash=head_hash,
        signed_at=at,
        statement=statement.decode("utf-8"),
        signature=signature,
        timestamp_token=_timestamp(statement, timestamper),
        certificate_pem=certificate.certificate_pem,
        certificate_fingerprint=certificate.fingerprint_sha256,
        triggered_by=triggered_by[:60],
    )
    _export(checkpoint)
    _email(checkpoint)
    return checkpoint


def checkpoint_after_verification(check: IntegrityCheck) -> LedgerCheckpoint | None:
    """The signer consents.checkpoints calls after every successful verification.

    A verification must still be recorded when signing fails (a certificate the current
    EVIDENCE_ENCRYPTION_KEY cannot open, a TSA that does not answer): the failure is logged
    and the page shows no new checkpoint.
    """
    try:
        return checkpoint_sign(
            organisation=check.organisation,
            sequence=check.head_sequence,
            head_hash=check.head_hash,
            triggered_by=check.triggered_by,
        )
    except Exception:
        logger.exception("No checkpoint signed for organisation %s", check.organisation_id)
        return None


def _export(checkpoint: LedgerCheckpoint) -> None:
    """One file per checkpoint in CHECKPOINT_EXPORT_DIR/<organisation>/ and in the bucket of
    CHECKPOINT_EXPORT_BUCKET (the storage "checkpoints"), never overwritten. A place that cannot
    be written to is logged: the checkpoint is signed and kept in the database all the same."""
    if settings.CHECKPOINT_EXPORT_DIR:
        _export_to_directory(checkpoint)
    if "checkpoints" in settings.STORAGES:
        _export_to_storage(checkpoint)


def _export_to_storage(checkpoint: LedgerCheckpoint) -> None:
    name = f"{checkpoint.organisation.slug}/{checkpoint.file_stem}.json"
    try:
        storage = storages["checkpoints"]
        if storage.exists(name):  # the same checkpoint, written before: keep the first copy
            return
        storage.save(name, ContentFile(checkpoints.bundle_bytes(checkpoint)))
    except Exception:  # boto3 raises its own errors (credentials, endpoint, permissions)
        logger.exception("Checkpoint %s not written to the checkpoints storage", checkpoint.pk)


def _export_to_directory(checkpoint: LedgerCheckpoint) -> None:
    folder = Path(settings.CHECKPOINT_EXPORT_DIR) / checkpoint.organisation.slug
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{checkpoint.file_stem}.json", "xb") as out:
            out.write(checkpoints.bundle_bytes(checkpoint))
    except FileExistsError:
        pass
    except OSError:
        logger.exception("Checkpoint %s not written to %s", checkpoint.pk, folder)


def _dpo_addresses(organisation: Organisation) -> list[str]:
    addresses = {organisation.dpo_email} if organisation.dpo_email else set()
    addresses |= set(
        Membership.objects.filter(organisation=organisation, role="dpo")
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    return sorted(addresses)


def _email(checkpoint: LedgerCheckpoint) -> None:
    if not settings.CHECKPOINT_EMAIL:
        return
    organisation = checkpoint.organisation
    recipients = _dpo_addresses(organisation)
    if not recipients:
        return
    message = EmailMessage(
        subject=_("Ledger checkpoint #%(n)s of %(org)s")
        % {"n": checkpoint.sequence, "org": organisation.legal_name},
        body=_(
            "Attached is the signed checkpoint of the consent ledger of %(org)s: the chain stood "
            "at #%(n)s with hash %(hash)s on %(when)s. Keep it: uploaded on the Ledger integrity "
            "page, it shows whether events were removed since."
        )
        % {
            "org": organisation.legal_name,
            "n": checkpoint.sequence,
            "hash": checkpoint.head_hash,
            "when": checkpoint.signed_at.isoformat(),
        },
        to=recipients,
    )
    message.attach(
        f"{checkpoint.file_stem}.json", checkpoints.bundle_bytes(checkpoint), "application/json"
    )
    try:
        message.send()
    except OSError:
        logger.exception("Checkpoint %s not e-mailed", checkpoint.pk)


# --- a checkpoint brought back ----------------------------------------------------------------


def _refuse(message: str, code: str):
    raise ValidationError(message, code=code)


def _decode(value, name: str) -> bytes:
    if not isinstance(value, str):
        _refuse(_("The checkpoint file has no %(name)s.") % {"name": name}, "incomplete")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        _refuse(_("The checkpoint file has no %(name)s.") % {"name": name}, "incomplete")


def signature_verify(*, organisation: Organisation, statement: bytes, signature: bytes) -> bytes:
    """The DER of the certificate that signed, if ``signature`` is a CMS signature over
    ``statement`` by one of the certificates the organisation ever signed with
    (SigningCertificate rows); ValidationError otherwise."""
    from pyhanko.sign.validation.generic_cms import validate_sig_integrity

    known = set(
        SigningCertificate.objects.filter(organisation=organisation).values_list(
            "fingerprint_sha256", flat=True
        )
    )
    try:
        info = cms.ContentInfo.load(signature)
        signed = info["content"] if info["content_type"].native == "signed_data" else None
        signers = list(signed["signer_infos"]) if signed is not None else []
        candidates = (
            [
                c.chosen
                for c in signed["certificates"] or []
                if isinstance(c.chosen, asn1_x509.Certificate)
            ]
            if signed is not None
            else []
        )
    except Exception:
        signers, candidates = [], []
    if not signers:
        _refuse(_("The checkpoint's signature cannot be read."), "bad_signature")
    ours = [c for c in candidates if hashlib.sha256(c.dump()).hexdigest() in known]
    if not ours:
        _refuse(
            _("The checkpoint was not signed with any certificate of this organisation."),
            "unknown_signer",
        )
    digest = hashlib.sha256(statement).digest()
    for signer_info in signers:
        for certificate in ours:
            try:
                intact, valid = validate_sig_integrity(signer_info, certificate, "data", digest)
            except Exception:
                # A signer info this certificate did not make (or a malformed one): try the next.
                logger.debug("Signature check failed", exc_info=True)
                continue
            if intact and valid:
                return certificate.dump()
    _refuse(
        _("The signature does not match the checkpoint: the file was altered."), "bad_signature"
    )


def checkpoint_open(*, organisation: Organisation, data: bytes) -> LedgerCheckpoint:
    """Read a checkpoint file (consents.checkpoints.bundle) and check its signature. The
    returned checkpoint is not saved. Bad input raises ValidationError with a clear message."""
    if len(data) > UPLOAD_LIMIT:
        _refuse(_("This file is too large to be a checkpoint."), "too_large")
    try:
        content = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        content = None
    if not isinstance(content, dict) or content.get("format") != checkpoints.BUNDLE_FORMAT:
        _refuse(_("This file is not a Constancia ledger checkpoint."), "not_checkpoint")
    text = content.get("statement")
    if not isinstance(text, str):
        _refuse(_("The checkpoint file has no %(name)s.") % {"name": "statement"}, "incomplete")
    signature = _decode(content.get("signature_cms_der_base64"), "signature_cms_der_base64")
    try:
        statement = json.loads(text)
    except (ValueError, RecursionError):
        statement = None
    fields_ok = (
        isinstance(statement, dict)
        and statement.get("format") == checkpoints.STATEMENT_FORMAT
        and isinstance(statement.get("sequence"), int)
        and not isinstance(statement.get("sequence"), bool)
        and statement["sequence"] >= 0
        and isinstance(statement.get("head_hash"), str)
        and len(statement["head_hash"]) == 64
        and isinstance(statement.get("at"), str)
    )
    if not fields_ok:
        _refuse(_("This file is not a Constancia ledger checkpoint."), "not_checkpoint")
    if statement.get("organisation") != organisation.pk:
        _refuse(_("This checkpoint belongs to another organisation."), "other_organisation")
    try:
        at = datetime.datetime.fromisoformat(statement["at"])
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        _refuse(_("This file is not a Constancia ledger checkpoint."), "not_checkpoint")
    signer = signature_verify(
        organisation=organisation, statement=text.encode("utf-8"), signature=signature
    )
    certificate = x509.load_der_x509_certificate(signer)
    token = content.get("timestamp_token_der_base64")
    return LedgerCheckpoint(
        organisation=organisation,
        sequence=statement["sequence"],
        head_hash=statement["head_hash"],
        signed_at=at,
        statement=text,
        signature=signature,
        timestamp_token=_decode(token, "timestamp_token_der_base64") if token else b"",
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        certificate_fingerprint=certificate.fingerprint(hashes.SHA256()).hex(),
        triggered_by="uploaded",
    )


def checkpoint_upload(*, organisation: Organisation, data: bytes, uploaded_by) -> IntegrityCheck:
    """Hold the ledger against a checkpoint from the DPO's own archive (GDPR Art. 5(2)).

    The database's own checkpoints may have been deleted with the events; this copy was not.
    A valid one is kept (if not already) and the chain is verified against it and every other
    recorded head. Bad files raise ValidationError and change nothing.
    """
    from consents.services import ledger_verify

    checkpoint = checkpoint_open(organisation=organisation, data=data)
    if not LedgerCheckpoint.objects.filter(
        organisation=organisation, statement=checkpoint.statement
    ).exists():
        checkpoint.save()
    claim = checkpoints.checkpoint_claim(
        checkpoint,
        _("The uploaded checkpoint signed on %(when)s")
        % {"when": checkpoint.signed_at.strftime("%Y-%m-%d %H:%M UTC")},
    )
    who = getattr(uploaded_by, "email", "") or "upload"
    return ledger_verify(
        organisation=organisation, triggered_by=f"checkpoint upload ({who})", claims=[claim]
    )
