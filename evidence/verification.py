"""Check a certificate PDF or an evidence pack ZIP that someone hands back to us.

Three questions: is the signature intact, and by whom; does every file still match the manifest;
do the events it holds still match the live ledger (same sequence, same hash). A pack from an
older date still verifies: later events do not change earlier hashes.

The upload comes from outside and may be crafted: every answer is a report with a clear message,
never an exception. The upload is capped in size, and every ZIP member is read in chunks that stop
past a cap (the sizes a ZIP header declares are not trusted: a 1 MB ZIP inflating to 1 GiB held a
worker for 150 s and 2.2 GB), with a budget for all members together.
"""

import hashlib
import io
import json
import zipfile
import zlib
from dataclasses import dataclass, field

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from consents.models import ConsentEvent

from .models import SigningCertificate

CHUNK = 1024 * 1024
# What reading a damaged or crafted member can raise: bad CRC or header (BadZipFile), encrypted
# (RuntimeError), unknown compression (NotImplementedError), a broken deflate stream (zlib.error),
# a truncated one (EOFError), and the rest of what zipfile documents.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    RuntimeError,
    NotImplementedError,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
)
MAX_SEQUENCE = 2**63 - 1  # a bigint column: a larger number cannot be a ledger sequence
SEQUENCE_BATCH = 500  # under SQLite's limit on query parameters


class Unreadable(Exception):
    """A file in the upload cannot be used; the message says why, for the report."""


class TooLarge(Unreadable):
    """One member inflates past its cap."""


class OverBudget(Unreadable):
    """All members together inflate past VERIFY_MAX_INFLATED_BYTES: stop reading the ZIP."""


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


def _signature_problem(result) -> str:
    """Why a signature fails, "" if it does not. A document changed after signing is reported as
    changed, not as signed by a stranger: pyHanko marks a changed document untrusted as well, and
    "not one of ours" sent people looking for the wrong problem."""
    if not result.signed:
        return result.summary or _("No signature found.")
    if not result.intact or not result.valid:
        return _("The document was changed after signing: its bytes no longer match the signature.")
    if not result.coverage_entire_file:
        return _("The document was changed after signing: content was added after the signature.")
    if not result.trusted:
        return _("The signer's certificate is not one of ours.")
    return ""


def _signature_checks(report, organisation, name: str, pdf: bytes) -> None:
    from .signing import validate_pdf

    result = validate_pdf(pdf=pdf, trust_roots=_trust_roots(organisation))
    problem = _signature_problem(result)
    if not result.signed:
        report.add(False, _("%(file)s is signed") % {"file": name}, problem)
        return
    unchanged = result.intact and result.valid and result.coverage_entire_file
    # The label says what was found: "intact" beside FAILED read as a contradiction.
    label = _("%(file)s: signature intact") if unchanged else _("%(file)s: signature broken")
    report.add(
        unchanged,
        label % {"file": name},
        _("Signed by %(signer)s") % {"signer": result.signer} if unchanged else problem,
    )
    if unchanged:
        report.add(
            result.trusted,
            _("%(file)s: signed with this organisation's certificate") % {"file": name},
            problem,
        )


def _certificate_checks(report, organisation, archive, names: list[str]) -> None:
    """Every certificate in certificates/, up to VERIFY_MAX_CERTIFICATES (about 0.03 s each);
    the label says how many of how many were checked, so nothing is skipped silently."""
    from .signing import validate_pdf

    if not names:
        return
    limit = settings.VERIFY_MAX_CERTIFICATES
    checked, failures = names[:limit], []
    roots = _trust_roots(organisation)
    for name in checked:
        try:
            problem = _signature_problem(validate_pdf(pdf=archive.read(name), trust_roots=roots))
        except OverBudget:
            raise
        except Unreadable as error:
            problem = str(error)
        if problem:
            failures.append(f"{name}: {problem}")
    detail = "; ".join(failures[:20])
    if len(failures) > 20:
        detail += " " + _("(and %(n)s more)") % {"n": len(failures) - 20}
    if len(checked) < len(names):
        report.add(
            False,
            _("%(checked)s of the %(total)s certificates checked")
            % {"checked": len(checked), "total": len(names)},
            _(
                "Only the first %(limit)s certificates of a pack are checked here, to answer "
                "within a minute; check the others with the pyHanko command in VERIFY.txt."
            )
            % {"limit": limit},
        )
    report.add(
        not failures,
        _(
            "%(checked)s of %(total)s certificates checked: each unchanged since signing and "
            "signed with this organisation's certificate"
        )
        % {"checked": len(checked), "total": len(names)},
        detail,
    )


def _load_json(data: bytes, name: str, object_hook=None):
    """Parsed JSON, or Unreadable with the reason (never RecursionError or a huge-int error)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable(_("%(file)s is not UTF-8 text.") % {"file": name}) from None
    try:
        return json.loads(text, object_hook=object_hook)
    except RecursionError:
        raise Unreadable(_("%(file)s is nested too deeply to be read.") % {"file": name}) from None
    except ValueError as error:
        # Also a number of more than 4,300 digits (Python refuses to convert it).
        raise Unreadable(
            _("%(file)s is not valid JSON: %(error)s") % {"file": name, "error": str(error)[:200]}
        ) from None


def _is_sequence(value) -> bool:
    return type(value) is int and 1 <= value <= MAX_SEQUENCE


def _event_records(data) -> list[dict]:
    """The events of records.json (a list) or of a certificate's records ("events")."""
    if isinstance(data, dict):
        data = data.get("events")
    if not isinstance(data, list):
        return []
    return [
        item
        for item in data
        if isinstance(item, dict) and _is_sequence(item.get("sequence"))
        if isinstance(item.get("hash"), str)
    ]


def _sequence_and_hash(item: dict) -> dict | None:
    # records.json of 100,000 events parsed whole held about 1 GB of dicts; only the sequence and
    # hash of each event are compared with the ledger, so only they are kept.
    if "sequence" in item and "hash" in item:
        return {"sequence": item["sequence"], "hash": item["hash"]}
    return None


def _ledger_checks(report, organisation, records: list[dict], source: str) -> None:
    by_sequence = {r["sequence"]: r["hash"] for r in records}
    if not by_sequence:
        report.add(False, _("%(file)s holds consent events") % {"file": source}, _("None found."))
        return
    sequences = sorted(by_sequence)
    live = {}
    for start in range(0, len(sequences), SEQUENCE_BATCH):
        live.update(
            ConsentEvent.objects.filter(
                organisation=organisation, sequence__in=sequences[start : start + SEQUENCE_BATCH]
            ).values_list("sequence", "hash")
        )
    mismatched = [s for s in sequences if live.get(s) != by_sequence[s]]
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
        # pypdf raises many kinds of error on a damaged PDF; an unreadable attachment is
        # reported as missing by the caller.
        return {}


def verify_pdf(*, organisation, pdf: bytes, name: str = "PDF") -> VerificationReport:
    report = VerificationReport(kind="pdf")
    _signature_checks(report, organisation, name, pdf)
    records = []
    for attachment, content in _attachments(pdf).items():
        if attachment.endswith(".json"):
            try:
                records.extend(_event_records(_load_json(content, attachment)))
            except Unreadable:
                continue
    _ledger_checks(report, organisation, records, name)
    return report


class _Archive:
    """Reads members of an uploaded ZIP within a cap per member and a budget for all of them."""

    def __init__(self, data):
        self.zip = zipfile.ZipFile(data)
        self.budget = settings.VERIFY_MAX_INFLATED_BYTES

    def chunks(self, name: str, limit: int | None = None):
        cap = settings.VERIFY_MAX_MEMBER_BYTES
        limit = cap if limit is None else min(limit, cap)
        read = 0
        try:
            with self.zip.open(name) as handle:
                while block := handle.read(CHUNK):
                    read += len(block)
                    self.budget -= len(block)
                    if read > limit:
                        raise TooLarge(
                            _("%(file)s inflates to more than %(limit)s.")
                            % {"file": name, "limit": filesizeformat(limit)}
                        )
                    if self.budget < 0:
                        raise OverBudget(
                            _("The files of this ZIP inflate to more than %(limit)s in all.")
                            % {"limit": filesizeformat(settings.VERIFY_MAX_INFLATED_BYTES)}
                        )
                    yield block
        except Unreadable:
            raise
        except RuntimeError as error:
            if "encrypted" in str(error) or "password" in str(error):
                raise Unreadable(
                    _("%(file)s is encrypted; a pack is never encrypted.") % {"file": name}
                ) from None
            raise Unreadable(self._damaged(name, error)) from None
        except ZIP_ERRORS as error:
            raise Unreadable(self._damaged(name, error)) from None

    @staticmethod
    def _damaged(name, error) -> str:
        return _("%(file)s cannot be read from the ZIP (%(error)s).") % {
            "file": name,
            "error": str(error)[:200] or type(error).__name__,
        }

    def read(self, name: str, limit: int | None = None) -> bytes:
        return b"".join(self.chunks(name, limit))

    def sha256(self, name: str, limit: int | None) -> str:
        digest = hashlib.sha256()
        for block in self.chunks(name, limit):
            digest.update(block)
        return digest.hexdigest()


def _file_list(data, source: str) -> dict[str, dict]:
    """name -> {"sha256", "size"} from the manifest's (or files.json's) list of files."""
    if isinstance(data, dict):
        data = data.get("files")
    wrong = _("%(file)s does not have the shape of an evidence pack's list of files.") % {
        "file": source
    }
    if not isinstance(data, list):
        raise Unreadable(wrong)
    files = {}
    for item in data:
        if not isinstance(item, dict):
            raise Unreadable(wrong)
        name, sha256, size = item.get("name"), item.get("sha256"), item.get("size")
        if not isinstance(name, str) or not isinstance(sha256, str) or len(sha256) != 64:
            raise Unreadable(wrong)
        if size is not None and not (type(size) is int and size >= 0):
            raise Unreadable(wrong)
        if name in files:
            raise Unreadable(_("%(file)s lists %(name)s twice.") % {"file": source, "name": name})
        files[name] = {"sha256": sha256.lower(), "size": size}
    return files


def _manifest_checks(report, archive: _Archive, names: set[str]) -> dict[str, dict]:
    manifest = _load_json(
        archive.read("manifest.json", settings.VERIFY_MAX_MANIFEST_BYTES), "manifest.json"
    )
    if not isinstance(manifest, dict):
        raise Unreadable(_("manifest.json is not an evidence pack manifest."))
    listed = _file_list(manifest, "manifest.json")
    bad = []
    for member, expected in listed.items():
        if member not in names:
            bad.append(_("%(file)s is missing") % {"file": member})
            continue
        # Stop one byte past the size the manifest declares: a longer member has changed anyway.
        limit = expected["size"] + 1 if expected["size"] is not None else None
        try:
            if archive.sha256(member, limit) != expected["sha256"]:
                bad.append(_("%(file)s was changed") % {"file": member})
        except OverBudget:
            raise
        except TooLarge as error:
            changed = _("%(file)s was changed") % {"file": member}
            bad.append(changed if limit is not None else str(error))
        except Unreadable as error:
            bad.append(str(error))
    extra = names - set(listed) - {"manifest.json", "SHA256SUMS"}
    bad.extend(_("%(file)s is not in the manifest") % {"file": n} for n in sorted(extra))
    report.add(
        not bad,
        _("All %(n)s files match manifest.json") % {"n": len(listed)},
        "; ".join(bad[:20]),
    )
    return listed


def _summary_checks(report, organisation, archive: _Archive, listed: dict) -> None:
    summary = archive.read("summary.pdf")
    _signature_checks(report, organisation, "summary.pdf", summary)
    embedded = _attachments(summary).get("files.json")
    if embedded is None:
        report.add(
            False,
            _("The signed summary lists the same files and hashes as the manifest"),
            _("summary.pdf holds no files.json."),
        )
        return
    signed = _file_list(_load_json(embedded, "files.json"), "files.json")
    differs = sorted(n for n, f in signed.items() if listed.get(n, {}).get("sha256") != f["sha256"])
    report.add(
        not differs,
        _("The signed summary lists the same files and hashes as the manifest"),
        ", ".join(differs[:20]),
    )


def verify_zip(*, organisation, data) -> VerificationReport:
    report = VerificationReport(kind="zip")
    try:
        archive = _Archive(data)
        infos = archive.zip.infolist()
    except ZIP_ERRORS:
        report.add(False, _("The file is a ZIP archive"), _("It could not be opened."))
        return report
    all_names = [info.filename for info in infos]
    names = set(all_names)
    if len(names) != len(all_names):
        twice = sorted({n for n in all_names if all_names.count(n) > 1})
        report.add(
            False,
            _("Each file appears once in the ZIP"),
            _("Twice or more: %(files)s") % {"files": ", ".join(twice[:20])},
        )
        return report
    if "manifest.json" not in names:
        report.add(False, _("The pack has a manifest.json"), _("It is missing."))
        return report
    try:
        listed = _manifest_checks(report, archive, names)
        if "summary.pdf" in names:
            _summary_checks(report, organisation, archive, listed)
        else:
            report.add(False, _("The pack has a signed summary.pdf"), _("It is missing."))
        certificates = sorted(
            n for n in names if n.startswith("certificates/") and n.endswith(".pdf")
        )
        _certificate_checks(report, organisation, archive, certificates)
        if "records.json" in names:
            records = _load_json(
                archive.read("records.json"), "records.json", object_hook=_sequence_and_hash
            )
            _ledger_checks(report, organisation, _event_records(records), "records.json")
    except Unreadable as error:
        report.add(False, _("The pack can be read"), str(error))
    return report


def verify_upload(*, organisation, uploaded) -> VerificationReport:
    if uploaded.size > settings.VERIFY_MAX_UPLOAD_BYTES:
        report = VerificationReport(kind="unknown")
        report.add(
            False,
            _("The file is small enough to verify here"),
            _("It is %(size)s; the limit is %(limit)s. Nothing was checked.")
            % {
                "size": filesizeformat(uploaded.size),
                "limit": filesizeformat(settings.VERIFY_MAX_UPLOAD_BYTES),
            },
        )
        return report
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
