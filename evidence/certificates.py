"""Proof-of-consent certificate for one person: the records (JSON) and the signed PDF/A-3b.

GDPR Art. 7(1): the controller must be able to demonstrate that the person consented. The
certificate shows every ledger event for the person (or one purpose), what they were told (the
full notice text and its SHA-256), the proof kept, and the state of the ledger's hash chain when
the certificate was made. The same facts travel inside the PDF as ``consent-records.json``,
whose fields follow the consent record of ISO/IEC TS 27560 where they apply, with purposes, legal
bases and states mapped to the W3C Data Privacy Vocabulary (DPV 2) where the mapping is obvious.
"""

import hashlib
import io
import zoneinfo
from datetime import datetime

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from consents import chain, checkpoints
from consents.models import (
    Action,
    ConsentEvent,
    ConsentState,
    DataSubject,
    LedgerCheckpoint,
    LegalBasis,
    NoticeVersion,
    Purpose,
    PurposeCategory,
)
from consents.services import ledger_verify_checked

from . import pdf as evidence_pdf
from . import signing

SCHEMA_VERSION = "constancia.consent-record/1.0"
RECORDS_FILENAME = "consent-records.json"
THUMBNAIL_BOX = (480, 360)
THUMBNAIL_TYPES = {"image/jpeg", "image/png"}

# ISO/IEC TS 27560 consent states, and the DPV concepts for them.
STATE = {Action.GRANTED: "given", Action.WITHDRAWN: "withdrawn", Action.REFUSED: "refused"}
DPV_STATE = {
    Action.GRANTED: "dpv:ConsentGiven",
    Action.WITHDRAWN: "dpv:ConsentWithdrawn",
    Action.REFUSED: "dpv:ConsentRefused",
}
DPV_PURPOSE = {
    PurposeCategory.MARKETING: "dpv:Marketing",
    PurposeCategory.INFORMATIONAL: "dpv:CommunicationManagement",
    PurposeCategory.APPOINTMENTS: "dpv:ServiceProvision",
    PurposeCategory.DOCUMENTS: "dpv:ServiceProvision",
    PurposeCategory.GROUP_MEMBERSHIP: "dpv:CommunicationManagement",
}
DPV_LEGAL_BASIS = {
    LegalBasis.CONSENT: ("dpv:Consent", "eu-gdpr:A6-1-a"),
    LegalBasis.CONTRACT: ("dpv:Contract", "eu-gdpr:A6-1-b"),
    LegalBasis.LEGAL_OBLIGATION: ("dpv:LegalObligation", "eu-gdpr:A6-1-c"),
    LegalBasis.VITAL_INTERESTS: ("dpv:VitalInterest", "eu-gdpr:A6-1-d"),
    LegalBasis.PUBLIC_TASK: ("dpv:PublicInterest", "eu-gdpr:A6-1-e"),
    LegalBasis.LEGITIMATE_INTERESTS: ("dpv:LegitimateInterest", "eu-gdpr:A6-1-f"),
}


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _instant(value: datetime | None) -> str | None:
    """ISO 8601 in the register's time zone, with its offset (what a reader in Spain expects)."""
    if value is None:
        return None
    return value.astimezone(_zone()).isoformat(timespec="seconds")


def _events(subject: DataSubject, purpose: Purpose | None) -> list[ConsentEvent]:
    events = ConsentEvent.objects.filter(organisation=subject.organisation, subject=subject)
    if purpose is not None:
        events = events.filter(purpose=purpose)
    return list(
        events.select_related("purpose", "notice_version", "recorded_by", "proof", "confirms")
        .prefetch_related("proof__files")
        .order_by("sequence")
    )


def _purposes(subject: DataSubject, purpose: Purpose | None, events) -> list[Purpose]:
    if purpose is not None:
        return [purpose]
    seen = {event.purpose_id: event.purpose for event in events}
    return sorted(seen.values(), key=lambda p: (p.code, p.pk))


def _recorded_by(event: ConsentEvent) -> str:
    if event.by_subject or event.recorded_by is None:
        return "data subject"
    return event.recorded_by.email


def _purpose_record(purpose: Purpose) -> dict:
    dpv_basis, gdpr_basis = DPV_LEGAL_BASIS.get(purpose.legal_basis, (None, None))
    return {
        "id": purpose.pk,
        "code": purpose.code,
        "name": purpose.name,
        "description": purpose.description,
        "category": purpose.category,
        "legal_basis": purpose.legal_basis,
        "requires_consent": purpose.requires_consent,
        "retention_months": purpose.retention_months,
        "dpv": {
            "purpose": DPV_PURPOSE.get(purpose.category),
            "legal_basis": dpv_basis,
            "gdpr_legal_basis": gdpr_basis,
        },
    }


def _notice_record(notice: NoticeVersion) -> dict:
    return {
        "id": notice.pk,
        "title": notice.title,
        "version": notice.version,
        "language": notice.language,
        "sha256": notice.sha256,
        "published_at": _instant(notice.published_at),
    }


def event_record(event: ConsentEvent) -> dict:
    """The one machine-readable record of a ledger event, in certificates and in packs alike.

    The readable fields follow ISO/IEC TS 27560; ``hashed_fields`` is exactly
    ``ConsentEvent.canonical()``, so anyone holding the record can recompute
    ``hash = SHA-256(prev_hash + canonical JSON of hashed_fields)`` without our code (the pack's
    verify_chain.py does). Without it an outsider had the hash but not what it was a hash of.
    Select ``purpose``, ``notice_version``, ``recorded_by`` and ``confirms`` with the event.
    """
    return {
        "record_id": event.hash,
        "sequence": event.sequence,
        "subject_id": event.subject_id,
        "purpose": {"id": event.purpose_id, "code": event.purpose.code},
        "action": event.action,
        "state": STATE.get(event.action, event.action),
        "dpv_state": DPV_STATE.get(event.action),
        "collection_method": event.channel,
        "captured_at": _instant(event.captured_at),
        "recorded_at": _instant(event.recorded_at),
        "recorded_by": _recorded_by(event),
        "given_by": event.given_by,
        "identifiers_hmac": event.subject_hmac,
        "notice": (
            {
                "id": event.notice_version_id,
                "version": event.notice_version.version,
                "language": event.notice_version.language,
                "sha256": event.notice_sha256,
            }
            if event.notice_version_id
            else None
        ),
        "proof": [
            {
                "kind": item.get("kind", ""),
                "sha256": item.get("sha256", ""),
                "content_type": item.get(
                    "type", "text/plain" if item.get("kind") == "quote" else ""
                ),
            }
            for item in event.proof_digests
        ],
        "ip_address": event.ip_address,
        "user_agent": event.user_agent,
        "confirms_sequence": event.confirms.sequence if event.confirms_id else None,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "hashed_fields": event.canonical(),
    }


def _verification_record(subject: DataSubject, verification=None) -> dict:
    # A pack verifies the chain once and hands the result to each of its certificates: checking
    # 100,000 events again per certificate made a 100-certificate pack take 8 minutes longer.
    result = verification or ledger_verify_checked(organisation=subject.organisation)
    return {
        "ok": result.ok,
        "events_checked": result.events_checked,
        "head_sequence": result.head_sequence,
        "head_hash": result.head_hash,
        "broken_sequence": result.broken_sequence,
        "reason": str(result.reason),
        "checked_at": _instant(timezone.now()),
    }


def certificate_records(
    *, subject: DataSubject, purpose: Purpose | None = None, verification=None
) -> dict:
    """The machine-readable consent records for one person (optionally one purpose).

    JSON-serialisable with a deterministic order (events by sequence, purposes by code, notices
    by id). Like the ledger, it names the person by id and identifier HMAC only: the PDF pages
    show who they are; the JSON can be processed without handling their name and number.
    """
    organisation = subject.organisation
    events = _events(subject, purpose)
    purposes = _purposes(subject, purpose, events)
    notices = sorted(
        {e.notice_version_id: e.notice_version for e in events if e.notice_version_id}.values(),
        key=lambda n: n.pk,
    )
    states = ConsentState.objects.filter(subject=subject, purpose__in=purposes).select_related(
        "event", "purpose"
    )
    states = sorted(states, key=lambda s: (s.purpose.code, s.purpose_id))
    return {
        "schema_version": SCHEMA_VERSION,
        "record_format": "ISO/IEC TS 27560:2023 consent record (fields where they apply)",
        "vocabulary": {
            "dpv": "https://w3id.org/dpv#",
            "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
        },
        "time_zone": settings.TIME_ZONE,
        "controller": {
            "name": organisation.legal_name,
            "tax_id": organisation.tax_id,
            "address": organisation.address,
            "country": organisation.country,
            "contact_email": organisation.contact_email,
            "dpo": {"name": organisation.dpo_name, "email": organisation.dpo_email},
        },
        "data_subject": {
            "id": subject.pk,
            "identifiers_hmac_now": chain.identifiers_hmac(subject.identifiers()),
            "identifiers_hmac_at_events": [
                {"sequence": e.sequence, "identifiers_hmac": e.subject_hmac} for e in events
            ],
        },
        "purposes": [_purpose_record(p) for p in purposes],
        "notices": [_notice_record(n) for n in notices],
        "events": [event_record(e) for e in events],
        "current_state": [
            {
                "purpose": {"id": s.purpose_id, "code": s.purpose.code},
                "state": STATE.get(s.action, s.action),
                "dpv_state": DPV_STATE.get(s.action),
                "since": _instant(s.captured_at),
                "sequence": s.event.sequence,
                "record_id": s.event.hash,
            }
            for s in states
        ],
        "ledger_verification": _verification_record(subject, verification),
        "ledger_checkpoint": _latest_checkpoint(organisation),
    }


def _latest_checkpoint(organisation) -> dict | None:
    # The organisation's latest signed head travels with the certificate: whoever keeps the
    # certificate keeps a checkpoint the ledger must still reach (consents.checkpoints).
    latest = LedgerCheckpoint.objects.filter(organisation=organisation).first()
    return checkpoints.bundle(latest) if latest else None


# --- the PDF --------------------------------------------------------------------------------


def _display_time(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(_zone())
    offset = local.isoformat()[-6:]
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} (UTC{offset})"


def _thumbnail(content: bytes, content_type: str) -> str | None:
    """A small copy of a proof image as a data: URL (the full file stays with the proof)."""
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.width * image.height > settings.PROOF_MAX_PIXELS:
                return None  # stored before uploads were capped: never decode a pixel bomb
            image = ImageOps.exif_transpose(image)
            image.thumbnail(THUMBNAIL_BOX)
            out = io.BytesIO()
            if content_type == "image/jpeg":
                image.convert("RGB").save(out, format="JPEG", quality=80)
            else:
                image.save(out, format="PNG", optimize=True)
    except Exception:
        return None
    return evidence_pdf.data_url(out.getvalue(), content_type)


def _proof_files(proof) -> list[dict]:
    files = []
    for proof_file in proof.files.all():
        try:
            with proof_file.file.open("rb") as handle:
                content = handle.read()
        except (OSError, ValueError):
            content = None
        thumbnail = None
        if content is not None and proof_file.content_type in THUMBNAIL_TYPES:
            thumbnail = _thumbnail(content, proof_file.content_type)
        elif content is not None and proof_file.rendition:
            # A HEIC photo: PDF viewers cannot show it, its JPEG rendition they can.
            try:
                with proof_file.rendition.open("rb") as handle:
                    thumbnail = _thumbnail(handle.read(), "image/jpeg")
            except (OSError, ValueError):
                thumbnail = None
        files.append(
            {
                "name": proof_file.original_name,
                "content_type": proof_file.content_type,
                "size": proof_file.size,
                "sha256": proof_file.sha256,
                "held": content is not None,
                "matches": content is not None
                and hashlib.sha256(content).hexdigest() == proof_file.sha256,
                "thumbnail": thumbnail,
            }
        )
    return files


def _event_rows(events: list[ConsentEvent]) -> list[dict]:
    rows, proof_shown_at = [], {}
    for event in events:
        proof = event.proof
        proof_first = None
        files = []
        if proof is not None:
            proof_first = proof_shown_at.get(proof.pk)
            if proof_first is None:
                proof_shown_at[proof.pk] = event.sequence
                files = _proof_files(proof)
        rows.append(
            {
                "event": event,
                "captured": _display_time(event.captured_at),
                "recorded": _display_time(event.recorded_at),
                "recorded_by": (
                    _("the person themself")
                    if event.by_subject or event.recorded_by is None
                    else event.recorded_by.display_name
                ),
                "recorded_by_email": (
                    "" if event.by_subject or event.recorded_by is None else event.recorded_by.email
                ),
                "proof": proof,
                "proof_same_as": proof_first,
                "proof_files": files,
                "online": bool(event.ip_address or event.user_agent),
            }
        )
    return rows


def certificate_pdf(
    *,
    subject: DataSubject,
    purpose: Purpose | None = None,
    language: str | None = None,
    sign: bool = True,
    timestamper=None,
    verification=None,
) -> bytes:
    """Render the proof-of-consent certificate as PDF/A-3b, embed the records, sign it (PAdES).

    ``verification``: a ledger_verify_checked result made moments ago (an evidence pack passes its
    own); without it the organisation's chain is verified here.

    Language: the organisation's default unless given. Signed with the organisation's active
    certificate (a self-signed one is made on first use), B-T when a timestamp authority is set.
    """
    organisation = subject.organisation
    language = language or organisation.default_language or settings.LANGUAGE_CODE
    records = certificate_records(subject=subject, purpose=purpose, verification=verification)
    events = _events(subject, purpose)
    purposes = _purposes(subject, purpose, events)
    notices = sorted(
        {e.notice_version_id: e.notice_version for e in events if e.notice_version_id}.values(),
        key=lambda n: n.pk,
    )
    states = {
        s.purpose_id: s
        for s in ConsentState.objects.filter(subject=subject, purpose__in=purposes).select_related(
            "event"
        )
    }
    certificate = signing.certificate_for_signing(organisation) if sign else None
    verification = records["ledger_verification"]
    records_json = chain.canonical_json(records).encode("utf-8")
    with translation.override(language):
        title = _("Proof of consent: %(name)s") % {"name": subject.full_name}
        return signing.render_signed_document(
            template="pdf/certificate.html",
            context={
                "subject": subject,
                "purpose_filter": purpose,
                "identifiers_hmac_now": records["data_subject"]["identifiers_hmac_now"],
                "rows": _event_rows(events),
                "states": [(p, states.get(p.pk)) for p in purposes],
                "notices": notices,
                "verification": verification,
                "verification_checked": _display_time(
                    datetime.fromisoformat(verification["checked_at"])
                ),
                "generated_at": _display_time(timezone.now()),
                "records_filename": RECORDS_FILENAME,
                "records_sha256": hashlib.sha256(records_json).hexdigest(),
            },
            attachments=[(RECORDS_FILENAME, records_json, "application/json")],
            title=title,
            language=language,
            organisation=organisation,
            certificate=certificate,
            reason=_("Proof of consent (GDPR Art. 7(1))"),
            timestamper=timestamper,
        )
