"""The person's own copies: access (GDPR Art. 15) and portability (GDPR Art. 20).

Access: a ZIP with a signed PDF/A-3b in the person's language (access-report.pdf: the
information of Art. 15(1) and a copy of everything held), the same as machine-readable
``data.json`` (also embedded in the PDF) and CSV files, every proof file kept (named by its
SHA-256, which the JSON and the ledger quote) and SHA256SUMS.

Portability: what the person provided (the identity they gave, their consent answers, the
proofs they sent), in JSON and CSV with the files, "in a structured, commonly used and
machine-readable format" (Art. 20(1)).

Personal data of staff (who recorded an event) is not handed out: an event says whether the
person acted themself or the organisation recorded it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zoneinfo
from datetime import datetime

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.csvsafe import csv_safe
from consents import chain
from consents.choices import Channel, LegalBasis, PurposeCategory
from consents.models import (
    Action,
    ConsentEvent,
    ConsentState,
    NoticeVersion,
    ProofFile,
    Purpose,
    UnconfirmedAnswer,
)
from evidence import signing
from evidence.certificates import event_record
from evidence.packs import HashingZip
from groups.models import GroupMembership

from .models import RightsRequest

ACCESS_SCHEMA = "constancia.access-copy/1"
PORTABILITY_SCHEMA = "constancia.portability/1"
REPORT_NAME = "access-report.pdf"
DATA_NAME = "data.json"

# GDPR Art. 77 and LOPDGDD Art. 64: the Spanish supervisory authority.
AEPD = {
    "name": "Agencia Española de Protección de Datos (AEPD)",
    "address": "C/ Jorge Juan, 6, 28001 Madrid, España",
    "web": "https://www.aepd.es",
    "electronic_office": "https://sedeagpd.gob.es",
}


def _zone():
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(_zone()).isoformat(timespec="seconds")


def _day(value) -> str | None:
    return value.isoformat() if value else None


def proof_file_name(record: ProofFile) -> str:
    return f"proofs/{record.sha256}{record.extension}"


# --- what is held ---------------------------------------------------------------------------


def _events(subject):
    return list(
        ConsentEvent.objects.filter(subject=subject)
        .select_related("purpose", "notice_version", "recorded_by", "proof", "confirms")
        .prefetch_related("proof__files")
        .order_by("sequence")
    )


def _acted_by(event: ConsentEvent) -> str:
    return "data_subject" if event.by_subject or event.recorded_by_id is None else "controller"


def _file_entry(record: ProofFile) -> dict:
    return {
        "name": record.original_name,
        "content_type": record.content_type,
        "size": record.size,
        "sha256": record.sha256,
        "file": proof_file_name(record) if record.file else None,
    }


def _proof_entry(proof) -> dict | None:
    if proof is None:
        return None
    return {
        "id": proof.pk,
        "quote": proof.quote,
        "note": proof.note,
        "files": [_file_entry(f) for f in proof.files.all()],
    }


def _event_entry(event: ConsentEvent) -> dict:
    record = event_record(event)
    # The person's copy names no member of staff: only who acted (they or the organisation).
    record["recorded_by"] = _acted_by(event)
    record["purpose"]["name"] = event.purpose.name
    record["action_label"] = event.get_action_display()
    record["channel_label"] = event.get_channel_display()
    record["proof_kept"] = _proof_entry(event.proof)
    return record


def _notice_entry(notice: NoticeVersion) -> dict:
    return {
        "id": notice.pk,
        "title": notice.title,
        "version": notice.version,
        "language": notice.language,
        "published_at": _instant(notice.published_at),
        "sha256": notice.sha256,
        "summary": notice.summary,
        "text": notice.text,
        "informs_international_transfers": notice.informs_international_transfers,
        "transfer_safeguards": notice.transfer_safeguards,
    }


def _identity(subject) -> dict:
    return {
        "id": subject.pk,
        "full_name": subject.full_name,
        "phone": subject.phone.as_e164 if subject.phone else "",
        "email": subject.email,
        "preferred_language": subject.preferred_language,
        "kind": subject.kind,
        "is_minor": subject.is_minor,
        "guardian_name": subject.guardian_name,
        "external_ref": subject.external_ref,
        "notes": subject.notes,
        "status": subject.status,
        "in_register_since": _instant(subject.created_at),
        "last_changed": _instant(subject.updated_at),
        "identifiers_hmac_now": chain.identifiers_hmac(subject.identifiers()),
    }


def _purpose_entry(purpose: Purpose, state: ConsentState | None) -> dict:
    return {
        "id": purpose.pk,
        "code": purpose.code,
        "name": purpose.name,
        "description": purpose.description,
        "category": purpose.category,
        "category_label": purpose.get_category_display(),
        "legal_basis": purpose.legal_basis,
        "legal_basis_label": purpose.get_legal_basis_display(),
        "requires_consent": purpose.requires_consent,
        "retention_months": purpose.retention_months,
        "your_answer": state.action if state else None,
        "your_answer_since": _instant(state.captured_at) if state else None,
    }


def _memberships(subject) -> list[dict]:
    rows = (
        GroupMembership.objects.filter(subject=subject)
        .select_related("group", "consent_event")
        .order_by("joined_at", "pk")
    )
    return [
        {
            "group": m.group.name,
            "joined_at": _instant(m.joined_at),
            "left_at": _instant(m.left_at),
            "joined_via": m.joined_via,
            "joined_via_label": m.get_joined_via_display(),
            "consent_event": m.consent_event.sequence if m.consent_event_id else None,
        }
        for m in rows
    ]


def _requests(subject) -> list[dict]:
    rows = RightsRequest.objects.filter(subject=subject).prefetch_related("letters")
    return [
        {
            "reference": r.reference,
            "right": r.right,
            "right_label": r.get_right_display(),
            "channel": r.channel,
            "received_on": _day(r.received_on),
            "what_was_asked": r.details,
            "status": r.status,
            "status_label": r.get_status_display(),
            "due_on": _day(r.current_due_on),
            "answered_on": _day(r.closed_on),
            "letters": [
                {
                    "kind": letter.kind,
                    "written": _instant(letter.created_at),
                    "sent": _instant(letter.sent_at),
                }
                for letter in r.letters.all()
            ],
        }
        for r in rows.order_by("received_on", "pk")
    ]


def _unconfirmed(subject) -> list[dict]:
    rows = UnconfirmedAnswer.objects.filter(subject=subject).select_related("purpose")
    return [
        {
            "purpose": a.purpose.code,
            "submitted_at": _instant(a.submitted_at),
            "status": a.status,
            "source": a.source,
            "ip_address": a.ip_address,
            "user_agent": a.user_agent,
        }
        for a in rows.order_by("submitted_at", "pk")
    ]


def _recipients(subject, events, memberships) -> list[dict]:
    """Art. 15(1)(c): who receives the data. What the notices say is in the notices; these are
    the ones the register itself shows."""
    found = []
    whatsapp = memberships or any(
        e.channel in (Channel.WHATSAPP, Channel.INVITE_LINK) for e in events
    )
    categories = {e.purpose.category for e in events}
    if whatsapp or PurposeCategory.GROUP_MEMBERSHIP in categories:
        found.append(
            {
                "code": "whatsapp",
                "name": "WhatsApp Ireland Limited (Meta)",
                "role": _(
                    "The messaging service the organisation writes to you through; it processes"
                    " your number and messages."
                ),
            }
        )
    if memberships:
        found.append(
            {
                "code": "group_members",
                "name": _("Members of the WhatsApp groups you are or were in"),
                "role": _("They see your name, number and profile photo in the group."),
                "groups": sorted({m["group"] for m in memberships}),
            }
        )
    return found


def _sources(events) -> list[dict]:
    """Art. 15(1)(g): where the data came from: from the person, by each channel, or a list."""
    counts: dict[str, int] = {}
    for event in events:
        counts[event.channel] = counts.get(event.channel, 0) + 1
    labels = dict(Channel.choices)
    return [
        {
            "channel": channel,
            "label": str(labels.get(channel, channel)),
            "events": n,
            "from_you": channel != Channel.IMPORT,
        }
        for channel, n in sorted(counts.items())
    ]


def _rights() -> list[dict]:
    rights = [
        ("15", _("Access: a copy of your data and this information")),
        ("16", _("Rectification of inaccurate or incomplete data")),
        ("17", _("Erasure")),
        ("18", _("Restriction of processing")),
        ("20", _("Portability of the data you provided")),
        ("21", _("Objection, which is absolute for direct marketing")),
        ("7(3)", _("Withdrawal of your consent at any time")),
    ]
    return [
        {
            "article": article,
            "right": right,
            "label": _("%(right)s (GDPR Art. %(article)s)") % {"right": right, "article": article},
        }
        for article, right in rights
    ]


def access_data(rights_request: RightsRequest, *, generated_at: datetime) -> dict:
    """Everything held about the person, and the information of Art. 15(1) and (2), as one
    JSON-ready dict in a deterministic order. Labels are in the active language."""
    subject = rights_request.subject
    organisation = rights_request.organisation
    events = _events(subject)
    states = {s.purpose_id: s for s in ConsentState.objects.filter(subject=subject)}
    purposes = sorted(
        {e.purpose_id: e.purpose for e in events}.values(), key=lambda p: (p.code, p.pk)
    )
    notices = sorted(
        {e.notice_version_id: e.notice_version for e in events if e.notice_version_id}.values(),
        key=lambda n: n.pk,
    )
    memberships = _memberships(subject)
    transfers = [
        {"notice": n.pk, "title": n.title, "safeguards": n.transfer_safeguards}
        for n in notices
        if n.informs_international_transfers
    ]
    return {
        "schema": ACCESS_SCHEMA,
        "generated_at": _instant(generated_at),
        "time_zone": settings.TIME_ZONE,
        "language": translation.get_language(),
        "request": {
            "reference": rights_request.reference,
            "received_on": _day(rights_request.received_on),
            "right": rights_request.right,
        },
        "controller": {
            "name": organisation.legal_name,
            "tax_id": organisation.tax_id,
            "address": organisation.address,
            "contact_email": organisation.contact_email,
            "dpo": {"name": organisation.dpo_name, "email": organisation.dpo_email},
        },
        "data_subject": _identity(subject),
        "information": {
            "purposes": [_purpose_entry(p, states.get(p.pk)) for p in purposes],
            "categories_of_data": [
                "identity_and_contact",
                "consent_records",
                "proofs_of_consent",
                "group_memberships",
                "rights_requests",
            ],
            "recipients": _recipients(subject, events, memberships),
            "international_transfers": transfers,
            "retention_months": {p.code: p.retention_months for p in purposes},
            "source": _sources(events),
            "automated_decisions": None,
            "rights": _rights(),
            "complaint": AEPD,
        },
        "consent_events": [_event_entry(e) for e in events],
        "current_consents": [
            {
                "purpose": p.code,
                "state": states[p.pk].action,
                "since": _instant(states[p.pk].captured_at),
                "sequence": states[p.pk].event.sequence,
            }
            for p in purposes
            if p.pk in states
        ],
        "notices": [_notice_entry(n) for n in notices],
        "group_memberships": memberships,
        "rights_requests": _requests(subject),
        "unconfirmed_answers": _unconfirmed(subject),
    }


def portability_data(rights_request: RightsRequest, *, generated_at: datetime) -> dict:
    """What the person provided (GDPR Art. 20(1)): the identity they gave, their own answers
    per purpose and the proofs they sent. Nothing the organisation wrote about them (notes,
    references) and nothing derived."""
    subject = rights_request.subject
    events = _events(subject)
    proofs = {e.proof_id: e.proof for e in events if e.proof_id}
    return {
        "schema": PORTABILITY_SCHEMA,
        "generated_at": _instant(generated_at),
        "controller": rights_request.organisation.legal_name,
        "request": rights_request.reference,
        "identity": {
            "full_name": subject.full_name,
            "phone": subject.phone.as_e164 if subject.phone else "",
            "email": subject.email,
            "preferred_language": subject.preferred_language,
            "guardian_name": subject.guardian_name,
        },
        "consent_answers": [
            {
                "sequence": e.sequence,
                "purpose": e.purpose.code,
                "purpose_name": e.purpose.name,
                "answer": e.action,
                "at": _instant(e.captured_at),
                "channel": e.channel,
                "given_by": e.given_by,
                "by_you": _acted_by(e) == "data_subject",
                "notice_version": e.notice_version.version if e.notice_version_id else None,
                "notice_language": e.notice_version.language if e.notice_version_id else None,
            }
            for e in events
        ],
        "proofs": [
            {"id": p.pk, "quote": p.quote, "files": [_file_entry(f) for f in p.files.all()]}
            for p in sorted(proofs.values(), key=lambda p: p.pk)
            if p.quote or p.files.exists()
        ],
    }


# --- CSV ------------------------------------------------------------------------------------


def _csv(header: list[str], rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
    # A BOM so that spreadsheets open the accents and the Arabic script as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _identity_csv(identity: dict) -> bytes:
    return _csv(["field", "value"], list(identity.items()))


def _events_csv(events: list[dict]) -> bytes:
    header = [
        "sequence",
        "captured_at",
        "recorded_at",
        "purpose_code",
        "purpose",
        "action",
        "channel",
        "recorded_by",
        "given_by",
        "notice_version",
        "notice_language",
        "notice_sha256",
        "proof_quote",
        "proof_files_sha256",
        "ip_address",
        "user_agent",
        "hash",
    ]
    rows = []
    for e in events:
        notice = e["notice"] or {}
        proof = e["proof_kept"] or {}
        rows.append(
            (
                e["sequence"],
                e["captured_at"],
                e["recorded_at"],
                e["purpose"]["code"],
                e["purpose"]["name"],
                e["action"],
                e["collection_method"],
                e["recorded_by"],
                e["given_by"],
                notice.get("version", ""),
                notice.get("language", ""),
                notice.get("sha256", ""),
                proof.get("quote", ""),
                " ".join(f["sha256"] for f in proof.get("files", [])),
                e["ip_address"] or "",
                e["user_agent"],
                e["hash"],
            )
        )
    return _csv(header, rows)


def _access_csvs(data: dict) -> dict[str, bytes]:
    info = data["information"]
    return {
        "csv/identity.csv": _identity_csv(data["data_subject"]),
        "csv/consent-events.csv": _events_csv(data["consent_events"]),
        "csv/current-consents.csv": _csv(
            ["purpose_code", "state", "since", "sequence"],
            [
                (c["purpose"], c["state"], c["since"], c["sequence"])
                for c in data["current_consents"]
            ],
        ),
        "csv/purposes.csv": _csv(
            ["code", "name", "category", "legal_basis", "retention_months", "your_answer"],
            [
                (
                    p["code"],
                    p["name"],
                    p["category"],
                    p["legal_basis"],
                    p["retention_months"],
                    p["your_answer"] or "",
                )
                for p in info["purposes"]
            ],
        ),
        "csv/group-memberships.csv": _csv(
            ["group", "joined_at", "left_at", "joined_via", "consent_event"],
            [
                (
                    m["group"],
                    m["joined_at"],
                    m["left_at"] or "",
                    m["joined_via"],
                    m["consent_event"],
                )
                for m in data["group_memberships"]
            ],
        ),
        "csv/rights-requests.csv": _csv(
            ["reference", "right", "channel", "received_on", "status", "due_on", "answered_on"],
            [
                (
                    r["reference"],
                    r["right"],
                    r["channel"],
                    r["received_on"],
                    r["status"],
                    r["due_on"],
                    r["answered_on"] or "",
                )
                for r in data["rights_requests"]
            ],
        ),
    }


def _portability_csvs(data: dict) -> dict[str, bytes]:
    return {
        "identity.csv": _identity_csv(data["identity"]),
        "consent-answers.csv": _csv(
            ["sequence", "purpose", "answer", "at", "channel", "by_you", "notice_version"],
            [
                (
                    a["sequence"],
                    a["purpose"],
                    a["answer"],
                    a["at"],
                    a["channel"],
                    a["by_you"],
                    a["notice_version"] or "",
                )
                for a in data["consent_answers"]
            ],
        ),
        "proofs.csv": _csv(
            ["proof_id", "quote", "file", "sha256"],
            [
                (p["id"], p["quote"], f["file"] or "", f["sha256"])
                for p in data["proofs"]
                for f in (p["files"] or [{"file": "", "sha256": ""}])
            ],
        ),
    }


# --- the files ------------------------------------------------------------------------------


def _write_proof_files(archive: HashingZip, subject) -> int:
    """Each proof file kept, once, named by its SHA-256 (with the JPEG rendition of a HEIC)."""
    written = 0
    for record in ProofFile.objects.filter(proof__subject=subject).order_by("pk"):
        name = proof_file_name(record)
        if not record.file or any(m["name"] == name for m in archive.members):
            continue
        with record.file.open("rb") as source, archive.open(name) as out:
            for block in iter(lambda: source.read(1024 * 1024), b""):
                out.write(block)
        written += 1
        if record.rendition:
            with record.rendition.open("rb") as source, archive.open(f"{name}.jpg") as out:
                for block in iter(lambda: source.read(1024 * 1024), b""):
                    out.write(block)
    return written


def _sums(archive: HashingZip) -> None:
    archive.zip.writestr(
        "SHA256SUMS", "".join(f"{m['sha256']}  {m['name']}\n" for m in archive.members)
    )


def _write_zip(path, entries: dict[str, bytes], subject) -> int:
    """The ZIP at ``path``: ``entries`` in order, then the person's proof files and the
    SHA256SUMS of all; returns how many proof files it holds."""
    archive = HashingZip(path)
    try:
        for name, content in entries.items():
            archive.write_bytes(name, content)
        files = _write_proof_files(archive, subject)
        _sums(archive)
    finally:
        archive.close()
    return files


def _json_bytes(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False).encode("utf-8")


def _display_time(value: str | None) -> str:
    if not value:
        return ""
    local = datetime.fromisoformat(value)
    return f"{local:%Y-%m-%d %H:%M}"


def access_pdf(
    *, rights_request: RightsRequest, data: dict, language: str, sign: bool = True, timestamper=None
) -> bytes:
    """The access report: signed PDF/A-3b in ``language`` (right to left in Arabic), with
    ``data`` embedded as data.json."""
    organisation = rights_request.organisation
    data_json = _json_bytes(data)
    certificate = signing.certificate_for_signing(organisation) if sign else None
    legal_bases = dict(LegalBasis.choices)
    with translation.override(language):
        title = _("Your personal data at %(organisation)s") % {
            "organisation": organisation.legal_name
        }
        events = [
            {**e, "captured_display": _display_time(e["captured_at"])}
            for e in data["consent_events"]
        ]
        return signing.render_signed_document(
            template="rights_requests/fulfilment/access_pdf.html",
            context={
                "rights_request": rights_request,
                "data": data,
                "identity": data["data_subject"],
                "info": data["information"],
                "events": events,
                "legal_bases": legal_bases,
                "generated_at": _display_time(data["generated_at"]),
                "data_name": DATA_NAME,
                "data_sha256": hashlib.sha256(data_json).hexdigest(),
                "action_granted": Action.GRANTED,
            },
            attachments=[(DATA_NAME, data_json, "application/json")],
            title=title,
            language=language,
            organisation=organisation,
            certificate=certificate,
            reason=_("Copy of personal data (GDPR Art. 15)"),
            timestamper=timestamper,
        )


def write_access_export(
    *, rights_request: RightsRequest, path, language: str, timestamper=None
) -> dict:
    """Write the access ZIP to ``path``; returns what it holds, counted."""
    with translation.override(language):
        data = access_data(rights_request, generated_at=timezone.now())
    report = access_pdf(
        rights_request=rights_request, data=data, language=language, timestamper=timestamper
    )
    entries = {REPORT_NAME: report, DATA_NAME: _json_bytes(data), **_access_csvs(data)}
    files = _write_zip(path, entries, rights_request.subject)
    return {
        "events": len(data["consent_events"]),
        "purposes": len(data["information"]["purposes"]),
        "notices": len(data["notices"]),
        "proof_files": files,
        "group_memberships": len(data["group_memberships"]),
        "rights_requests": len(data["rights_requests"]),
    }


def write_portability_export(*, rights_request: RightsRequest, path) -> dict:
    """Write the portability ZIP to ``path``; returns what it holds, counted."""
    data = portability_data(rights_request, generated_at=timezone.now())
    entries = {DATA_NAME: _json_bytes(data), **_portability_csvs(data)}
    files = _write_zip(path, entries, rights_request.subject)
    return {"consent_answers": len(data["consent_answers"]), "proof_files": files}
