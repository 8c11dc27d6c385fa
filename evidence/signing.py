"""The organisation's signing certificate, and PAdES signatures on evidence PDFs.

Key material at rest: each PKCS#12 bundle and its password are encrypted with Fernet
(AES-128-CBC + HMAC-SHA256). The Fernet key is derived from settings.EVIDENCE_ENCRYPTION_KEY as
``urlsafe_b64encode(sha256(EVIDENCE_ENCRYPTION_KEY))``: any string of any length is a valid setting,
and the same setting always opens the same rows. Changing the setting makes every stored
certificate unreadable (the organisation then uploads or generates a new one).

Signatures: PAdES baseline B-B, or B-T (an RFC 3161 timestamp on the signature) when
settings.TSA_URL is set or a timestamper is passed. ``sign_pdf`` and ``validate_pdf`` use pyHanko's
synchronous API, which calls ``asyncio.run()``; called from a thread that already runs an event
loop (an async view, a script driving Playwright's sync API), they do that work in a helper
thread instead (``_off_the_loop``), where ``asyncio.run()`` is allowed.
"""

import asyncio
import base64
import datetime
import hashlib
import io
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import AuditEntry, Organisation, User
from accounts.services import audit_record

from .models import SigningCertificate

SELF_SIGNED_VALIDITY = datetime.timedelta(days=3 * 365)
# What a document signer's key must be allowed to do (RFC 5280 4.2.1.3). contentCommitment is the
# newer name of nonRepudiation; either one, or digitalSignature, makes a usable signing key.
SIGNING_KEY_USAGES = {"digital_signature", "non_repudiation"}


# --- encryption at rest ---------------------------------------------------------------------


def _fernet() -> Fernet:
    digest = hashlib.sha256(settings.EVIDENCE_ENCRYPTION_KEY.encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(data: bytes) -> bytes:
    """Encrypt with the key derived from settings.EVIDENCE_ENCRYPTION_KEY (see module docstring)."""
    return _fernet().encrypt(data)


def decrypt(token: bytes) -> bytes:
    """Reverse of ``encrypt``. Raises cryptography.fernet.InvalidToken with a wrong key."""
    return _fernet().decrypt(bytes(token))


# --- certificates ---------------------------------------------------------------------------


def _common_name(name: x509.Name) -> str:
    attributes = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if attributes:
        return str(attributes[0].value)
    return name.rfc4514_string()


def _pem(certificates: list[x509.Certificate]) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certificates)


def _key_usages(certificate: x509.Certificate) -> set[str] | None:
    """The key usages named in the certificate, or None when it has no KeyUsage extension."""
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    named = set()
    if usage.digital_signature:
        named.add("digital_signature")
    if usage.content_commitment:
        named.add("non_repudiation")
    return named


def _is_self_signed(certificate: x509.Certificate) -> bool:
    if certificate.issuer != certificate.subject:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except Exception:
        return False
    return True


def _store(
    *,
    organisation: Organisation,
    certificate: x509.Certificate,
    chain: list[x509.Certificate],
    pkcs12_data: bytes,
    password: str,
    self_signed: bool,
    created_by: User | None,
    request=None,
) -> SigningCertificate:
    """Save the new certificate as the organisation's only active one.

    The caller holds a transaction: the old certificate is deactivated and the new one saved
    together, so the "one active certificate per organisation" constraint always holds. The
    change goes to the audit trail in the same transaction (invariant 6): which certificate
    signs the organisation's evidence from now on, which one it replaced, who did it and from
    where (no one, for the self-signed one made on a first export).
    """
    # Lock the organisation row: two concurrent uploads would otherwise both deactivate "the"
    # active certificate and then collide on the unique constraint.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
    previous = SigningCertificate.objects.filter(organisation=organisation, active=True).first()
    SigningCertificate.objects.filter(organisation=organisation, active=True).update(active=False)
    record = SigningCertificate(
        organisation=organisation,
        subject_name=_common_name(certificate.subject)[:300],
        issuer_name=_common_name(certificate.issuer)[:300],
        serial_number=format(certificate.serial_number, "x")[:80],
        fingerprint_sha256=certificate.fingerprint(hashes.SHA256()).hex(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        self_signed=self_signed,
        certificate_pem=_pem([certificate, *chain]),
        pkcs12_encrypted=encrypt(pkcs12_data),
        password_encrypted=encrypt(password.encode("utf-8")),
        active=True,
        created_by=created_by,
    )
    # created_by is nullable (system-made certificates) but not blank=True on the model.
    record.full_clean(exclude=["created_by"])
    record.save()
    audit_record(
        record,
        AuditEntry.Action.CREATED,
        user=created_by,
        request=request,
        object_repr=f"{record.subject_name} ({record.fingerprint_sha256[:16]}…)",
        details=[
            {
                "field": "fingerprint_sha256",
                "old": previous.fingerprint_sha256 if previous else "",
                "new": record.fingerprint_sha256,
            },
            {"field": "self_signed", "old": "", "new": str(record.self_signed)},
            {"field": "not_after", "old": "", "new": record.not_after.isoformat()},
        ],
    )
    return record


def _self_signed_material(organisation: Organisation) -> tuple[x509.Certificate, bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    attributes = [
        x509.NameAttribute(NameOID.COMMON_NAME, organisation.legal_name[:64]),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation.legal_name[:64]),
    ]
    if organisation.tax_id:
        # ETSI EN 319 412-1 5.1.4: "VAT" + country + "-" + the tax id.
        attributes.append(
            x509.NameAttribute(
                NameOID.ORGANIZATION_IDENTIFIER,
                f"VAT{organisation.country}-{organisation.tax_id}",
            )
        )
    if organisation.country:
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, organisation.country))
    name = x509.Name(attributes)
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + SELF_SIGNED_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    password = secrets.token_urlsafe(32)
    bundle = pkcs12.serialize_key_and_certificates(
        organisation.legal_name.encode("utf-8")[:64],
        key,
        certificate,
        None,
        serialization.BestAvailableEncryption(password.encode("utf-8")),
    )
    return certificate, bundle, password


def certificate_generate_self_signed(
    *, organisation: Organisation, created_by: User | None = None, request=None
) -> SigningCertificate:
    """A self-signed certificate (RSA 3072, 3 years) so a trial organisation can sign at once.

    It proves the PDF was not changed since Constancia signed it for this organisation; it does
    not prove who the organisation is (no CA vouches for it). Uploading a qualified certificate
    replaces it. The previous active certificate is deactivated, never deleted: old PDFs name it.
    """
    material = _self_signed_material(organisation)
    with transaction.atomic():
        return _store_self_signed(organisation, material, created_by=created_by, request=request)


def _looks_like_pkcs12(data: bytes) -> bool:
    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=True)
        return pfx["auth_safe"]["content_type"].native in ("data", "signed_data")
    except Exception:
        return False


def certificate_upload(
    *,
    organisation: Organisation,
    pkcs12_data: bytes,
    password: str,
    uploaded_by: User | None = None,
    request=None,
) -> SigningCertificate:
    """Check and store the organisation's own certificate (a .p12/.pfx file and its password).

    Refused with a clear message, storing nothing: a file that is not PKCS#12, a wrong password,
    a bundle without private key, a certificate that is expired or not yet valid, or whose key
    usage allows neither digitalSignature nor nonRepudiation (eIDAS signing certificates have it).
    """
    if not pkcs12_data or not _looks_like_pkcs12(pkcs12_data):
        raise ValidationError(
            _("This file is not a PKCS#12 certificate (.p12 or .pfx)."), code="not_pkcs12"
        )
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(
            pkcs12_data, password.encode("utf-8") if password else None
        )
    except (ValueError, TypeError) as error:
        raise ValidationError(
            _("The password does not open this certificate file."), code="password"
        ) from error
    if certificate is None and not chain:
        raise ValidationError(_("The file holds no certificate."), code="no_certificate")
    if key is None or certificate is None:
        # Without a key, cryptography returns the certificate among the "additional" ones.
        raise ValidationError(
            _(
                "The file holds a certificate but not its private key: export it again with the"
                " private key included."
            ),
            code="no_key",
        )
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValidationError(
            _("Only RSA and elliptic-curve (ECDSA) keys can sign PDFs here."), code="key_type"
        )
    if key.public_key().public_numbers() != certificate.public_key().public_numbers():
        raise ValidationError(
            _("The private key in the file does not belong to its certificate."), code="key"
        )
    now = datetime.datetime.now(datetime.UTC)
    if certificate.not_valid_after_utc <= now:
        raise ValidationError(
            _("This certificate expired on %(date)s.")
            % {"date": certificate.not_valid_after_utc.date().isoformat()},
            code="expired",
        )
    if certificate.not_valid_before_utc > now:
        raise ValidationError(
            _("This certificate is valid only from %(date)s.")
            % {"date": certificate.not_valid_before_utc.date().isoformat()},
            code="not_yet_valid",
        )
    usages = _key_usages(certificate)
    if usages is not None and not usages & SIGNING_KEY_USAGES:
        raise ValidationError(
            _(
                "This certificate may not sign documents: its key usage has neither"
                " digitalSignature nor nonRepudiation."
            ),
            code="key_usage",
        )
    with transaction.atomic():
        return _store(
            organisation=organisation,
            certificate=certificate,
            chain=list(chain or []),
            pkcs12_data=pkcs12_data,
            password=password,
            self_signed=_is_self_signed(certificate),
            created_by=uploaded_by,
            request=request,
        )


def active_certificate(organisation: Organisation) -> SigningCertificate | None:
    return SigningCertificate.objects.filter(organisation=organisation, active=True).first()


def certificate_for_signing(organisation: Organisation) -> SigningCertificate:
    """The active certificate, or a new self-signed one on first use (trials can always export)."""
    current = active_certificate(organisation)
    if current is not None:
        return current
    material = _self_signed_material(organisation)
    with transaction.atomic():
        # Re-check under the organisation lock: two first exports must not make two certificates.
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
        current = active_certificate(organisation)
        if current is not None:
            return current
        return _store_self_signed(organisation, material, created_by=None)


def _store_self_signed(
    organisation: Organisation, material: tuple, *, created_by: User | None, request=None
) -> SigningCertificate:
    certificate, bundle, password = material
    return _store(
        organisation=organisation,
        certificate=certificate,
        chain=[],
        pkcs12_data=bundle,
        password=password,
        self_signed=True,
        created_by=created_by,
        request=request,
    )


# --- signing --------------------------------------------------------------------------------


_SIGNERS: dict[tuple, object] = {}


def _signer(certificate: SigningCertificate):
    """pyHanko's signer for ``certificate``, opened once per process (decrypting and parsing the
    PKCS#12 each time cost as much as rendering a certificate). Keyed by the stored bundle's
    digest, so a certificate replaced in the database is opened anew."""
    stamp = (certificate.pk, hashlib.sha256(bytes(certificate.pkcs12_encrypted)).digest())
    signer = _SIGNERS.get(stamp)
    if signer is None:
        signer = _open_signer(certificate)
        if len(_SIGNERS) >= 16:
            _SIGNERS.clear()
        _SIGNERS[stamp] = signer
    return signer


def _open_signer(certificate: SigningCertificate):
    from pyhanko.sign import signers

    class KeptKeySigner(signers.SimpleSigner):
        """SimpleSigner parses and checks its private key for every signature, twice a
        document (about 0.1 s each for an RSA key here): parsed once, then kept."""

        _key = None

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            from pyhanko_certvalidator.util import get_pyca_cryptography_hash

            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            try:
                algorithm = mechanism.signature_algo
            except ValueError:
                algorithm = mechanism["algorithm"].native
            if algorithm not in ("rsassa_pkcs1v15", "ecdsa"):
                return super().sign_raw(data, digest_algorithm)
            if self._key is None:
                self._key = serialization.load_der_private_key(
                    self.signing_key.dump(), password=None
                )
            hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
            if algorithm == "ecdsa":
                return self._key.sign(data, ec.ECDSA(hash_algorithm))
            return self._key.sign(data, asym_padding.PKCS1v15(), hash_algorithm)

    password = decrypt(certificate.password_encrypted)
    try:
        loaded = signers.SimpleSigner.load_pkcs12_data(
            decrypt(certificate.pkcs12_encrypted), other_certs=[], passphrase=password
        )
    except ValueError as error:
        # pyHanko's loaders hide the cause; say which certificate failed.
        raise ValidationError(
            _("The signing certificate %(name)s could not be opened.") % {"name": certificate}
        ) from error
    # load_pkcs12_data makes a SimpleSigner whatever class it is called on.
    return KeptKeySigner(
        signing_cert=loaded.signing_cert,
        signing_key=loaded.signing_key,
        cert_registry=loaded.cert_registry,
        signature_mechanism=loaded.signature_mechanism,
    )


def sign_pdf(
    *,
    pdf: bytes,
    certificate: SigningCertificate,
    reason: str,
    location: str = "",
    timestamper=None,
) -> bytes:
    """Sign ``pdf`` (PAdES, SHA-256) in one incremental update; the original bytes are kept.

    B-B by default; B-T with a timestamp from ``timestamper`` or, if none is given, from
    settings.TSA_URL. The document-info /Producer is set to pyHanko's name in the same update,
    which is what pyHanko writes into the XMP metadata: PDF/A requires the two to agree.
    Sync only (see the module docstring).
    """
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.metadata.model import VENDOR
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps import HTTPTimeStamper

    if timestamper is None and settings.TSA_URL:
        timestamper = HTTPTimeStamper(settings.TSA_URL, timeout=30)
    signer = _signer(certificate)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    info = writer._info.get_object() if writer._info is not None else None
    if info is not None:
        info["/Producer"] = generic.TextStringObject(VENDOR)
        writer.mark_update(writer._info)
    metadata = signers.PdfSignatureMetadata(
        field_name="Signature",
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason or None,
        location=location or None,
        name=certificate.subject_name,
    )
    output = _off_the_loop(
        lambda: signers.sign_pdf(writer, metadata, signer=signer, timestamper=timestamper)
    )
    return output.getvalue()


def _off_the_loop(work):
    """``work()`` here, or in a helper thread when this thread runs an event loop (pyHanko's sync
    API calls asyncio.run(), which refuses to start a loop inside a running one)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1) as helper:
        return helper.submit(work).result()


def render_signed_pdf(
    *,
    html: str,
    attachments: list[tuple[str, bytes, str]],
    title: str,
    language: str,
    organisation: Organisation,
    certificate: SigningCertificate | None,
    reason: str,
    timestamper=None,
) -> bytes:
    """The organisation's evidential PDF: ``html`` rendered as PDF/A-3b with ``attachments``
    embedded (evidence.pdf.render_pdf), then signed in its name when it has a ``certificate``
    (unsigned otherwise, e.g. a preview). Certificates, access copies, letters and the record
    of processing are all made this way."""
    from .pdf import render_pdf

    document = render_pdf(
        html=html, base_url=None, attachments=attachments, title=title, language=language
    )
    if certificate is None:
        return document
    return sign_pdf(
        pdf=document,
        certificate=certificate,
        reason=reason,
        location=organisation.get_country_display(),
        timestamper=timestamper,
    )


def render_signed_document(
    *,
    template: str,
    context: dict,
    title: str,
    language: str,
    organisation: Organisation,
    certificate: SigningCertificate | None,
    reason: str,
    attachments: list[tuple[str, bytes, str]] = (),
    pdf_title: str = "",
    timestamper=None,
) -> bytes:
    """``template`` rendered and signed as by render_signed_pdf, in the language active now.

    Every evidential document's page gets the same frame: its ``title``, ``language`` and
    reading direction, the organisation and its address lines, the time zone its times are
    shown in and the signing ``certificate``; ``context`` adds what the document says.
    ``pdf_title`` is the PDF's own title, when it should say more than the page's."""
    html = render_to_string(
        template,
        {
            "title": title,
            "language": language,
            "direction": "rtl" if translation.get_language_bidi() else "ltr",
            "organisation": organisation,
            "address_lines": [line for line in organisation.address.splitlines() if line],
            "time_zone": settings.TIME_ZONE,
            "certificate": certificate,
            **context,
        },
    )
    return render_signed_pdf(
        html=html,
        attachments=list(attachments),
        title=pdf_title or title,
        language=language,
        organisation=organisation,
        certificate=certificate,
        reason=reason,
        timestamper=timestamper,
    )


# --- validation -----------------------------------------------------------------------------


@dataclass
class SignatureReport:
    signed: bool = False
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    signer: str = ""
    signed_at: datetime.datetime | None = None
    timestamp: bool = False
    coverage_entire_file: bool = False
    summary: str = ""
    errors: list[str] = field(default_factory=list)


def _load_certificates(trust_roots) -> list:
    """asn1crypto certificates from PEM text/bytes, cryptography or asn1crypto certificates."""
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    loaded = []
    for item in trust_roots or []:
        if isinstance(item, asn1_x509.Certificate):
            loaded.append(item)
        elif isinstance(item, x509.Certificate):
            der = item.public_bytes(serialization.Encoding.DER)
            loaded.append(asn1_x509.Certificate.load(der))
        else:
            data = item.encode("ascii") if isinstance(item, str) else bytes(item)
            if pem.detect(data):
                loaded.extend(
                    asn1_x509.Certificate.load(der)
                    for _, _, der in pem.unarmor(data, multiple=True)
                )
            else:
                loaded.append(asn1_x509.Certificate.load(data))
    return loaded


def validate_pdf(*, pdf: bytes, trust_roots: list | None = None) -> SignatureReport:
    """Check the last signature of ``pdf``. Never raises: problems are reported.

    ``trust_roots``: the certificates to trust (PEM strings such as every
    SigningCertificate.certificate_pem of the organisation, or certificate objects). Without them
    the signature can be intact and valid but not trusted. Nothing is fetched from the network.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator import ValidationContext

    report = SignatureReport()
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception as error:
        report.errors.append(f"{type(error).__name__}: {error}")
        report.summary = _("The file cannot be read as a PDF.")
        return report
    if not signatures:
        report.summary = _("The PDF is not signed.")
        return report
    report.signed = True
    signature = signatures[-1]
    try:
        roots = _load_certificates(trust_roots)
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        status = _off_the_loop(
            lambda: validate_pdf_signature(
                signature,
                signer_validation_context=context,
                key_usage_settings=KeyUsageConstraints(
                    key_usage=SIGNING_KEY_USAGES, match_all_key_usages=False
                ),
            )
        )
    except Exception as error:
        # A damaged signed range can break parsing before any digest is compared.
        report.errors.append(f"{type(error).__name__}: {error}")
        report.summary = _("The signature could not be checked: the file was damaged or altered.")
        return report
    report.intact = bool(status.intact)
    report.valid = bool(status.valid)
    report.trusted = bool(status.trusted)
    report.signer = _signer_name(status)
    report.timestamp = status.timestamp_validity is not None
    if status.timestamp_validity is not None:
        report.signed_at = status.timestamp_validity.timestamp
    else:
        report.signed_at = status.signer_reported_dt
    report.coverage_entire_file = getattr(status.coverage, "name", "") == "ENTIRE_FILE"
    if not report.intact:
        report.errors.append(_("The signed content was changed after signing."))
    elif not report.valid:
        report.errors.append(_("The signature value does not match the signed content."))
    if report.intact and report.valid and not report.trusted:
        report.errors.append(_("The signer's certificate is not among the trusted certificates."))
    report.summary = status.summary()
    return report


def _signer_name(status) -> str:
    try:
        return status.signing_cert.subject.native.get("common_name", "") or ""
    except Exception:
        return ""


def certificate_trust_roots(organisation: Organisation) -> list[str]:
    """Every certificate the organisation has signed with (PEM), for ``validate_pdf``."""
    return list(
        SigningCertificate.objects.filter(organisation=organisation).values_list(
            "certificate_pem", flat=True
        )
    )
