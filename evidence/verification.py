"""Check a certificate PDF or an evidence pack ZIP that someone hands back to us.

Three questions: is the signature intact, and by whom; does every file still match the manifest;
do the events it holds still match the live ledger (same sequence, same hash). A pack from an
older date still verifies: later events do not change earlier hashes.
"""

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from consents.models import ConsentEvent

from .models import SigningCertificate

MAX_UPLOAD = 2 * 1024 * 1024 * 1024


@dataclass
class Check:
    ok: bool
    label: str
    detail: str = ""


@dataclass
class VerificationReport:
    kind: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, ok: bool, label: str, detail: str = "") -> None:
        self.checks.append(Check(ok, label, detail))


def _trust_roots(organisation):
    from cryptography import x509

    roots = []
    for cert in SigningCertificate.objects.filter(organisation=organisation):
        roots.extend(x509.load_pem_x509_certificates(cert.certificate_pem.encode()))
    return roots


def _signature_checks(report, organisation, name: str, pdf: bytes) -> None:
    from .signing import validate_pdf

    result = validate_pdf(pdf=pdf, trust_roots=_trust_roots(organisation))
    if not result.signed:
        report.add(False, _("%(file)s is signed") % {"file": name}, _("No signature found."))
        return
    intact = result.intact and result.valid and result.coverage_entire_file
    report.add(
        intact,
        _("%(file)s: signature intact") % {"file": name},
        result.summary if not intact else _("Signed by %(signer)s") % {"signer": result.signer},
    )
    report.add(
        result.trusted,
        _("%(file)s: signed with this organisation's certificate") % {"file": name},
        "" if result.trusted else _("The signer's certificate is not one of ours."),
    )


def _event_records(data) -> list[dict]:
    """Every dict in the JSON that names a ledger event (a sequence and its hash)."""
    found = []
    if isinstance(data, dict):
        if isinstance(data.get("sequence"), int) and isinstance(data.get("hash"), str):
            found.append(data)
        for value in data.values():
            found.extend(_event_records(value))
    elif isinstance(data, list):
        for value in data:
            found.extend(_event_records(value))
    return found


def _ledger_checks(report, organisation, records: list[dict], source: str) -> None:
    by_sequence = {r["sequence"]: r["hash"] for r in records}
    if not by_sequence:
        report.add(False, _("%(file)s holds consent events") % {"file": source}, _("None found."))
        return
    live = dict(
        ConsentEvent.objects.filter(
            organisation=organisation, sequence__in=list(by_sequence)
        ).values_list("sequence", "hash")
    )
    mismatched = sorted(s for s, h in by_sequence.items() if live.get(s) != h)
    report.add(
        not mismatched,
        _("%(n)s events in %(file)s match the live ledger")
        % {"n": len(by_sequence), "file": source},
        _("Not matching: %(seqs)s") % {"seqs": ", ".join(f"#{s}" for s in mismatched[:20])}
        if mismatched
        else "",
    )


def _attachments(pdf: bytes) -> dict[str, bytes]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(pdf))
        return {name: contents[0] for name, contents in reader.attachments.items()}
    except Exception:
        return {}


def verify_pdf(*, organisation, pdf: bytes, name: str = "PDF") -> VerificationReport:
    report = VerificationReport(kind="pdf")
    _signature_checks(report, organisation, name, pdf)
    attachments = _attachments(pdf)
    records = []
    for attachment, content in attachments.items():
        if attachment.endswith(".json"):
            try:
                records.extend(_event_records(json.loads(content)))
            except ValueError:
                continue
    _ledger_checks(report, organisation, records, name)
    return report


def verify_zip(*, organisation, data) -> VerificationReport:
    report = VerificationReport(kind="zip")
    try:
        archive = zipfile.ZipFile(data)
    except zipfile.BadZipFile:
        report.add(False, _("The file is a ZIP archive"), _("It could not be opened."))
        return report
    names = set(archive.namelist())
    if "manifest.json" not in names:
        report.add(False, _("The pack has a manifest.json"), _("It is missing."))
        return report
    manifest = json.loads(archive.read("manifest.json"))
    listed = {f["name"]: f["sha256"] for f in manifest.get("files", [])}
    bad = []
    for member, expected in listed.items():
        if member not in names:
            bad.append(_("%(file)s is missing") % {"file": member})
            continue
        digest = hashlib.sha256()
        with archive.open(member) as handle:
            for block in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(block)
        if digest.hexdigest() != expected:
            bad.append(_("%(file)s was changed") % {"file": member})
    extra = names - set(listed) - {"manifest.json", "SHA256SUMS"}
    bad.extend(_("%(file)s is not in the manifest") % {"file": n} for n in sorted(extra))
    report.add(
        not bad,
        _("All %(n)s files match manifest.json") % {"n": len(listed)},
        "; ".join(bad[:20]),
    )
    if "summary.pdf" in names:
        summary = archive.read("summary.pdf")
        _signature_checks(report, organisation, "summary.pdf", summary)
        embedded = _attachments(summary).get("files.json")
        if embedded is not None:
            signed = {f["name"]: f["sha256"] for f in json.loads(embedded)}
            differs = sorted(n for n, h in signed.items() if listed.get(n) != h)
            report.add(
                not differs,
                _("The signed summary lists the same files and hashes as the manifest"),
                ", ".join(differs[:20]),
            )
    else:
        report.add(False, _("The pack has a signed summary.pdf"), _("It is missing."))
    for member in sorted(n for n in names if n.startswith("certificates/"))[:20]:
        _signature_checks(report, organisation, member, archive.read(member))
    if "records.json" in names:
        _ledger_checks(
            report,
            organisation,
            _event_records(json.loads(archive.read("records.json"))),
            "records.json",
        )
    return report


def verify_upload(*, organisation, uploaded) -> VerificationReport:
    head = uploaded.read(8)
    uploaded.seek(0)
    if head.startswith(b"%PDF-"):
        return verify_pdf(organisation=organisation, pdf=uploaded.read(), name=uploaded.name)
    if head.startswith(b"PK\x03\x04"):
        return verify_zip(organisation=organisation, data=uploaded)
    report = VerificationReport(kind="unknown")
    report.add(
        False,
        _("The file is a certificate (PDF) or an evidence pack (ZIP)"),
        _("It is neither; nothing was checked."),
    )
    return report
