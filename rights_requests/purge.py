"""The purge at the end of the blocking period (LOPDGDD Art. 32, GDPR Art. 5(1)(e) and 17).

An erased person is first blocked (rights_requests.fulfilment.erasure_carry_out). When their
purge date has passed, this removes every piece of their personal data from the database and
from the media storage, and leaves:

- the ledger as it was, still verifying: its events hold the subject's id, a keyed HMAC of the
  identifiers and SHA-256 digests, never a name, number or quote (ARCHITECTURE invariant 3).
  What the ledger itself covers with its hash (the IP address and browser of an act done
  online) stays, since changing it would break the chain: it is the proof of the act;
- a tombstone: the DataSubject row (the events reference it) with status PURGED, no personal
  data, the day it was purged and the erasure request it was purged under
  (``erasure_request_pk``); each of the person's requests keeps its dates, outcome and
  ``purged_at``, the proof that it was answered and on time;
- the suppression list entry, if the person objected to marketing: a keyed hash, no number.

What goes: name, phone, e-mail, guardian, notes and external reference; proof quotes, notes and
files (and renditions) on disk; IP addresses and browsers kept outside the ledger (unconfirmed
answers, the person's own changes in history); the requests' requester fields, what was asked,
free text naming the person, attachments and the letters' text and files (their SHA-256 and
dates stay); every historical copy of those rows (simple-history) and every audit entry about
them; roster checks; consent-link labels; job files on disk holding the person (access and
portability copies, certificates, evidence packs listing them, staged imports) and job texts.

Writes go through QuerySet.update(), not save(): a save would make simple-history copy the old
values once more (and the audit feed with them). The purge of one person is one transaction;
files are removed after it commits, so a failed purge keeps everything, files included.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField
from phonenumber_field.phonenumber import PhoneNumber

from accounts.models import AuditEntry
from accounts.services import audit_record
from consents.choices import SubjectStatus
from consents.models import (
    ConsentLink,
    DataSubject,
    Proof,
    ProofFile,
    UnconfirmedAnswer,
)
from evidence import runners as evidence_runners
from groups.models import GroupMembership, RosterCheck
from jobs.models import Job

from .fulfilment import EXPORT_JOBS
from .models import RightsRequest

log = logging.getLogger(__name__)

PURGED = "[purged]"
# Shorter values are not searched for in free text: "Ana" would scrub every "Anabel".
MIN_NEEDLE = 4

# Fields whose value is personal data wherever it appears (models and audit changes alike).
PERSONAL_FIELDS = frozenset(
    {
        "full_name",
        "phone",
        "email",
        "guardian_name",
        "notes",
        "external_ref",
        "quote",
        "note",
        "original_name",
        "body",
        "sent_to",
        "details",
        "requester_name",
        "requester_phone",
        "requester_email",
        "identity_note",
        "answer",
        "ip_address",
        "user_agent",
    }
)
# Registers whose rows are shown in the audit feed by a personal value (a name, a file name).
NAMED_REGISTERS = frozenset(
    {
        "datasubject",
        "groupmembership",
        "unconfirmedanswer",
        "proof",
        "prooffile",
        "requestattachment",
    }
)
# Codes and choices: never personal, never scrubbed.
KEPT_FIELDS = frozenset(
    {
        "status",
        "right",
        "channel",
        "language",
        "kind",
        "identity_method",
        "erasure_exception",
        "preferred_language",
        "sha256",
        "content_type",
        "sent_via",
        "stage",
        "history_type",
        "history_change_reason",
        "token",
    }
)


@dataclass
class Needles:
    """The person's values to find in free text: every name, number and e-mail they had."""

    texts: set[str] = field(default_factory=set)
    digits: set[str] = field(default_factory=set)

    def add_text(self, value) -> None:
        value = " ".join(str(value or "").split())
        if len(value) >= MIN_NEEDLE:
            self.texts.add(value)

    def add_phone(self, value) -> None:
        if not value:
            return
        phone = value if isinstance(value, PhoneNumber) else PhoneNumber.from_string(str(value))
        if not phone.is_valid():
            return
        for form in (phone.as_e164, phone.as_international, phone.as_national):
            self.add_text(form)
        national = re.sub(r"\D", "", phone.as_national)
        self.digits.add(national)
        self.digits.add(phone.as_e164.lstrip("+"))

    def pattern(self) -> re.Pattern | None:
        words = sorted(self.texts, key=len, reverse=True)
        if not words:
            return None
        return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)

    def escaped(self) -> set[str]:
        """How the values look inside JSON stored with ASCII escapes ("Luc\\u00eda")."""
        return {json.dumps(t)[1:-1] for t in self.texts} | self.texts

    def in_bytes(self, content: bytes) -> bool:
        text = content.decode("utf-8", errors="ignore").casefold()
        if any(t.casefold() in text for t in self.texts):
            return True
        digits_only = re.sub(r"\D", "", text)
        return any(d in digits_only for d in self.digits if len(d) >= 7)


def _scrub_text(value: str, pattern: re.Pattern | None) -> str:
    if not value or pattern is None:
        return value
    return pattern.sub(PURGED, value)


def _scrub_json(value, pattern):
    if isinstance(value, str):
        return _scrub_text(value, pattern)
    if isinstance(value, list):
        return [_scrub_json(v, pattern) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_json(v, pattern) for k, v in value.items()}
    return value


def _blank(field_obj):
    if field_obj.null:
        return None
    return ""


def _scrubbed_values(model, row, pattern, blank: frozenset) -> dict:
    """New values for ``row``'s personal fields: ``blank`` ones emptied, IP addresses dropped,
    other free text with the person's values replaced."""
    changes = {}
    for f in model._meta.concrete_fields:
        if f.name in KEPT_FIELDS or f.primary_key or f.is_relation:
            continue
        current = getattr(row, f.attname)
        if f.name in blank or isinstance(f, models.GenericIPAddressField | PhoneNumberField):
            if f.name == "history_ip_address" and getattr(row, "history_user_id", 0):
                continue  # a member of staff's address, not the person's
            if current not in (None, ""):
                changes[f.attname] = _blank(f)
        elif isinstance(f, models.FileField):
            if current:
                changes[f.attname] = ""
        elif isinstance(f, models.JSONField):
            scrubbed = _scrub_json(current, pattern)
            if scrubbed != current:
                changes[f.attname] = scrubbed
        elif isinstance(f, models.CharField | models.TextField):
            scrubbed = _scrub_text(current, pattern)
            if scrubbed != current:
                changes[f.attname] = scrubbed
    return changes


def _scrub_rows(model, queryset, pattern, blank: frozenset = frozenset()) -> int:
    """Scrub every row of ``queryset`` (live or historical) with QuerySet.update()."""
    done = 0
    for row in queryset.iterator(chunk_size=500):
        changes = _scrubbed_values(model, row, pattern, blank)
        if changes:
            model._default_manager.filter(pk=row.pk).update(**changes)
            done += 1
    return done


def _history_of(model):
    return model.history.model if hasattr(model, "history") else None


def _files_of(model, queryset) -> list:
    """(storage, name) of every file a row of ``queryset`` holds, to remove after commit."""
    found = []
    for f in model._meta.concrete_fields:
        if isinstance(f, models.FileField):
            for name in queryset.exclude(**{f.attname: ""}).values_list(f.attname, flat=True):
                if name:
                    found.append((f.storage, name))
    return found


def _models_referencing(target, app_label: str):
    """Models of ``app_label`` with a foreign key to ``target`` (what PART A adds included)."""
    from django.apps import apps

    for model in apps.get_app_config(app_label).get_models():
        for f in model._meta.concrete_fields:
            if (
                f.is_relation
                and f.related_model is target
                and not model.__name__.startswith("Historical")
            ):
                yield model, f.name


# --- one person ----------------------------------------------------------------------------


@dataclass
class PurgeResult:
    subject_id: int
    requests: list[int] = field(default_factory=list)
    files_removed: int = 0
    audit_entries: int = 0
    jobs: int = 0


def _needles(subject: DataSubject, requests) -> Needles:
    needles = Needles()
    history = subject.history.all()
    for row in [subject, *history]:
        for name in ("full_name", "email", "guardian_name", "external_ref"):
            needles.add_text(getattr(row, name))
        needles.add_phone(row.phone)
    for request_ in requests:
        needles.add_text(request_.requester_name)
        needles.add_text(request_.requester_email)
        needles.add_phone(request_.requester_phone)
        for row in request_.history.all():
            needles.add_text(row.requester_name)
            needles.add_text(row.requester_email)
            needles.add_phone(row.requester_phone)
    for quote in Proof.objects.filter(subject=subject).values_list("quote", flat=True):
        needles.add_text(quote)
    return needles


def _requests_of(subject: DataSubject):
    """The person's requests: matched to them, or made with their number or e-mail."""
    match = Q(subject=subject)
    if subject.phone:
        match |= Q(requester_phone=subject.phone)
    if subject.email:
        match |= Q(requester_email__iexact=subject.email)
    return RightsRequest.objects.filter(organisation=subject.organisation_id).filter(match)


def _purge_requests(requests, pattern, now, files: list) -> dict[str, list[int]]:
    """Requests, every row that references them, and all their historical copies."""
    ids = list(requests.values_list("pk", flat=True))
    touched = {"rightsrequest": ids}
    blank = frozenset(
        {"requester_name", "requester_phone", "requester_email", "details", "identity_note"}
    )
    for model, fk in [
        (RightsRequest, "pk"),
        *_models_referencing(RightsRequest, "rights_requests"),
    ]:
        rows = model._default_manager.filter(**{f"{fk}__in": ids})
        files += _files_of(model, rows)
        row_blank = blank | {"body", "sent_to", "original_name"}
        _scrub_rows(model, rows, pattern, row_blank)
        touched[model._meta.model_name] = list(rows.values_list("pk", flat=True))
        history = _history_of(model)
        if history is not None:
            key = "id__in" if model is RightsRequest else f"{fk}_id__in"
            hist_rows = history._default_manager.filter(**{key: ids})
            _scrub_rows(history, hist_rows, pattern, row_blank)
    RightsRequest.objects.filter(pk__in=ids).update(purged_at=now)
    for rights_request in RightsRequest.objects.filter(pk__in=ids):
        # One historical row says when the request's personal data was purged; the rows
        # before it are scrubbed, so it shows nothing else changing.
        rights_request.save(update_fields=["purged_at"])
    return touched


def _purge_subject_rows(subject: DataSubject, pattern, files: list) -> dict[str, list[int]]:
    touched = {"datasubject": [subject.pk]}
    proofs = Proof.objects.filter(subject=subject)
    Proof.objects.filter(pk__in=proofs.values("pk")).update(quote="", note="")
    touched["proof"] = list(proofs.values_list("pk", flat=True))
    proof_files = ProofFile.objects.filter(proof__subject=subject)
    files += _files_of(ProofFile, proof_files)
    touched["prooffile"] = list(proof_files.values_list("pk", flat=True))
    # The SHA-256, size and type stay: the ledger quotes them; the file and its name go.
    ProofFile.objects.filter(pk__in=touched["prooffile"]).update(
        file="", rendition="", original_name=""
    )
    answers = UnconfirmedAnswer.objects.filter(subject=subject)
    touched["unconfirmedanswer"] = list(answers.values_list("pk", flat=True))
    answers.update(ip_address=None, user_agent="", status=UnconfirmedAnswer.Status.DISMISSED)
    links = ConsentLink.objects.filter(subject=subject)
    touched["consentlink"] = list(links.values_list("pk", flat=True))
    links.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    links.update(label="")
    touched["groupmembership"] = list(
        GroupMembership.objects.filter(subject=subject).values_list("pk", flat=True)
    )
    # Whatever else points at the person (and is not the ledger, nor a request: done above).
    for app in ("consents", "groups", "rights_requests"):
        for model, fk in _models_referencing(DataSubject, app):
            if model.__name__ in ("ConsentEvent", "ConsentState", "RightsRequest"):
                continue
            _scrub_rows(model, model._default_manager.filter(**{fk: subject}), pattern)
    history = DataSubject.history.model
    _scrub_rows(
        history,
        history.objects.filter(id=subject.pk),
        pattern,
        frozenset(PERSONAL_FIELDS & {f.name for f in DataSubject._meta.concrete_fields}),
    )
    return touched


def _purge_rosters(subject: DataSubject, needles: Needles, pattern) -> None:
    numbers = {t for t in needles.texts if t.startswith("+")}
    for check in RosterCheck.objects.filter(organisation=subject.organisation_id):
        changed = False
        results = check.results or {}
        for rows in results.values():
            for row in rows if isinstance(rows, list) else []:
                if row.get("subject") == subject.pk or row.get("phone") in numbers:
                    for key in ("name", "phone"):
                        if row.get(key):
                            row[key] = PURGED
                            changed = True
                elif "line" in row and _scrub_text(row["line"], pattern) != row["line"]:
                    row["line"] = _scrub_text(row["line"], pattern)
                    changed = True
        if changed:
            RosterCheck.objects.filter(pk=check.pk).update(results=results)


def _purge_audit(organisation_id, touched: dict, needles: Needles, pattern) -> int:
    """Audit entries about the person's rows, and any other that names them."""
    about = Q(pk__in=[])
    for register, ids in touched.items():
        if ids:
            about |= Q(register=register, object_id__in=[str(i) for i in ids])
    named = Q(pk__in=[])
    for text in needles.escaped():
        named |= Q(object_repr__icontains=text) | Q(changes_text__icontains=text)
    entries = (
        AuditEntry.objects.filter(organisation_id=organisation_id)
        .annotate(changes_text=Cast("changes", TextField()))
        .filter(about | named)
    )
    ids = {register: {str(i) for i in values} for register, values in touched.items()}
    done = 0
    for entry in entries.iterator(chunk_size=500):
        is_about = entry.object_id in ids.get(entry.register, ())
        changes = []
        for change in entry.changes or []:
            change = dict(change)
            if is_about and change.get("field") in PERSONAL_FIELDS:
                change["old"] = PURGED if change.get("old") else ""
                change["new"] = PURGED if change.get("new") else ""
            else:
                change = _scrub_json(change, pattern)
            changes.append(change)
        values = {"changes": changes}
        if is_about and entry.register in NAMED_REGISTERS:
            values["object_repr"] = f"{entry.register} #{entry.object_id} ({PURGED})"
        else:
            values["object_repr"] = _scrub_text(entry.object_repr, pattern)
        if is_about and entry.user_id is None:
            values["ip_address"] = None  # the person acted themself: their address
        AuditEntry.objects.filter(pk=entry.pk).update(**values)
        done += 1
    return done


def _pack_lists(path: Path, subject_id: int) -> bool:
    """Whether an evidence pack on disk lists the person (its subjects.csv)."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open("subjects.csv") as member:
            reader = csv.reader(io.TextIOWrapper(member, encoding="utf-8"))
            next(reader, None)
            return any(row and row[0] == str(subject_id) for row in reader)
    except (OSError, KeyError, zipfile.BadZipFile):
        return False


def _purge_jobs(subject: DataSubject, request_ids: list[int], pattern, files: list) -> list[int]:
    """Job files holding the person (removed, the job marked expired) and job texts naming
    them. The rows stay: the Exports page and the audit trail say the export was made."""
    touched = []
    jobs = Job.objects.filter(organisation=subject.organisation_id)
    for job in jobs.iterator(chunk_size=200):
        params = job.parameters or {}
        holds = (
            (job.kind in EXPORT_JOBS.values() and params.get("request_id") in request_ids)
            or params.get("subject_id") == subject.pk
            or (
                job.result
                and job.kind == evidence_runners.PACK
                and _pack_lists(Path(settings.MEDIA_ROOT) / job.result.name, subject.pk)
            )
        )
        values = {}
        if holds:
            touched.append(job.pk)
            if job.result:
                files.append((job.result.storage, job.result.name))
                values.update(result="", result_expired=True)
        for name in ("description", "error"):
            scrubbed = _scrub_text(getattr(job, name), pattern)
            if scrubbed != getattr(job, name):
                values[name] = scrubbed
        outcome = _scrub_json(job.outcome, pattern)
        if outcome != job.outcome:
            values["outcome"] = outcome
        if values:
            Job.objects.filter(pk=job.pk).update(**values)
    return touched


def _staged_imports(subject: DataSubject, needles: Needles) -> list[Path]:
    """Checked uploads waiting to be imported (consents.imports) that hold the person."""
    folder = Path(settings.MEDIA_ROOT) / "imports" / str(subject.organisation_id)
    if not folder.is_dir():
        return []
    return [path for path in folder.glob("*.csv") if needles.in_bytes(path.read_bytes())]


def subject_purge(*, subject: DataSubject, now=None) -> PurgeResult:
    """Purge one blocked person whose purge date has passed (see the module docstring).

    Idempotent: a tombstone is not purged again. Raises ValueError for anyone not blocked or
    not yet due: only the end of the blocking period purges (LOPDGDD Art. 32).
    """
    now = now or timezone.now()
    files: list = []
    with transaction.atomic():
        subject = DataSubject.objects.select_for_update().get(pk=subject.pk)
        if subject.status == SubjectStatus.PURGED:
            return PurgeResult(subject.pk)
        if subject.status != SubjectStatus.BLOCKED or subject.purge_after is None:
            raise ValueError(f"subject {subject.pk} is not blocked")
        if subject.purge_after > timezone.localdate(now):
            raise ValueError(f"subject {subject.pk} is blocked until {subject.purge_after}")
        requests = _requests_of(subject)
        needles = _needles(subject, requests)
        pattern = needles.pattern()
        result = PurgeResult(subject.pk, requests=list(requests.values_list("pk", flat=True)))
        touched = _purge_requests(requests, pattern, now, files)
        touched.update(_purge_subject_rows(subject, pattern, files))
        _purge_rosters(subject, needles, pattern)
        touched["job"] = _purge_jobs(subject, result.requests, pattern, files)
        result.jobs = len(touched["job"])
        staged = _staged_imports(subject, needles)

        DataSubject.objects.filter(pk=subject.pk).update(
            full_name="",
            phone=None,
            email="",
            guardian_name="",
            notes="",
            external_ref="",
            status=SubjectStatus.PURGED,
            purged_at=now,
        )
        # The tombstone's own historical row: the one change it shows is the purge.
        tombstone = DataSubject.objects.get(pk=subject.pk)
        tombstone.save(update_fields=["updated_at"])
        result.audit_entries = _purge_audit(subject.organisation_id, touched, needles, pattern)
        audit_record(
            tombstone,
            AuditEntry.Action.DELETED,
            user=None,
            details=[
                {"field": "status", "old": SubjectStatus.BLOCKED, "new": SubjectStatus.PURGED},
                {"field": "erasure_request", "old": "", "new": str(subject.erasure_request_pk)},
            ],
        )
        transaction.on_commit(lambda: _remove_files(files, staged))
    result.files_removed = len(files) + len(staged)
    return result


def _remove_files(files: list, staged: list[Path]) -> None:
    for storage, name in files:
        try:
            storage.delete(name)
        except OSError:
            log.exception("could not remove %s", name)
    for path in staged:
        path.unlink(missing_ok=True)


def due_for_purge(*, today: date | None = None):
    """Blocked people whose blocking period has ended."""
    today = today or timezone.localdate()
    return DataSubject.objects.filter(status=SubjectStatus.BLOCKED, purge_after__lte=today)


def purge_due(*, now=None) -> list[int]:
    """Purge everyone due (the nightly task and ``manage.py purge_blocked``); the ids purged.
    One transaction per person: one failure leaves the others purged and itself untouched."""
    now = now or timezone.now()
    purged = []
    for subject in due_for_purge(today=timezone.localdate(now)).order_by("pk"):
        try:
            subject_purge(subject=subject, now=now)
        except Exception:
            log.exception("purge of subject %s failed", subject.pk)
            continue
        purged.append(subject.pk)
    return purged
