"""Evidence pack for an inquiry: a ZIP anyone can verify with public tools.

Contents: records.csv and records.json (one record per ledger event in scope, with the exact
fields its hash covers), subjects.csv (who the subject ids are, as held now), proofs/ (each proof
file once, named by its SHA-256; a HEIC photo has its JPEG rendition beside
it, named <its name>.jpg), certificates/ (a signed certificate per subject, up to
PACK_CERTIFICATE_LIMIT) and certificates.csv (who has one, who has not), the registers other
apps add (evidence.pack_sections: requests/, the rights-request register of the period with its
answer letters; ropa.pdf, signed, and ropa.csv, the record of processing activities as it stood
at the end of the pack's last day; each unless the scope leaves it out), verify_chain.py (a
standard-library script that recomputes the hash chain), the signer's certificate, VERIFY.txt,
then summary.pdf (signed PDF/A-3b holding the scope, counts, who has a certificate, a per-subject
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
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.csvsafe import csv_safe
from consents.models import ConsentEvent, DataSubject, ProofFile, Purpose, of_visible_subjects
from consents.services import ledger_verify_checked

VERIFIER = Path(__file__).with_name("verify_chain.py")

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
    """What a pack covers. ``for_authority``: made for a court, the AEPD or another authority,
    the only ones blocked data is kept for (LOPDGDD Art. 32): only such a pack includes the
    events and identity of blocked people (and the tombstones of purged ones). Every other pack
    leaves them out, like every other list and export."""

    purposes: list[str] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    subject_ids: list[int] = field(default_factory=list)
    # The rights-request register for the period (rights_requests.pack, through pack_sections).
    requests: bool = True
    # The record of processing activities (GDPR Art. 30) as it stood at the end of date_to, or
    # now (processing.packs, through pack_sections).
    ropa: bool = True
    for_authority: bool = False

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
            requests=bool(parameters.get("requests", True)),
            ropa=bool(parameters.get("ropa", True)),
            for_authority=bool(parameters.get("for_authority")),
        )

    def to_parameters(self) -> dict:
        return {
            "purposes": self.purposes,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "subject_ids": self.subject_ids,
            "requests": self.requests,
            "ropa": self.ropa,
            "for_authority": self.for_authority,
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
        if not self.for_authority:
            events = events.filter(of_visible_subjects())
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
        if not self.requests:
            parts.append(_("without the rights requests"))
        if self.for_authority:
            parts.append(_("for an authority (blocked people included)"))
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


def _csv_row(record: dict) -> dict:
    """records.csv: the canonical record (certificates.event_record), flat for a spreadsheet."""
    notice = record["notice"] or {}
    hashed = record["hashed_fields"]
    return {
        "sequence": record["sequence"],
        "hash": record["hash"],
        "prev_hash": record["prev_hash"],
        "subject_id": record["subject_id"],
        "subject_hmac": record["identifiers_hmac"],
        "purpose_code": record["purpose"]["code"],
        "action": record["action"],
        "channel": record["collection_method"],
        "captured_at": record["captured_at"],
        "recorded_at": record["recorded_at"],
        "recorded_by": record["recorded_by"],
        "by_subject": hashed["by_subject"],
        "given_by": record["given_by"],
        "notice_version": notice.get("version", ""),
        "notice_language": notice.get("language", ""),
        "notice_sha256": hashed["notice_sha256"],
        "proof_sha256": " ".join(p["sha256"] for p in record["proof"]),
        "ip_address": record["ip_address"] or "",
        "user_agent": record["user_agent"],
        "confirms_sequence": record["confirms_sequence"] or "",
    }


VERIFY_TEXT = """How to verify this evidence pack
================================

Controller: {organisation}
Generated: {generated_at}
Scope: {scope}

What this pack covers
---------------------
People in this pack: {people}. Consent events: {events} (all of them are in records.csv and
records.json).
Signed proof-of-consent certificates included: {certified} of {people} people.
certificates.csv lists every person in the pack and the file of their certificate, or
"not included".
{others}
Run each command below in the folder the pack was extracted to.

1. Files
--------
Every file is listed with its SHA-256 in SHA256SUMS and manifest.json. On Linux:

    sha256sum -c SHA256SUMS

(on macOS: shasum -a 256 -c SHA256SUMS). Every line must end in ": OK". A changed, missing or
added byte in any file shows here.

2. Signatures
-------------
summary.pdf and every file in certificates/ are signed (PAdES) with the certificate in
signer-certificate.pem, issued to:

    {signer}

Check them in any PDF reader's signature panel, or with pyHanko. Install it once (on Debian or
Ubuntu, install the package python3-venv first):

    python3 -m venv ~/pyhanko-env
    ~/pyhanko-env/bin/pip install pyhanko-cli

then check the summary:

    ~/pyhanko-env/bin/pyhanko sign validate --pretty-print \\
        --trust signer-certificate.pem --trust-replace summary.pdf

The output must contain these four lines:

    The signer's certificate is trusted.
    The signature is cryptographically sound.
    The signature covers the entire file.
    The signature is judged VALID.

A file changed after signing prints "The signature is cryptographically unsound." and "The
signature is judged INVALID." instead. The certificates, one line each:

    for f in certificates/*.pdf; do
        printf '%s ' "$f"
        ~/pyhanko-env/bin/pyhanko sign validate \\
            --trust signer-certificate.pem --trust-replace "$f"
    done

Every line must contain ":INTACT:TRUSTED".

summary.pdf embeds the SHA-256 of every other file (attachment files.json), so its signature
covers the whole pack. Extract it with pdfdetach (package poppler-utils):

    pdfdetach -saveall summary.pdf

3. The ledger's hash chain
--------------------------
Each event in records.json carries the exact fields the ledger hashed (hashed_fields), the hash
of the event before it (prev_hash) and its own hash, where
hash = SHA-256(prev_hash + canonical JSON of hashed_fields), canonical JSON being the fields
with keys sorted, no spaces and UTF-8 kept as is. verify_chain.py (Python 3, standard library
only) recomputes them:

    python3 verify_chain.py

It must print a first line that starts with "OK:" (and exit with status 0). On a problem it
prints "BROKEN at sequence N:" with the first broken sequence number (and exits with status 1).
It checks the hash of every event in the pack, the link to the event before wherever both
sequence numbers are in the pack, and the chain head below. The pack holds only the events in
its scope: links across the gaps in the sequence numbers cannot be checked from the pack alone;
the controller can check every event against the live ledger (Constancia's "Verify evidence"
page, with this ZIP).

The ledger was verified when this pack was made: {verification}
Chain head then: #{head_sequence} {head_hash}

4. Signed checkpoints
---------------------
After every successful verification the controller signs a checkpoint: a small JSON statement
of the chain head it verified ({{organisation, sequence, head_hash, at}}). checkpoints/ holds
every one signed so far ({checkpoints} in this pack), each as checkpoint-N-TIME.json (the exact
bytes signed), checkpoint-N-TIME.p7s (a detached CMS signature, DER) and, when a timestamp
authority was used, checkpoint-N-TIME.tst (an RFC 3161 token over the .json). Check a signature
with OpenSSL:

    openssl cms -verify -binary -inform DER -purpose any \
        -in checkpoints/FILE.p7s -content checkpoints/FILE.json \
        -CAfile checkpoints/signer-certificates.pem -out /dev/null

It must print "CMS Verification successful"; a changed byte prints "Verification failure".
Every checkpoint at once:

    for f in checkpoints/*.p7s; do
        printf '%s ' "$f"
        openssl cms -verify -binary -inform DER -purpose any -in "$f" \
            -content "${{f%.p7s}}.json" -CAfile checkpoints/signer-certificates.pem -out /dev/null
    done

verify_chain.py checks the checkpoints against the pack: the event at a checkpoint's sequence,
where it is in the pack, must have the hash the checkpoint signed, and the chain head above
must not be below any checkpoint's sequence (a head that went backwards means the newest
events were removed). Keep your own copies of checkpoints: they pin the ledger as it was.
"""

OTHERS_TEXT = """The other {missing} people have no certificate in this pack: a pack includes at
most {limit}, for the people with the lowest ids. Their events are all in records.csv and
records.json. The controller can issue a certificate for any of them, one person at a time:
on the person's page in Constancia ("Signed certificate (PDF)"), or on the server with

    python manage.py export_certificate --org {slug} --subject <subject_id> -o certificate.pdf
"""


@dataclass
class _Pack:
    """What the section writers share while one pack is written."""

    organisation: object
    scope: PackScope
    zip: HashingZip
    generated_at: datetime
    verification: object
    total: int
    subjects: dict[int, dict] = field(default_factory=dict)
    proof_shas: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(
        default_factory=lambda: {"granted": 0, "withdrawn": 0, "refused": 0}
    )
    certified: list[int] = field(default_factory=list)
    checkpoints: int = 0
    sections: dict[str, dict] = field(default_factory=dict)

    @property
    def missing(self) -> int:
        return len(self.subjects) - len(self.certified)

    def verification_text(self) -> str:
        result = self.verification
        if result.ok:
            return f"OK, {result.events_checked} events."
        return f"BROKEN at sequence {result.broken_sequence}: {result.reason}"


def _subjects_by_id(ids: list[int]):
    """Every DataSubject of ``ids`` in id order, read 2,000 at a time."""
    for start in range(0, len(ids), 2000):
        yield from DataSubject.objects.filter(pk__in=ids[start : start + 2000]).order_by("pk")


def _write_records(pack: _Pack, progress) -> None:
    """records.csv and records.json: one canonical record per event (certificates.event_record)."""
    from .certificates import event_record

    # A ZIP takes one member at a time: the CSV streams into it while the JSON streams to a
    # temporary file beside it, copied in afterwards. Memory stays flat whatever the scope.
    json_temp = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the with-block below)
    with pack.zip.open("records.csv") as csv_out:
        text_csv = io.TextIOWrapper(csv_out, encoding="utf-8", newline="", write_through=True)
        writer = csv.DictWriter(text_csv, fieldnames=RECORD_FIELDS)
        writer.writeheader()
        json_temp.write(b"[\n")
        rows = (
            pack.scope.events(pack.organisation)
            .select_related("purpose", "recorded_by", "notice_version", "confirms")
            .order_by("sequence")
            .iterator(chunk_size=2000)
        )
        for done, event in enumerate(rows, start=1):
            record = event_record(event)
            writer.writerow({k: csv_safe(v) for k, v in _csv_row(record).items()})
            prefix = b",\n" if done > 1 else b""
            json_temp.write(prefix + json.dumps(record, ensure_ascii=False).encode("utf-8"))
            pack.counts[event.action] += 1
            entry = pack.subjects.setdefault(event.subject_id, {"events": 0, "purposes": set()})
            entry["events"] += 1
            entry["purposes"].add(event.purpose.code)
            for digest in event.proof_digests:
                if digest.get("kind") == "file":
                    pack.proof_shas.add(digest["sha256"])
            if progress and done % 2000 == 0:
                progress(done, pack.total)
        json_temp.write(b"\n]\n")
        text_csv.detach()
    json_temp.seek(0)
    with json_temp, pack.zip.open("records.json") as out:
        for block in iter(lambda: json_temp.read(1024 * 1024), b""):
            out.write(block)


def _write_csv(pack: _Pack, name: str, header: list[str], rows) -> None:
    with pack.zip.open(name) as out:
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text)
        writer.writerow(header)
        for row in rows:
            writer.writerow([csv_safe(v) for v in row])
        text.detach()


def _write_subjects(pack: _Pack) -> None:
    """subjects.csv: who the subject ids are, as held now."""
    rows = (
        (
            subject.pk,
            subject.full_name,
            subject.phone.as_e164 if subject.phone else "",
            subject.email,
            subject.kind,
            subject.status,
            subject.guardian_name,
            pack.subjects[subject.pk]["events"],
            " ".join(sorted(pack.subjects[subject.pk]["purposes"])),
        )
        for subject in _subjects_by_id(sorted(pack.subjects))
    )
    header = SUBJECT_FIELDS + ["events_in_scope", "purposes_in_scope"]
    _write_csv(pack, "subjects.csv", header, rows)


def _write_proofs(pack: _Pack) -> None:
    """proofs/: each proof file once, named by its SHA-256."""
    for record in ProofFile.objects.filter(
        organisation=pack.organisation, sha256__in=pack.proof_shas
    ):
        name = f"proofs/{record.sha256}{record.extension}"
        if any(m["name"] == name for m in pack.zip.members):
            continue
        with record.file.open("rb") as source, pack.zip.open(name) as out:
            for block in iter(lambda: source.read(1024 * 1024), b""):
                out.write(block)
        if record.rendition:
            # The JPEG to look at a HEIC photo with, named after the original it was made from.
            with record.rendition.open("rb") as source, pack.zip.open(f"{name}.jpg") as out:
                for block in iter(lambda: source.read(1024 * 1024), b""):
                    out.write(block)


def _certificate_name(subject_id: int) -> str:
    return f"certificates/subject-{subject_id}.pdf"


def _write_certificates(pack: _Pack, timestamper) -> None:
    """certificates/: a signed certificate for the first PACK_CERTIFICATE_LIMIT people (by id),
    and certificates.csv saying who has one and who has not: a reader must never assume that a
    pack for 301 people holds 301 certificates when it holds 100."""
    from .certificates import certificate_pdf
    from .parallel import render_all

    pack.certified = sorted(pack.subjects)[: settings.PACK_CERTIFICATE_LIMIT]

    # Read 2,000 at a time before rendering, with the organisation already known; forked
    # helpers inherit them.
    people = {subject.pk: subject for subject in _subjects_by_id(pack.certified)}
    for subject in people.values():
        subject.organisation = pack.organisation

    def render(subject_id: int) -> bytes:
        return certificate_pdf(
            subject=people[subject_id], timestamper=timestamper, verification=pack.verification
        )

    # Rendered on several cores where that is safe (evidence.parallel), written in id order.
    for subject_id, pdf in render_all(pack.certified, render):
        pack.zip.write_bytes(_certificate_name(subject_id), pdf)
    certified = set(pack.certified)
    rows = (
        (
            subject.pk,
            subject.full_name,
            _certificate_name(subject.pk) if subject.pk in certified else "not included",
        )
        for subject in _subjects_by_id(sorted(pack.subjects))
    )
    _write_csv(pack, "certificates.csv", ["subject_id", "full_name", "certificate"], rows)


def _write_checkpoints(pack: _Pack) -> None:
    """checkpoints/: every signed checkpoint of the organisation (consents.checkpoints), as the
    exact statement, its detached CMS signature and any RFC 3161 token, an index that
    verify_chain.py reads, and the certificates that signed them (for openssl cms -verify)."""
    from consents.models import LedgerCheckpoint

    index, certificates, used = [], {}, set()
    rows = LedgerCheckpoint.objects.filter(organisation=pack.organisation).order_by(
        "sequence", "signed_at", "pk"
    )
    for checkpoint in rows.iterator(chunk_size=500):
        stem = f"checkpoints/{checkpoint.file_stem}"
        if stem in used:  # two verifications within the same second
            stem = f"{stem}-{checkpoint.pk}"
        used.add(stem)
        pack.zip.write_bytes(f"{stem}.json", checkpoint.statement.encode("utf-8"))
        pack.zip.write_bytes(f"{stem}.p7s", bytes(checkpoint.signature))
        token = bytes(checkpoint.timestamp_token or b"")
        if token:
            pack.zip.write_bytes(f"{stem}.tst", token)
        certificates.setdefault(checkpoint.certificate_fingerprint, checkpoint.certificate_pem)
        index.append(
            {
                "sequence": checkpoint.sequence,
                "head_hash": checkpoint.head_hash,
                "signed_at": checkpoint.signed_at.isoformat(),
                "statement": f"{stem}.json",
                "signature": f"{stem}.p7s",
                "timestamp_token": f"{stem}.tst" if token else None,
            }
        )
    pack.checkpoints = len(index)
    if certificates:
        pack.zip.write_bytes(
            "checkpoints/signer-certificates.pem", "".join(certificates.values()).encode()
        )
    pack.zip.write_bytes(
        "checkpoints/checkpoints.json", json.dumps(index, indent=1).encode("utf-8")
    )


def _write_sections(pack: _Pack) -> None:
    """The registers other apps add (evidence.pack_sections), as the scope asks."""
    from .pack_sections import get

    wanted = [code for code in ("requests", "ropa") if getattr(pack.scope, code)]
    for code in wanted:
        section = get(code)
        if section is not None:
            pack.sections[code] = section.write(
                organisation=pack.organisation, scope=pack.scope, zip=pack.zip
            )


def _write_verify_text(pack: _Pack, signing) -> None:
    """VERIFY.txt: every command it gives was run on an extracted pack (tests/evidence)."""
    organisation, verification = pack.organisation, pack.verification
    others = ""
    if pack.missing:
        others = OTHERS_TEXT.format(
            missing=pack.missing, limit=settings.PACK_CERTIFICATE_LIMIT, slug=organisation.slug
        )
    text = VERIFY_TEXT.format(
        organisation=organisation.legal_name,
        generated_at=pack.generated_at.isoformat(),
        scope=pack.scope.describe(),
        people=len(pack.subjects),
        events=pack.total,
        certified=len(pack.certified),
        others=others,
        signer=signing.subject_name,
        verification=pack.verification_text(),
        head_sequence=verification.head_sequence,
        head_hash=verification.head_hash,
        checkpoints=pack.checkpoints,
    )
    pack.zip.write_bytes("VERIFY.txt", text.encode())


def _id_ranges(ids: list[int]) -> str:
    """1, 2, 3, 7, 9, 10 -> "1-3, 7, 9-10": a hundred ids stay one readable line in the PDF."""
    parts, start = [], None
    for index, value in enumerate(ids):
        if start is None:
            start = value
        if index + 1 == len(ids) or ids[index + 1] != value + 1:
            parts.append(str(start) if start == value else f"{start}-{value}")
            start = None
    return ", ".join(parts)


def _write_summary(pack: _Pack, signing, timestamper) -> None:
    """summary.pdf: signed PDF/A-3b with the scope, the figures, who has a certificate, the
    ledger verification and, embedded as files.json, the SHA-256 of every file written so far."""
    from .pdf import render_pdf
    from .signing import sign_pdf

    organisation, subjects = pack.organisation, pack.subjects
    files_json = json.dumps(pack.zip.members, indent=1).encode()
    purposes = Purpose.objects.filter(organisation=organisation)
    if pack.scope.purposes:
        purposes = purposes.filter(code__in=pack.scope.purposes)
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
                "scope": pack.scope,
                "purposes": purposes,
                "counts": pack.counts,
                "total_events": pack.total,
                "subject_count": len(subjects),
                "table": table,
                "table_truncated": len(subjects) > table_limit,
                "certified": len(pack.certified),
                "certified_ids": _id_ranges(pack.certified),
                "not_certified": pack.missing,
                "verification": pack.verification,
                "generated_at": pack.generated_at,
                "files": pack.zip.members,
                "signer": signing,
                "sections": list(pack.sections.values()),
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
    pack.zip.write_bytes("summary.pdf", summary)


def _write_manifest(pack: _Pack) -> dict:
    """manifest.json, then SHA256SUMS (what ``sha256sum -c`` reads), covering every other file."""
    organisation, verification = pack.organisation, pack.verification
    manifest = {
        "format": "constancia-evidence-pack/1",
        "organisation": {"name": organisation.legal_name, "tax_id": organisation.tax_id},
        "generated_at": pack.generated_at.isoformat(),
        "scope": pack.scope.to_parameters(),
        "events": pack.total,
        "subjects": len(pack.subjects),
        "certificates": {
            "people": len(pack.subjects),
            "with_certificate": len(pack.certified),
            "without_certificate": pack.missing,
            "limit": settings.PACK_CERTIFICATE_LIMIT,
            "subject_ids": pack.certified,
            "index": "certificates.csv",
            "others": "Not in this pack: the controller issues them one person at a time "
            "(the person's page in Constancia, or manage.py export_certificate)."
            if pack.missing
            else "",
        },
        "ledger": {
            "ok": verification.ok,
            "events_checked": verification.events_checked,
            "head_sequence": verification.head_sequence,
            "head_hash": verification.head_hash,
        },
        "chain_verifier": {
            "file": "verify_chain.py",
            "command": "python3 verify_chain.py",
            "hash": "sha256(prev_hash + canonical JSON of hashed_fields)",
            "checks": "the hash of every event in records.json; prev_hash against the hash of "
            "the event before, wherever both sequence numbers are in the pack; the chain head; "
            "the signed checkpoints in checkpoints/checkpoints.json",
        },
        "sections": {code: written["manifest"] for code, written in pack.sections.items()},
        "files": list(pack.zip.members),
    }
    pack.zip.write_bytes(
        "manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False).encode()
    )
    sums = "".join(f"{m['sha256']}  {m['name']}\n" for m in pack.zip.members)
    pack.zip.zip.writestr("SHA256SUMS", sums)
    return manifest


def build_pack(*, organisation, scope: PackScope, path, progress=None, timestamper=None) -> dict:
    """Write the pack to ``path``; each section writer adds its files in the order a reader
    checks them. ``progress(done, total)`` is called as events are written."""
    from .signing import certificate_for_signing

    total = scope.events(organisation).count()
    if progress:
        progress(0, total)
    pack = _Pack(
        organisation=organisation,
        scope=scope,
        zip=HashingZip(path),
        generated_at=timezone.localtime(),
        # Verified once, before any event is read, and handed to every certificate.
        verification=ledger_verify_checked(organisation=organisation),
        total=total,
    )
    _write_records(pack, progress)
    _write_subjects(pack)
    _write_proofs(pack)
    _write_certificates(pack, timestamper)
    _write_checkpoints(pack)
    _write_sections(pack)
    pack.zip.write_bytes("verify_chain.py", VERIFIER.read_bytes())
    signing = certificate_for_signing(organisation)
    pack.zip.write_bytes("signer-certificate.pem", signing.certificate_pem.encode())
    _write_verify_text(pack, signing)
    _write_summary(pack, signing, timestamper)
    manifest = _write_manifest(pack)
    pack.zip.close()
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
