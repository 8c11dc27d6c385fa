"""Import of legacy consent lists (CSV): every row is checked first, then all are recorded or none.

GDPR Art. 7(1): consent gathered before Constancia must still be demonstrable. An imported row
becomes an ordinary ledger event (channel "import") appended through ``consents.services``; the
proof of each person names the file and its SHA-256, so the original list can be matched later.

File format
-----------
UTF-8 text (with or without BOM), comma or semicolon delimited (read from the header line).
A header row is required; column names are case-insensitive and may come in any order.

Required columns:

``phone``
    The person's number as people write it ("600 12 34 56", "+34 600 123 456",
    "0034 600-123-456"). Without an international prefix it is a number of the organisation's
    country. Letters and extensions are refused. One number is one person.
``full_name``
    The person's name; every row of one number must give the same name.
``purpose``
    The code of one of the organisation's purposes (``Purpose.code``).
``action``
    ``granted``, ``refused`` or ``withdrawn``. A withdrawal needs an earlier grant for the same
    person and purpose, in the file or in the register.
``captured_at``
    When the person answered: ``2024-03-01``, ``2024-03-01 10:30`` or ISO 8601 with an offset
    (``2024-03-01T10:30:00+01:00``). Without an offset it is organisation time
    (``settings.TIME_ZONE``); a date alone is midnight. Never in the future. Rows of one person
    and purpose must be in chronological order, and not older than what the register already holds.

Optional columns: ``email``; ``kind`` (customer, employee, supplier, other; default customer);
``language`` (en, es, ar; default the organisation's language); ``external_ref``;
``notice_version`` (the version label of a published notice covering the purpose, in the person's
language or else in any language). A grant without ``notice_version`` is tied to the notice the
person would be shown today (``NoticeVersion.objects.to_show``: the current one in the person's
language, else in the organisation's, else the latest in any language); a purpose that needs
consent and has no published notice is an error (GDPR Art. 13: no consent without information).
Every rule of consents.rules applies to each row, with the same messages as everywhere else.

Example::

    phone;full_name;purpose;action;captured_at;email
    600 12 34 56;Lucía Pérez;marketing;granted;2023-05-02 10:15;lucia@example.org
    +34 611 22 33 44;Omar Haddad;appointments;granted;2023-06-01;
    600 12 34 56;Lucía Pérez;marketing;withdrawn;2024-01-10;

Row numbers in reports are line numbers of the file (the header is line 1), as a spreadsheet or
an editor shows them.
"""

import csv
import dataclasses
import datetime
import hashlib
import io
import itertools
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import AuditEntry, Organisation, User
from accounts.services import audit_record

from . import rules, selectors
from .acts import ConsentAct, Decision, PersonDetails
from .models import (
    Action,
    Channel,
    ConsentEvent,
    ConsentState,
    DataSubject,
    NoticeVersion,
    Proof,
    Purpose,
)
from .phones import parse_phone
from .services import (
    consent_record_many,
    ledger_head_lock,
    proof_create,
    subject_find_or_create,
)

REQUIRED_COLUMNS = ("phone", "full_name", "purpose", "action", "captured_at")
OPTIONAL_COLUMNS = ("email", "kind", "language", "external_ref", "notice_version")
MAX_LISTED_ERRORS = 1000
PROGRESS_EVERY = 1000
# Rows are checked in batches so that subjects and states are fetched with one query per batch,
# not one per row, while memory stays bounded whatever the size of the file.
BATCH_ROWS = 1000
# Subjects and proofs kept at hand while applying: a person's rows are usually close together.
SUBJECT_CACHE = 5000
# Acts appended per batch: one chain-head lock and bulk writes for each (consent_record_many).
APPEND_BATCH = 500
READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportReport:
    """What a check found: counts of what would be recorded, and what is wrong, row by row."""

    filename: str = ""
    sha256: str = ""
    rows: int = 0
    subjects_new: int = 0
    subjects_existing: int = 0
    events: dict[str, int] = field(default_factory=lambda: dict.fromkeys(Action.values, 0))
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    warnings: list[RowError] = field(default_factory=list)
    warning_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def events_total(self) -> int:
        return sum(self.events.values())

    @property
    def unlisted_errors(self) -> int:
        return self.error_count - len(self.errors)

    @property
    def unlisted_warnings(self) -> int:
        return self.warning_count - len(self.warnings)

    def to_dict(self) -> dict:
        """JSON-ready, for a check run as a background job (jobs.Job.outcome)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ImportReport":
        values = dict(data)
        values["errors"] = [RowError(**e) for e in data.get("errors", [])]
        values["warnings"] = [RowError(**w) for w in data.get("warnings", [])]
        return cls(**values)

    def error(self, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(RowError(row, column, message))

    def warning(self, row: int, column: str, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_LISTED_ERRORS:
            self.warnings.append(RowError(row, column, message))


@dataclass
class ImportResult:
    filename: str
    sha256: str
    rows: int = 0
    events_recorded: int = 0
    subjects_created: int = 0
    subjects_existing: int = 0
    first_sequence: int | None = None
    last_sequence: int | None = None
    already_imported: bool = False
    events: dict[str, int] = field(default_factory=lambda: dict.fromkeys(Action.values, 0))


class ImportRefused(ValidationError):
    """The file has errors: nothing was recorded. ``report`` lists them row by row."""

    def __init__(self, report: ImportReport):
        super().__init__(
            ngettext(
                "The file has %(count)s error: nothing was imported.",
                "The file has %(count)s errors: nothing was imported.",
                report.error_count,
            )
            % {"count": report.error_count},
            code="import_errors",
        )
        self.report = report


# --- reading the file -----------------------------------------------------------------------


def file_sha256(fileobj) -> str:
    fileobj.seek(0)
    digest = hashlib.sha256()
    while chunk := fileobj.read(READ_CHUNK):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def _filename(fileobj, filename: str | None) -> str:
    name = filename or os.path.basename(str(getattr(fileobj, "name", "") or ""))
    return (name or "upload.csv")[-200:]


def _header_key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


class _CsvFile:
    """The decoded rows of a binary file object, streamed: (line number, cells) pairs."""

    def __init__(self, fileobj, report: ImportReport):
        self.fileobj = fileobj
        self.report = report
        self.columns: dict[str, int] = {}
        self.width = 0

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        self.fileobj.seek(0)
        text = io.TextIOWrapper(self.fileobj, encoding="utf-8-sig", newline="")
        line = 1
        try:
            header_line = text.readline()
            # Header names never contain a delimiter, so counting them is a sure sniff (the
            # csv.Sniffer guesses from data rows, where names and notes contain both).
            delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
            reader = csv.reader(itertools.chain([header_line], text), delimiter=delimiter)
            header = next(reader, None)
            if not self._read_header(header):
                return
            for cells in reader:
                line = reader.line_num
                if any(cell.strip() for cell in cells):
                    yield line, cells
        except UnicodeDecodeError:
            self.report.error(
                line + 1,
                "",
                _(
                    "The file is not UTF-8 text. In your spreadsheet, save it as “CSV UTF-8”"
                    " and try again."
                ),
            )
        except csv.Error as error:
            self.report.error(
                line + 1, "", _("The file cannot be read as CSV: %(error)s") % {"error": error}
            )
        finally:
            text.detach()

    def _read_header(self, header: list[str] | None) -> bool:
        if not header or not any(cell.strip() for cell in header):
            self.report.error(1, "", _("The file is empty: it needs a header row and data rows."))
            return False
        self.width = len(header)
        for index, cell in enumerate(header):
            key = _header_key(cell)
            if not key:
                continue
            if key in self.columns:
                self.report.error(1, key, _("The column “%(name)s” appears twice.") % {"name": key})
            elif key in REQUIRED_COLUMNS or key in OPTIONAL_COLUMNS:
                self.columns[key] = index
            else:
                self.report.warning(
                    1,
                    cell.strip()[:40],
                    _("Unknown column “%(name)s”: it is ignored.") % {"name": cell.strip()[:40]},
                )
        missing = [name for name in REQUIRED_COLUMNS if name not in self.columns]
        for name in missing:
            self.report.error(
                1, name, _("The required column “%(name)s” is missing.") % {"name": name}
            )
        return not missing and self.report.ok


# --- checking rows --------------------------------------------------------------------------


@dataclass(slots=True)
class ImportRow:
    """One data row, parsed. ``notice`` is resolved once the person's language is known."""

    row: int
    phone: object
    phone_key: str
    full_name: str
    purpose: Purpose | None
    action: str
    captured_at: datetime.datetime | None
    email: str
    kind: str
    language: str
    external_ref: str
    notice_label: str
    notice: NoticeVersion | None = None
    valid: bool = True
    notice_label_ok: bool = True


@dataclass(slots=True)
class _Known:
    """A subject already in the register (looked up by phone), as far as the check needs it."""

    pk: int
    status: str
    full_name: str
    language: str


@dataclass(slots=True)
class _Last:
    """The latest answer for one (person, purpose): from the register (row None) or the file."""

    action: str
    captured_at: datetime.datetime
    row: int | None


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _local(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


class _Checker:
    """Checks rows in file order, keeping only what later rows need (not the rows themselves)."""

    def __init__(self, organisation: Organisation, report: ImportReport, progress=None):
        self.organisation = organisation
        self.report = report
        self.progress = progress
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.now = timezone.now()
        self.languages = {code for code, _name in settings.LANGUAGES}
        self.purposes = {
            p.code.lower(): p for p in Purpose.objects.filter(organisation=organisation)
        }
        self.notices: dict[str, list[NoticeVersion]] = {}
        for notice in (
            NoticeVersion.objects.published()
            .filter(organisation=organisation)
            .prefetch_related("purposes")
        ):
            notice.purpose_ids = {p.pk for p in notice.purposes.all()}
            self.notices.setdefault(notice.version.strip().lower(), []).append(notice)
        self.current_notices: dict[tuple[int, str], NoticeVersion | None] = {}
        self.known: dict[str, _Known | None] = {}
        self.suppressed: set[str] = set()
        self.last: dict[tuple[str, int], _Last] = {}
        self.names: dict[str, tuple[str, int]] = {}
        self.seen: dict[tuple, int] = {}
        self.counted: set[str] = set()

    def rows(self, csv_file: _CsvFile) -> Iterator[ImportRow]:
        """Yield the rows with no error, in file order; errors go to the report."""
        for batch in _batched(csv_file, BATCH_ROWS):
            parsed = [self.parse(line, cells, csv_file) for line, cells in batch]
            self.look_up(parsed)
            for row in parsed:
                if row is not None and self.check(row):
                    yield row
            if self.progress is not None:
                self.progress(self.report.rows)

    # Syntax: each cell on its own.

    def parse(self, line: int, cells: list[str], csv_file: _CsvFile) -> ImportRow | None:
        report, columns, width = self.report, csv_file.columns, csv_file.width
        report.rows += 1
        # Spreadsheets often leave trailing empty cells; only a cell with content is a mistake.
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            report.error(
                line,
                "",
                _("This row has %(found)s cells; the header has %(expected)s.")
                % {"found": len(cells), "expected": width},
            )
            return None

        def cell(name: str) -> str:
            index = columns.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        errors_before = report.error_count
        phone, phone_key = None, ""
        try:
            phone = parse_phone(cell("phone"), self.organisation.country)
            phone_key = phone.as_e164
        except ValidationError as error:
            report.error(line, "phone", error.messages[0])

        full_name = " ".join(cell("full_name").split())
        if not full_name:
            report.error(line, "full_name", _("Enter the person's name."))
        elif len(full_name) > 200:
            report.error(line, "full_name", _("The name is longer than 200 characters."))

        code = cell("purpose")
        purpose = self.purposes.get(code.lower())
        if purpose is None:
            known = ", ".join(sorted(self.purposes)[:12]) or _("none yet")
            report.error(
                line,
                "purpose",
                _("Unknown purpose “%(code)s”. Purposes of this organisation: %(known)s.")
                % {"code": code[:40], "known": known},
            )

        action = cell("action").lower()
        if action not in Action.values:
            report.error(
                line,
                "action",
                _("Unknown action “%(value)s”: use granted, refused or withdrawn.")
                % {"value": action[:40]},
            )

        captured_at = self.parse_moment(line, cell("captured_at"))

        email = cell("email")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                report.error(
                    line,
                    "email",
                    _("“%(value)s” is not an e-mail address.") % {"value": email[:60]},
                )
        kind = cell("kind").lower()
        if kind and kind not in DataSubject.Kind.values:
            report.error(
                line,
                "kind",
                _("Unknown kind “%(value)s”: use customer, employee, supplier or other.")
                % {"value": kind[:40]},
            )
        language = cell("language").lower()
        if language and language not in self.languages:
            report.error(
                line,
                "language",
                _("Unknown language “%(value)s”: use one of %(known)s.")
                % {"value": language[:20], "known": ", ".join(sorted(self.languages))},
            )
        external_ref = cell("external_ref")
        if len(external_ref) > 100:
            report.error(
                line, "external_ref", _("The external reference is longer than 100 characters.")
            )
        row = ImportRow(
            row=line,
            phone=phone,
            phone_key=phone_key,
            full_name=full_name,
            purpose=purpose,
            action=action,
            captured_at=captured_at,
            email=email,
            kind=kind,
            language=language,
            external_ref=external_ref,
            notice_label=cell("notice_version"),
        )
        row.valid = report.error_count == errors_before
        # A row whose key cells are readable still takes part in the checks across rows (names,
        # order), so that one mistake is reported once and not again on every later row.
        if phone is None or purpose is None or action not in Action.values or captured_at is None:
            return None
        return row

    def parse_moment(self, line: int, raw: str) -> datetime.datetime | None:
        if not raw:
            self.report.error(line, "captured_at", _("Enter when the person answered."))
            return None
        try:
            value = datetime.datetime.fromisoformat(raw)
        except ValueError:
            self.report.error(
                line,
                "captured_at",
                _("“%(value)s” is not a date: use 2024-03-01 or 2024-03-01 10:30.")
                % {"value": raw[:40]},
            )
            return None
        if timezone.is_naive(value):
            value = value.replace(tzinfo=self.zone)
        try:
            rules.ensure_not_in_future(value, now=self.now)
        except ValidationError as error:
            self.report.error(line, "captured_at", error.messages[0])
            return None
        return value

    # Context: what the register already holds for the numbers of one batch.

    def look_up(self, parsed: list[ImportRow | None]) -> None:
        new = {row.phone_key for row in parsed if row is not None} - self.known.keys()
        if not new:
            return
        # Numbers that objected to marketing (GDPR Art. 21(3)), whether or not still on record.
        self.suppressed |= selectors.suppressed_among(self.organisation, new)
        by_pk = {}
        for pk, phone, status, full_name, language in DataSubject.objects.filter(
            organisation=self.organisation, phone__in=new
        ).values_list("pk", "phone", "status", "full_name", "preferred_language"):
            by_pk[pk] = phone.as_e164
            self.known[phone.as_e164] = _Known(pk, status, full_name, language)
        for phone in new - self.known.keys():
            self.known[phone] = None
        for subject_id, purpose_id, action, captured_at in ConsentState.objects.filter(
            subject_id__in=list(by_pk)
        ).values_list("subject_id", "purpose_id", "action", "captured_at"):
            self.last[(by_pk[subject_id], purpose_id)] = _Last(action, captured_at, None)

    # Rules across rows and against the register.

    def check(self, row: ImportRow) -> bool:
        report, line = self.report, row.row
        errors_before = report.error_count
        known = self.known.get(row.phone_key)
        if known is not None:
            self.apply(rules.ensure_recordable, known, line=line, column="phone")
            if row.action == Action.GRANTED:
                self.apply(rules.ensure_not_restricted, known, line=line, column="phone")
        if row.action == Action.GRANTED:
            self.apply(
                rules.ensure_not_suppressed,
                row.purpose,
                suppressed=row.phone_key in self.suppressed,
                line=line,
                column="purpose",
            )

        first = self.names.setdefault(row.phone_key, (row.full_name, line))
        if not first[0] and row.full_name:
            first = self.names[row.phone_key] = (row.full_name, line)
        if row.full_name and not _same_name(first[0], row.full_name):
            report.error(
                line,
                "full_name",
                _("Row %(row)s gives “%(first)s” for this number: one number is one person.")
                % {"row": first[1], "first": first[0]},
            )
        elif (
            known is not None
            and first[1] == line
            and not _same_name(known.full_name, row.full_name)
        ):
            report.warning(
                line,
                "full_name",
                _(
                    "The register knows this number as “%(name)s”: the events are recorded for"
                    " that person and the name is not changed."
                )
                % {"name": known.full_name},
            )

        purpose = row.purpose
        duplicate_key = (row.phone_key, purpose.pk, row.action, row.captured_at)
        duplicate_of = self.seen.setdefault(duplicate_key, line)
        if duplicate_of != line:
            report.error(line, "", _("Same as row %(row)s.") % {"row": duplicate_of})

        pair = (row.phone_key, purpose.pk)
        last = self.last.get(pair)
        if last is not None and last.row is None:
            self.apply(
                rules.ensure_not_older,
                row.captured_at,
                latest=last.captured_at,
                line=line,
                column="captured_at",
            )
        elif last is not None and row.captured_at < last.captured_at:
            # The file's own order (not a consent rule): its rows are appended in file order.
            report.error(
                line,
                "captured_at",
                _(
                    "Row %(row)s, for the same person and purpose, is later (%(when)s): put the"
                    " rows of one person and purpose in chronological order."
                )
                % {"when": _local(last.captured_at), "row": last.row},
            )
        if row.action == Action.WITHDRAWN:
            self.apply(
                rules.ensure_withdrawable,
                purpose,
                current_action=last.action if last else None,
                line=line,
                column="action",
            )

        language = (
            row.language
            or (known.language if known else "")
            or (self.organisation.default_language)
        )
        row.notice = self.notice_for(row, language)
        if row.action == Action.GRANTED and row.notice_label_ok:
            column = "purpose" if not purpose.active else "notice_version"
            self.apply(rules.ensure_grantable, purpose, row.notice, line=line, column=column)
        self.last[pair] = _Last(row.action, row.captured_at, line)

        if not (row.valid and report.error_count == errors_before):
            return False
        if row.phone_key not in self.counted:
            self.counted.add(row.phone_key)
            if known is None:
                report.subjects_new += 1
            else:
                report.subjects_existing += 1
        report.events[row.action] += 1
        return True

    def apply(self, rule, *args, line: int, column: str, **kwargs) -> bool:
        """Run one rule of consents.rules; its message becomes this row's error."""
        try:
            rule(*args, **kwargs)
        except ValidationError as error:
            self.report.error(line, column, error.messages[0])
            return False
        return True

    def notice_for(self, row: ImportRow, language: str) -> NoticeVersion | None:
        """The notice named in the row, or the one the person would be shown today
        (NoticeVersion.objects.to_show, the same rule as every other page)."""
        purpose = row.purpose
        if row.notice_label:
            covering = [
                n
                for n in self.notices.get(row.notice_label.lower(), [])
                if purpose.pk in n.purpose_ids
            ]
            # Labels repeat across languages (and titles): prefer the person's language, then the
            # latest published.
            covering.sort(key=lambda n: (n.language != language, -n.published_at.timestamp()))
            if not covering:
                row.notice_label_ok = False
                self.report.error(
                    row.row,
                    "notice_version",
                    _("No published notice “%(version)s” covers the purpose “%(purpose)s”.")
                    % {"version": row.notice_label[:20], "purpose": purpose.code},
                )
                return None
            return covering[0]
        if row.action != Action.GRANTED:
            return None
        key = (purpose.pk, language)
        if key not in self.current_notices:
            self.current_notices[key] = NoticeVersion.objects.to_show(purpose, language)
        return self.current_notices[key]


def _batched(iterable, size):
    # itertools.batched arrived in Python 3.12; the project supports 3.11.
    iterator = iter(iterable)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _run_check(
    organisation: Organisation, fileobj, sha256: str, filename: str, progress=None
) -> tuple[ImportReport, Iterator[ImportRow]]:
    report = ImportReport(filename=filename, sha256=sha256)
    csv_file = _CsvFile(fileobj, report)
    return report, _Checker(organisation, report, progress).rows(csv_file)


def _finish(report: ImportReport) -> ImportReport:
    if report.ok and report.rows == 0:
        report.error(2, "", _("The file has a header but no data rows."))
    return report


def import_check(
    *,
    organisation: Organisation,
    fileobj,
    filename: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Read the whole file and report what is wrong with it, row by row. Changes nothing.

    ``fileobj`` is a binary, seekable file object. Only the state needed by later rows is kept
    (per number and purpose), so 100,000 rows fit comfortably in memory. ``progress`` is called
    with the number of rows read so far, every BATCH_ROWS rows.
    """
    report, rows = _run_check(
        organisation, fileobj, file_sha256(fileobj), _filename(fileobj, filename), progress
    )
    for _row in rows:
        pass
    return _finish(report)


def count_lines(fileobj) -> int:
    """Data lines of a file, counted fast (no parsing): enough to choose page or background."""
    fileobj.seek(0)
    lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fileobj.read(READ_CHUNK), b""))
    fileobj.seek(0)
    return max(0, lines - 1)


# --- applying -------------------------------------------------------------------------------


def _key_prefix(sha256: str) -> str:
    # ConsentEvent.idempotency_key holds 64 characters: "import:" + 32 hex + ":" + line number.
    return f"import:{sha256[:32]}:"


def _first_data_line(fileobj) -> int | None:
    report = ImportReport()
    return next((line for line, _cells in _CsvFile(fileobj, report)), None)


def _already_imported(
    organisation: Organisation, fileobj, sha256: str, filename: str
) -> ImportResult | None:
    first_line = _first_data_line(fileobj)
    if first_line is None:
        return None
    prefix = _key_prefix(sha256)
    if not ConsentEvent.objects.filter(
        organisation=organisation, idempotency_key=f"{prefix}{first_line}"
    ).exists():
        return None
    events = ConsentEvent.objects.filter(
        organisation=organisation, idempotency_key__startswith=prefix
    )
    span = events.aggregate(first=Min("sequence"), last=Max("sequence"))
    result = ImportResult(
        filename=filename,
        sha256=sha256,
        already_imported=True,
        first_sequence=span["first"],
        last_sequence=span["last"],
    )
    for action in events.values_list("action", flat=True):
        result.events[action] += 1
        result.rows += 1
    return result


def import_apply(
    *,
    organisation: Organisation,
    fileobj,
    imported_by: User | None,
    progress: Callable[[int, int], None] | None = None,
    filename: str | None = None,
    request=None,
) -> ImportResult:
    """Check the file again, then record every row in one transaction, or nothing.

    GDPR Art. 7(1): each row becomes a ledger event with channel "import", recorded by
    ``imported_by``, with a proof naming the file and its SHA-256. Each event's idempotency key
    is derived from that SHA-256 and the row's line, so the same file imported twice records
    once: the second call returns ``already_imported`` and adds nothing.
    Raises ImportRefused (a ValidationError carrying the report) if any row is wrong.
    ``request``, when the import comes from a page, puts its IP address on the audit entry.
    """
    sha256 = file_sha256(fileobj)
    filename = _filename(fileobj, filename)
    with transaction.atomic():
        # Lock the chain head for the whole import: no other append may slip between the check
        # and the writes (a withdrawal recorded meanwhile would make an imported grant the latest).
        ledger_head_lock(organisation)
        done = _already_imported(organisation, fileobj, sha256, filename)
        if done is not None:
            return done
        report = import_check(organisation=organisation, fileobj=fileobj, filename=filename)
        if not report.ok:
            raise ImportRefused(report)
        result = _record(organisation, fileobj, sha256, filename, imported_by, report, progress)
        audit_record(
            organisation=organisation,
            user=imported_by,
            request=request,
            register=ConsentEvent,
            action=AuditEntry.Action.RECORDED,
            object_repr=_("Import of %(file)s") % {"file": filename},
            details=[
                {"field": "file", "new": filename},
                {"field": "sha256", "new": sha256},
                {"field": "events", "new": result.events_recorded},
                {"field": "sequences", "new": f"{result.first_sequence}-{result.last_sequence}"},
            ],
        )
    return result


def _record(
    organisation: Organisation,
    fileobj,
    sha256: str,
    filename: str,
    imported_by: User | None,
    checked: ImportReport,
    progress: Callable[[int, int], None] | None,
) -> ImportResult:
    recorder = _Recorder(organisation, sha256, filename, imported_by, checked.rows)
    report, rows = _run_check(organisation, fileobj, sha256, filename)
    group: list[ImportRow] = []
    for done, row in enumerate(rows, start=1):
        if group and not _same_act(group, row):
            recorder.record(group)
            group = []
        group.append(row)
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, checked.rows)
    if group:
        recorder.record(group)
    recorder.flush()
    result = recorder.result
    if not report.ok or result.events_recorded != checked.events_total:
        # The file was checked a moment ago under the same lock: this means a bug, not bad input.
        raise ImportRefused(report)
    if progress is not None and checked.rows % PROGRESS_EVERY:
        progress(checked.rows, checked.rows)
    return result


def _same_act(group: list[ImportRow], row: ImportRow) -> bool:
    """Consecutive rows of one answer given at one moment, for different purposes.

    They are appended as one act (one idempotency key), in batches of APPEND_BATCH acts through
    consent_record_many, which is what makes 100,000 rows practical; file order is kept.
    """
    first = group[0]
    return (
        row.phone_key == first.phone_key
        and row.captured_at == first.captured_at
        and row.action == first.action
        and all(row.purpose.pk != other.purpose.pk for other in group)
    )


class _Recorder:
    def __init__(self, organisation, sha256, filename, imported_by, rows):
        self.organisation = organisation
        self.imported_by = imported_by
        self.prefix = _key_prefix(sha256)
        self.result = ImportResult(filename=filename, sha256=sha256, rows=rows)
        # Proof.subject is required, so the file's proof is one Proof per person, each naming
        # the file and its digest (as the quote, whose SHA-256 then enters each event's hash).
        self.note = _("Imported from %(file)s, SHA-256 %(sha256)s") % {
            "file": filename,
            "sha256": sha256,
        }
        self.at_hand: OrderedDict[str, tuple[DataSubject, Proof]] = OrderedDict()
        self.pending: list[ConsentAct] = []
        self.proofs: dict[int, int] = {}

    def record(self, group: list[ImportRow]) -> None:
        first = group[0]
        subject, proof = self.subject_and_proof(first)
        self.pending.append(
            ConsentAct(
                subject=subject,
                decisions=[
                    Decision(purpose=r.purpose, action=r.action, notice=r.notice) for r in group
                ],
                channel=Channel.IMPORT,
                captured_at=first.captured_at,
                recorded_by=self.imported_by,
                proof=proof,
                # The key of a group is the line of its first row: the same file always gives
                # the same keys, so a second import of it finds them and records nothing.
                idempotency_key=f"{self.prefix}{first.row}",
            )
        )
        if len(self.pending) >= APPEND_BATCH:
            self.flush()

    def flush(self) -> None:
        """Append the pending acts in one batch: one head lock, bulk writes, file order kept."""
        if not self.pending:
            return
        batches = consent_record_many(organisation=self.organisation, acts=self.pending)
        self.pending = []
        result = self.result
        for events in batches:
            if result.first_sequence is None:
                result.first_sequence = events[0].sequence
            result.last_sequence = events[-1].sequence
            result.events_recorded += len(events)
            for event in events:
                result.events[event.action] += 1

    def subject_and_proof(self, row: ImportRow) -> tuple[DataSubject, Proof]:
        at_hand, proofs, result = self.at_hand, self.proofs, self.result
        if row.phone_key in at_hand:
            at_hand.move_to_end(row.phone_key)
            return at_hand[row.phone_key]
        subject, created = subject_find_or_create(
            organisation=self.organisation,
            person=PersonDetails(
                phone=row.phone,
                full_name=row.full_name,
                kind=row.kind or DataSubject.Kind.CUSTOMER,
                email=row.email,
                preferred_language=row.language or None,
            ),
        )
        if created:
            result.subjects_created += 1
            if row.external_ref:
                subject.external_ref = row.external_ref
                subject.save(update_fields=["external_ref", "updated_at"])
        elif subject.pk not in proofs:
            result.subjects_existing += 1
        if subject.pk in proofs:
            proof = Proof.objects.get(pk=proofs[subject.pk])
        else:
            proof = proof_create(
                organisation=self.organisation,
                subject=subject,
                quote=self.note,
                note=self.note,
                created_by=self.imported_by,
            )
            proofs[subject.pk] = proof.pk
        at_hand[row.phone_key] = (subject, proof)
        if len(at_hand) > SUBJECT_CACHE:
            at_hand.popitem(last=False)
        return subject, proof


def checked_file_path(organisation: Organisation, sha256: str) -> Path:
    """Where a checked upload waits for confirmation: named by its SHA-256, outside the web root."""
    return Path(settings.MEDIA_ROOT) / "imports" / str(organisation.pk) / f"{sha256}.csv"
