"""The record of processing activities as documents a DPO hands to the AEPD (GDPR Art. 30(4))
or an auditor: CSV (one row per activity), XLSX (a sheet of activities and one per list) and a
signed PDF/A-3b laid out like the AEPD's and the CNIL's published templates (one section per
activity, the Art. 30(1) letters (a)-(g) as headings), in the organisation's language.

Every export reads ``processing.register.register_as_of``: the record now, or as it stood at the
end of a given day. None of them executes anything in a spreadsheet: CSV cells go through
accounts.csvsafe, XLSX cells are always written as text, never as formulas.
"""

import csv
import datetime
import hashlib
import io
import json

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.csvsafe import csv_safe

from .choices import SPECIAL_CATEGORIES, DataCategory, RecipientKind, Safeguard, SubjectCategory
from .models import lines
from .register import ActivitySnapshot, Register, end_of_day, register_as_of

FORMATS = ("pdf", "xlsx", "csv")
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SCHEMA_VERSION = "constancia.ropa/1.0"
RECORDS_FILENAME = "ropa.json"


def read_register(organisation, as_of: datetime.date | None) -> Register:
    return register_as_of(organisation, end_of_day(as_of) if as_of else None)


def filename(organisation, file_format: str, as_of: datetime.date | None) -> str:
    day = as_of or timezone.localdate()
    return f"ropa-{slugify(organisation.slug)}-{day:%Y%m%d}.{file_format}"


# --- the values of one activity, as text ------------------------------------------------------


def _dpo(activity, organisation) -> str:
    name = activity.dpo_name or organisation.dpo_name
    email = activity.dpo_email or (organisation.dpo_email if not activity.dpo_name else "")
    return " ".join(part for part in (name, f"<{email}>" if email else "") if part)


def controller_text(organisation) -> str:
    parts = [organisation.legal_name, organisation.tax_id, organisation.address.replace("\n", ", ")]
    return " · ".join(p for p in parts + [organisation.contact_email] if p)


def purpose_text(line) -> str:
    text = f"{line.name} ({line.code}): {line.legal_basis_label}"
    if line.art9_label:
        text += f"; {line.art9_label}"
    if line.line.notes:
        text += f" ({line.line.notes})"
    return text


def recipient_text(recipient) -> str:
    text = f"{recipient.name} ({recipient.get_kind_display()})"
    if recipient.country:
        text += f", {recipient.country}"
    if recipient.third_country:
        text += f" [{_('outside the EEA')}]"
    return text


def transfer_text(transfer) -> str:
    safeguard = transfer.get_safeguard_display() if transfer.safeguard else _("no safeguard")
    who = f" ({transfer.recipient})" if transfer.recipient else ""
    text = f"{transfer.country}{who}: {safeguard}"
    if transfer.document:
        text += f"; {transfer.document}"
    return text


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _when(value) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).isoformat(timespec="seconds")


# (key, heading, value of an activity snapshot). The CSV heads its columns with the keys (stable
# for programs), the spreadsheet with the headings (for people).
COLUMNS = (
    ("reference", gettext_lazy("Reference"), lambda s, o: s.activity.reference),
    ("name", gettext_lazy("Activity"), lambda s, o: s.activity.name),
    ("status", gettext_lazy("Status"), lambda s, o: s.activity.get_status_display()),
    ("controller", gettext_lazy("Controller"), lambda s, o: controller_text(o)),
    (
        "joint_controllers",
        gettext_lazy("Joint controllers"),
        lambda s, o: "\n".join(s.activity.joint_controller_lines()),
    ),
    ("representative", gettext_lazy("Representative"), lambda s, o: s.activity.representative),
    ("dpo", gettext_lazy("Data protection officer"), lambda s, o: _dpo(s.activity, o)),
    ("description", gettext_lazy("Purposes (description)"), lambda s, o: s.activity.description),
    (
        "purposes",
        gettext_lazy("Purposes, legal basis and Art. 9(2) condition"),
        lambda s, o: "\n".join(purpose_text(p) for p in s.purposes),
    ),
    (
        "subject_categories",
        gettext_lazy("Categories of data subjects"),
        lambda s, o: "\n".join(s.activity.subject_category_labels()),
    ),
    (
        "data_categories",
        gettext_lazy("Categories of personal data"),
        lambda s, o: "\n".join(s.activity.data_category_labels()),
    ),
    (
        "special_categories",
        gettext_lazy("Special categories (Art. 9(1))"),
        lambda s, o: "\n".join(s.activity.special_category_labels()),
    ),
    (
        "recipients",
        gettext_lazy("Recipients"),
        lambda s, o: "\n".join(recipient_text(r) for r in s.recipients),
    ),
    (
        "transfers",
        gettext_lazy("Transfers to third countries and safeguards"),
        lambda s, o: "\n".join(transfer_text(t) for t in s.transfers),
    ),
    ("retention", gettext_lazy("Time limits for erasure"), lambda s, o: s.activity.retention),
    (
        "security_measures",
        gettext_lazy("Security measures"),
        lambda s, o: "\n".join(s.activity.security_measure_labels()),
    ),
    ("systems", gettext_lazy("Systems used"), lambda s, o: "\n".join(s.activity.system_lines())),
    ("dpia_required", gettext_lazy("DPIA needed"), lambda s, o: _yes_no(s.activity.dpia_required)),
    (
        "dpia_done_on",
        gettext_lazy("DPIA done on"),
        lambda s, o: s.activity.dpia_done_on.isoformat() if s.activity.dpia_done_on else "",
    ),
    ("dpia_reference", gettext_lazy("DPIA document"), lambda s, o: s.activity.dpia_reference),
    ("owner", gettext_lazy("Owner"), lambda s, o: s.owner_name),
    ("last_changed", gettext_lazy("Last changed"), lambda s, o: _when(s.changed_at)),
)


def activity_row(snapshot: ActivitySnapshot, organisation) -> list[str]:
    return [str(value(snapshot, organisation) or "") for _key, _heading, value in COLUMNS]


def limits_text(register: Register) -> str:
    """What the export covers and what it does not, written into every export."""
    moment = formats.date_format(timezone.localtime(register.moment), "DATETIME_FORMAT")
    text = _(
        "This is the record of processing activities (GDPR Art. 30) of %(org)s as it stood on "
        "%(moment)s (%(zone)s), as entered in Constancia. It lists the activities in force then, "
        "drafts marked as such, and the records of processing carried out as a processor. It "
        "holds only what was entered: processing never recorded here is not in it."
    ) % {
        "org": register.organisation.legal_name,
        "moment": moment,
        "zone": settings.TIME_ZONE,
    }
    if register.retired:
        text += " " + _("Activities retired by then are not part of it: %(names)s.") % {
            "names": "; ".join(str(a) for a in register.retired)
        }
    text += " " + _(
        "Owners are named as their accounts are named today; every other value is the one "
        "recorded at that moment."
    )
    return text


# --- CSV ----------------------------------------------------------------------------------------


def ropa_csv(register: Register) -> bytes:
    """One row per activity in force; every cell spreadsheet-safe (accounts.csvsafe)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([key for key, _heading, _value in COLUMNS])
    for snapshot in register.activities:
        writer.writerow([csv_safe(v) for v in activity_row(snapshot, register.organisation)])
    # A BOM: Excel reads the file as UTF-8 ("Clínica", not "ClÃ­nica").
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- XLSX ---------------------------------------------------------------------------------------


def _sheet_title(title: str) -> str:
    for character in "[]:*?/\\":
        title = title.replace(character, " ")
    return title[:31]


def _text_cell(sheet, row: int, column: int, value) -> None:
    """A cell that holds text, never a formula: openpyxl would store "=..." as a formula."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cell = sheet.cell(row=row, column=column)
    if value is None:
        return
    if isinstance(value, bool):
        value = _yes_no(value)
    if isinstance(value, int | float):
        cell.value = value
        return
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    cell.data_type = "s"


def _write_sheet(book, title: str, header: list[str], rows) -> None:
    from openpyxl.styles import Alignment, Font

    sheet = book.create_sheet(_sheet_title(title))
    for column, heading in enumerate(header, start=1):
        _text_cell(sheet, 1, column, str(heading))
        sheet.cell(row=1, column=column).font = Font(bold=True)
        sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width = 28
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            _text_cell(sheet, number, column, value)
            sheet.cell(row=number, column=column).alignment = Alignment(
                wrap_text=True, vertical="top"
            )
    sheet.freeze_panes = "A2"
    if translation.get_language_bidi():
        sheet.sheet_view.rightToLeft = True


def _ref(snapshot) -> str:
    return snapshot.activity.reference or f"#{snapshot.activity.pk}"


def _transfer_cells(transfer) -> tuple:
    """A transfer's cells on the Transfers sheet, after the activity or record it belongs to."""
    safeguard = dict(Safeguard.choices).get(transfer.safeguard, "")
    return (
        transfer.country,
        transfer.recipient,
        str(safeguard) or _("no safeguard"),
        transfer.document,
        transfer.notes,
    )


def sheet_titles() -> list[str]:
    """The sheets of the spreadsheet, in the current language."""
    return [
        _sheet_title(str(t))
        for t in (
            _("Record"),
            _("Activities"),
            _("Purposes"),
            _("Data subjects"),
            _("Personal data"),
            _("Recipients"),
            _("Transfers"),
            _("Security"),
            _("Processor records"),
        )
    ]


def ropa_xlsx(register: Register) -> bytes:
    """A sheet about the record, one of activities (the CSV's columns) and one per list."""
    from openpyxl import Workbook

    organisation = register.organisation
    titles = sheet_titles()
    book = Workbook()
    book.remove(book.active)
    moment = timezone.localtime(register.moment)
    _write_sheet(
        book,
        titles[0],
        [_("Field"), _("Value")],
        [
            (_("Record of processing activities"), _("GDPR Art. 30")),
            (_("Controller"), organisation.legal_name),
            (_("Tax id"), organisation.tax_id),
            (_("Address"), organisation.address),
            (_("Contact e-mail"), organisation.contact_email),
            (_("Data protection officer"), f"{organisation.dpo_name} {organisation.dpo_email}"),
            (_("As it stood on"), moment.isoformat(timespec="seconds")),
            (_("Generated"), _when(register.generated_at)),
            (_("Activities"), len(register.activities)),
            (_("What this record covers"), limits_text(register)),
        ],
    )
    _write_sheet(
        book,
        titles[1],
        [str(heading) for _key, heading, _value in COLUMNS],
        (activity_row(s, organisation) for s in register.activities),
    )
    activity = _("Activity")
    _write_sheet(
        book,
        titles[2],
        [
            _("Reference"),
            activity,
            _("Purpose code"),
            _("Purpose"),
            _("Legal basis"),
            _("Art. 9(2) condition"),
            _("Notes"),
        ],
        (
            (
                _ref(s),
                s.activity.name,
                p.code,
                p.name,
                p.legal_basis_label,
                p.art9_label,
                p.line.notes,
            )
            for s in register.activities
            for p in s.purposes
        ),
    )
    subjects = dict(SubjectCategory.choices)
    _write_sheet(
        book,
        titles[3],
        [_("Reference"), activity, _("Category of data subjects")],
        (
            (_ref(s), s.activity.name, str(subjects.get(code, code)))
            for s in register.activities
            for code in s.activity.subject_categories
        ),
    )
    data = dict(DataCategory.choices)
    _write_sheet(
        book,
        titles[4],
        [_("Reference"), activity, _("Category of personal data"), _("Special category")],
        [
            (_ref(s), s.activity.name, str(data.get(code, code)), code in SPECIAL_CATEGORIES)
            for s in register.activities
            for code in s.activity.data_categories
        ]
        + [
            (_ref(s), s.activity.name, text, False)
            for s in register.activities
            for text in lines(s.activity.data_categories_other)
        ]
        + [
            (_ref(s), s.activity.name, text, True)
            for s in register.activities
            for text in lines(s.activity.special_categories_other)
        ],
    )
    kinds = dict(RecipientKind.choices)
    _write_sheet(
        book,
        titles[5],
        [
            _("Reference"),
            activity,
            _("Recipient"),
            _("Kind"),
            _("Country"),
            _("Outside the EEA"),
            _("Notes"),
        ],
        (
            (
                _ref(s),
                s.activity.name,
                r.name,
                str(kinds.get(r.kind, r.kind)),
                r.country,
                r.third_country,
                r.notes,
            )
            for s in register.activities
            for r in s.recipients
        ),
    )
    _write_sheet(
        book,
        titles[6],
        [
            _("Reference"),
            _("Activity or processor record"),
            _("Third country"),
            _("Recipient"),
            _("Safeguard"),
            _("Document"),
            _("Notes"),
        ],
        [
            (_ref(s), s.activity.name, *_transfer_cells(t))
            for s in register.activities
            for t in s.transfers
        ]
        + [
            ("", p.record.name, *_transfer_cells(t))
            for p in register.processors
            for t in p.transfers
        ],
    )
    _write_sheet(
        book,
        titles[7],
        [_("Reference"), _("Activity or processor record"), _("Security measure")],
        [
            (_ref(s), s.activity.name, measure)
            for s in register.activities
            for measure in s.activity.security_measure_labels()
        ]
        + [
            ("", p.record.name, measure)
            for p in register.processors
            for measure in p.record.security_measure_labels()
        ],
    )
    _write_sheet(
        book,
        titles[8],
        [
            _("Processor record"),
            _("Status"),
            _("Controller served"),
            _("Contact details"),
            _("Its representative or DPO"),
            _("Categories of processing"),
            _("Sub-processors"),
        ],
        (
            (
                p.record.name,
                p.record.get_status_display(),
                c.name,
                c.contact,
                c.representative,
                c.processing,
                "\n".join(p.record.sub_processor_lines()),
            )
            for p in register.processors
            for c in p.controllers
        ),
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- JSON (embedded in the PDF) ---------------------------------------------------------------


def register_records(register: Register) -> dict:
    """The record as data: codes as stored, with the values the PDF shows."""
    organisation = register.organisation
    return {
        "schema_version": SCHEMA_VERSION,
        "regulation": "GDPR Art. 30",
        "as_of": _when(register.at),
        "generated_at": _when(register.generated_at),
        "time_zone": settings.TIME_ZONE,
        "controller": {
            "name": organisation.legal_name,
            "tax_id": organisation.tax_id,
            "address": organisation.address,
            "contact_email": organisation.contact_email,
            "dpo": {"name": organisation.dpo_name, "email": organisation.dpo_email},
        },
        "activities": [
            {
                "id": s.activity.pk,
                "reference": s.activity.reference,
                "name": s.activity.name,
                "status": s.activity.status,
                "description": s.activity.description,
                "joint_controllers": s.activity.joint_controller_lines(),
                "representative": s.activity.representative,
                "dpo": {"name": s.activity.dpo_name, "email": s.activity.dpo_email},
                "purposes": [
                    {
                        "purpose_id": p.line.purpose_id,
                        "code": p.code,
                        "name": p.name,
                        "legal_basis": p.line.legal_basis,
                        "art9_condition": p.line.art9_condition,
                        "notes": p.line.notes,
                    }
                    for p in s.purposes
                ],
                "subject_categories": s.activity.subject_categories,
                "subject_categories_other": lines(s.activity.subject_categories_other),
                "data_categories": s.activity.data_categories,
                "data_categories_other": lines(s.activity.data_categories_other),
                "special_categories_other": lines(s.activity.special_categories_other),
                "recipients": [
                    {
                        "name": r.name,
                        "kind": r.kind,
                        "country": r.country,
                        "third_country": r.third_country,
                        "notes": r.notes,
                    }
                    for r in s.recipients
                ],
                "transfers": [_transfer_record(t) for t in s.transfers],
                "retention": s.activity.retention,
                "security_measures": s.activity.security_measures,
                "security_measures_other": lines(s.activity.security_measures_other),
                "systems": s.activity.system_lines(),
                "dpia": {
                    "required": s.activity.dpia_required,
                    "done_on": s.activity.dpia_done_on.isoformat()
                    if s.activity.dpia_done_on
                    else None,
                    "reference": s.activity.dpia_reference,
                },
                "last_changed": _when(s.changed_at),
            }
            for s in register.activities
        ],
        "retired_activities": [
            {
                "id": a.pk,
                "reference": a.reference,
                "name": a.name,
                "retired_at": _when(a.retired_at),
            }
            for a in register.retired
        ],
        "processor_records": [
            {
                "id": p.record.pk,
                "name": p.record.name,
                "status": p.record.status,
                "controllers": [
                    {
                        "name": c.name,
                        "contact": c.contact,
                        "representative": c.representative,
                        "processing": c.processing,
                    }
                    for c in p.controllers
                ],
                "sub_processors": p.record.sub_processor_lines(),
                "transfers": [_transfer_record(t) for t in p.transfers],
                "security_measures": p.record.security_measures,
                "security_measures_other": lines(p.record.security_measures_other),
            }
            for p in register.processors
        ],
    }


def _transfer_record(transfer) -> dict:
    return {
        "country": transfer.country,
        "recipient": transfer.recipient,
        "safeguard": transfer.safeguard,
        "document": transfer.document,
        "notes": transfer.notes,
    }


# --- PDF ----------------------------------------------------------------------------------------


def _display(value) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value)
    return formats.date_format(local, "DATETIME_FORMAT")


def ropa_pdf(register: Register, *, sign: bool = True, timestamper=None) -> bytes:
    """PDF/A-3b in the current language, the record's data embedded as ropa.json, signed
    (PAdES) with the organisation's certificate, like the consent certificates."""
    from evidence import signing

    organisation = register.organisation
    language = translation.get_language() or settings.LANGUAGE_CODE
    records = json.dumps(register_records(register), ensure_ascii=False, indent=1).encode()
    certificate = signing.certificate_for_signing(organisation) if sign else None
    title = _("Record of processing activities")
    return signing.render_signed_document(
        template="pdf/ropa.html",
        context={
            "register": register,
            "moment": _display(register.moment),
            "generated_at": _display(register.generated_at),
            "limits": limits_text(register),
            "records_filename": RECORDS_FILENAME,
            "records_sha256": hashlib.sha256(records).hexdigest(),
        },
        attachments=[(RECORDS_FILENAME, records, "application/json")],
        title=title,
        pdf_title=f"{title} — {organisation.legal_name}",
        language=language,
        organisation=organisation,
        certificate=certificate,
        reason=_("Record of processing activities (GDPR Art. 30)"),
        timestamper=timestamper,
    )


def ropa_export(
    *,
    organisation,
    file_format: str,
    as_of: datetime.date | None = None,
    language: str | None = None,
    timestamper=None,
) -> bytes:
    """The record in ``file_format`` (pdf, xlsx or csv), now or as it stood at the end of
    ``as_of``, in ``language`` (default: the organisation's)."""
    if file_format not in FORMATS:
        raise ValueError(f"Unknown format {file_format!r}")
    with translation.override(language or organisation.default_language):
        register = read_register(organisation, as_of)
        if file_format == "csv":
            return ropa_csv(register)
        if file_format == "xlsx":
            return ropa_xlsx(register)
        return ropa_pdf(register, timestamper=timestamper)
