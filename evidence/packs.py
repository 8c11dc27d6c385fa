"""Evidence pack for an inquiry: a ZIP anyone can verify with public tools.

Contents: records.csv and records.json (one row per ledger event in scope), subjects.csv (who
the subject ids are, as held now), proofs/ (each proof file once, named by its SHA-256; a HEIC
photo has its JPEG rendition beside it, named <its name>.jpg),
certificates/ (a signed certificate per subject, up to PACK_CERTIFICATE_LIMIT), the signer's
certificate, VERIFY.txt, then summary.pdf (signed PDF/A-3b holding the scope, counts, a per-subject
table, the ledger verification and, embedded, the SHA-256 of every file above), and last
manifest.json and SHA256SUMS (the format `sha256sum -c` reads) covering every other file.

Everything is streamed into the ZIP with bounded memory: events are read in chunks and each file
is hashed as it is written.
"""

import csv
import hashlib
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from consents.models import ConsentEvent, DataSubject, ProofFile, Purpose
from consents.services import ledger_verify_chain

RECORD_FIELDS = [
    "sequence",
    "hash",
    "prev_hash",
    "subject_id",
    "subject_hmac",
    "purpose_code",
    "action",
    "channel",
    "captured_at",
    "recorded_at",
    "recorded_by",
    "by_subject",
    "given_by",
    "notice_version",
    "notice_language",
    "notice_sha256",
    "proof_sha256",
    "ip_address",
    "user_agent",
    "confirms_sequence",
]
SUBJECT_FIELDS = ["subject_id", "full_name", "phone", "email", "kind", "status", "guardian_name"]


@dataclass
class PackScope:
    purposes: list[str] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    subject_ids: list[int] = field(default_factory=list)

    @classmethod
    def from_parameters(cls, parameters: dict) -> "PackScope":
        return cls(
            purposes=list(parameters.get("purposes") or []),
            date_from=date.fromisoformat(parameters["date_from"])
            if parameters.get("date_from")
            else None,
            date_to=date.fromisoformat(parameters["date_to"])
            if parameters.get("date_to")
            else None,
            subject_ids=[int(s) for s in parameters.get("subject_ids") or []],
        )

    def to_parameters(self) -> dict:
        return {
            "purposes": self.purposes,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "subject_ids": self.subject_ids,
        }

    def events(self, organisation):
        events = ConsentEvent.objects.filter(organisation=organisation)
        if self.purposes:
            events = events.filter(purpose__code__in=self.purposes)
        tz = timezone.get_current_timezone()
        if self.date_from:
            events = events.filter(
                captured_at__gte=timezone.make_aware(datetime.combine(self.date_from, time.min), tz)
            )
        if self.date_to:
            events = events.filter(
                captured_at__lte=timezone.make_aware(datetime.combine(self.date_to, time.max), tz)
            )
        if self.subject_ids:
            events = events.filter(subject_id__in=self.subject_ids)
        return events

    def describe(self) -> str:
        """What the pack covers, in the current language (the Exports page says it again in
        the reader's language, from the job's parameters)."""
        parts = [", ".join(self.purposes) if self.purposes else _("all purposes")]
        if self.date_from or self.date_to:
            parts.append(
                _("%(start)s to %(end)s")
                % {"start": self.date_from or "…", "end": self.date_to or "…"}
            )
        if self.subject_ids:
            parts.append(
                ngettext("%(n)s selected person", "%(n)s selected people", len(self.subject_ids))
                % {"n": len(self.subject_ids)}
            )
        return "; ".join(parts)


class HashingZip:
    """A ZIP being written to disk that remembers the SHA-256 and size of every member."""

    def __init__(self, path):
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self.members: list[dict] = []

    def open(self, name):
        return _HashingWriter(self, name)

    def write_bytes(self, name, data: bytes):
        with self.open(name) as out:
            out.write(data)

    def close(self):
        self.zip.close()


class _HashingWriter(io.RawIOBase):
    def __init__(self, owner, name):
        self.owner, self.name = owner, name
        self.raw = owner.zip.open(name, "w", force_zip64=True)
        self.digest, self.size = hashlib.sha256(), 0

    def writable(self):
        return True

    def write(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.digest.update(data)
        self.size += len(data)
        self.raw.write(data)
        return len(data)

    def close(self):
        if not self.closed:
            self.raw.close()
            self.owner.members.append(
                {"name": self.name, "sha256": self.digest.hexdigest(), "size": self.size}
            )
        super().close()


def _local(value):
    return timezone.localtime(value).isoformat() if value else ""


def _record(event) -> dict:
    return {
        "sequence": event.sequence,
        "hash": event.hash,
        "prev_hash": event.prev_hash,
        "subject_id": event.subject_id,
        "subject_hmac": event.subject_hmac,
        "purpose_code": event.purpose.code,
        "action": event.action,
        "channel": event.channel,
        "captured_at": _local(event.captured_at),
        "recorded_at": _local(event.recorded_at),
        "recorded_by": "data subject"
        if event.by_subject
        else (event.recorded_by.email if event.recorded_by else ""),
        "by_subject": event.by_subject,
        "given_by": event.given_by,
        "notice_version": event.notice_version.version if event.notice_version else "",
        "notice_language": event.notice_version.language if event.notice_version else "",
        "notice_sha256": event.notice_sha256,
        "proof_sha256": " ".join(d["sha256"] for d in event.proof_digests),
        "ip_address": event.ip_address or "",
        "user_agent": event.user_agent,
        "confirms_sequence": event.confirms.sequence if event.confirms_id else "",
    }


def _csv_safe(value):
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


VERIFY_TEXT = """How to verify this evidence pack
================================

1. Every file is listed with its SHA-256 in SHA256SUMS and manifest.json. On Linux or macOS:

       sha256sum -c SHA256SUMS

   Every line must say OK. A changed, missing or added byte in any file shows here.

2. summary.pdf and every file in certificates/ are signed (PAdES) by {signer}.
   Check the signatures with any PDF reader's signature panel, or with pyHanko:

       pip install pyhanko-cli
       pyhanko sign validate --pretty-print \\
           --trust signer-certificate.pem --trust-replace summary.pdf

   The result must say the signature is INTACT (and TRUSTED when the signer's certificate is
   trusted). summary.pdf embeds the SHA-256 of every other file (attachment files.json), so the
   signature covers the whole pack. Extract it with: pdfdetach -saveall summary.pdf

3. records.csv / records.json hold one row per consent event: its sequence number in the
   organisation's ledger, the hash of the previous event and its own hash, where
   hash = SHA-256(prev_hash + canonical JSON of the event). The ledger was verified when this pack
   was made: {verification}. The controller can show that these hashes still match the live
   ledger (Constancia's "Verify evidence" page).

Scope: {scope}
Generated: {generated_at}
"""


def build_pack(*, organisation, scope: PackScope, path, progress=None, timestamper=None) -> dict:
    """Write the pack to ``path``. ``progress(done, total)`` is called as events are written."""
    from .certificates import certificate_pdf
    from .pdf import render_pdf
    from .signing import certificate_for_signing, sign_pdf

    events = scope.events(organisation)
    total = events.count()
    if progress:
        progress(0, total)
    generated_at = timezone.localtime()
    verification = ledger_verify_chain(organisation=organisation)
    pack = HashingZip(path)
    subjects: dict[int, dict] = {}
    proof_shas: set[str] = set()
    counts = {"granted": 0, "withdrawn": 0, "refused": 0}

    # A ZIP takes one member at a time: the CSV streams into it while the JSON streams to a
    # temporary file beside it, copied in afterwards. Memory stays flat whatever the scope.
    json_temp = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the with-block below)
    with pack.open("records.csv") as csv_out:
        text_csv = io.TextIOWrapper(csv_out, encoding="utf-8", newline="", write_through=True)
        writer = csv.DictWriter(text_csv, fieldnames=RECORD_FIELDS)
        writer.writeheader()
        json_temp.write(b"[\n")
        rows = (
            events.select_related("purpose", "recorded_by", "notice_version", "confirms")
            .order_by("sequence")
            .iterator(chunk_size=2000)
        )
        for done, event in enumerate(rows, start=1):
            record = _record(event)
            writer.writerow({k: _csv_safe(v) for k, v in record.items()})
            prefix = b",\n" if done > 1 else b""
            json_temp.write(prefix + json.dumps(record, ensure_ascii=False).encode("utf-8"))
            counts[event.action] += 1
            entry = subjects.setdefault(event.subject_id, {"events": 0, "purposes": set()})
            entry["events"] += 1
            entry["purposes"].add(event.purpose.code)
            for digest in event.proof_digests:
                if digest.get("kind") == "file":
                    proof_shas.add(digest["sha256"])
            if progress and done % 2000 == 0:
                progress(done, total)
        json_temp.write(b"\n]\n")
        text_csv.detach()
    json_temp.seek(0)
    with json_temp, pack.open("records.json") as out:
        for block in iter(lambda: json_temp.read(1024 * 1024), b""):
            out.write(block)

    with pack.open("subjects.csv") as out:
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text)
        writer.writerow(SUBJECT_FIELDS + ["events_in_scope", "purposes_in_scope"])
        ids = sorted(subjects)
        for start in range(0, len(ids), 2000):
            for subject in DataSubject.objects.filter(pk__in=ids[start : start + 2000]).order_by(
                "pk"
            ):
                info = subjects[subject.pk]
                writer.writerow(
                    [
                        _csv_safe(v)
                        for v in (
                            subject.pk,
                            subject.full_name,
                            subject.phone.as_e164 if subject.phone else "",
                            subject.email,
                            subject.kind,
                            subject.status,
                            subject.guardian_name,
                            info["events"],
                            " ".join(sorted(info["purposes"])),
                        )
                    ]
                )
        text.detach()

    for record in ProofFile.objects.filter(organisation=organisation, sha256__in=proof_shas):
        name = f"proofs/{record.sha256}{record.extension}"
        if any(m["name"] == name for m in pack.members):
            continue
        with record.file.open("rb") as source, pack.open(name) as out:
            for block in iter(lambda: source.read(1024 * 1024), b""):
                out.write(block)
        if record.rendition:
            # The JPEG to look at a HEIC photo with, named after the original it was made from.
            with record.rendition.open("rb") as source, pack.open(f"{name}.jpg") as out:
                for block in iter(lambda: source.read(1024 * 1024), b""):
                    out.write(block)

    limit = settings.PACK_CERTIFICATE_LIMIT
    certified = sorted(subjects)[:limit]
    for subject in DataSubject.objects.filter(pk__in=certified).order_by("pk"):
        pdf = certificate_pdf(subject=subject, timestamper=timestamper, verification=verification)
        pack.write_bytes(f"certificates/subject-{subject.pk}.pdf", pdf)

    signing = certificate_for_signing(organisation)
    pack.write_bytes("signer-certificate.pem", signing.certificate_pem.encode())
    verification_text = (
        f"OK, {verification.events_checked} events, head #{verification.head_sequence} "
        f"{verification.head_hash}"
        if verification.ok
        else f"BROKEN at sequence {verification.broken_sequence}: {verification.reason}"
    )
    pack.write_bytes(
        "VERIFY.txt",
        VERIFY_TEXT.format(
            signer=signing.subject_name,
            verification=verification_text,
            scope=scope.describe(),
            generated_at=generated_at.isoformat(),
        ).encode(),
    )

    files_json = json.dumps(pack.members, indent=1).encode()
    purposes = Purpose.objects.filter(organisation=organisation)
    if scope.purposes:
        purposes = purposes.filter(code__in=scope.purposes)
    table_limit = 2000
    table = list(
        DataSubject.objects.filter(pk__in=sorted(subjects)[:table_limit]).order_by("full_name")
    )
    for subject in table:
        subject.pack_events = subjects[subject.pk]["events"]
        subject.pack_purposes = ", ".join(sorted(subjects[subject.pk]["purposes"]))
    with translation.override(organisation.default_language):
        html = render_to_string(
            "pdf/pack_summary.html",
            {
                "organisation": organisation,
                "scope": scope,
                "purposes": purposes,
                "counts": counts,
                "total_events": total,
                "subject_count": len(subjects),
                "table": table,
                "table_truncated": len(subjects) > table_limit,
                "certified": len(certified),
                "verification": verification,
                "generated_at": generated_at,
                "files": pack.members,
                "signer": signing,
            },
        )
        summary = render_pdf(
            html=html,
            base_url=None,
            attachments=[("files.json", files_json, "application/json")],
            title=f"Evidence pack — {organisation.legal_name}",
            language=organisation.default_language,
        )
    summary = sign_pdf(
        pdf=summary,
        certificate=signing,
        reason="Evidence pack of consent records",
        location=organisation.legal_name,
        timestamper=timestamper,
    )
    pack.write_bytes("summary.pdf", summary)

    manifest = {
        "format": "constancia-evidence-pack/1",
        "organisation": {"name": organisation.legal_name, "tax_id": organisation.tax_id},
        "generated_at": generated_at.isoformat(),
        "scope": scope.to_parameters(),
        "events": total,
        "subjects": len(subjects),
        "ledger": {
            "ok": verification.ok,
            "events_checked": verification.events_checked,
            "head_sequence": verification.head_sequence,
            "head_hash": verification.head_hash,
        },
        "files": list(pack.members),
    }
    pack.write_bytes("manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False).encode())
    sums = "".join(f"{m['sha256']}  {m['name']}\n" for m in pack.members)
    pack.zip.writestr("SHA256SUMS", sums)
    pack.close()
    if progress:
        progress(total, total)
    return manifest


def subject_scope_filter(organisation, identifiers: list[str]) -> list[int]:
    """Subject ids from ids or phone numbers typed in any format."""
    from consents.phones import try_parse_phone

    ids, phones = [], []
    for raw in identifiers:
        raw = raw.strip()
        if not raw:
            continue
        if raw.isdigit() and len(raw) < 9:
            ids.append(int(raw))
        elif (phone := try_parse_phone(raw, organisation.country)) is not None:
            phones.append(phone)
    found = DataSubject.objects.filter(organisation=organisation).filter(
        Q(pk__in=ids) | Q(phone__in=phones)
    )
    return sorted(found.values_list("pk", flat=True))
