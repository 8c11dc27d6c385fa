"""Writes on the record of processing activities (GDPR Art. 30).

Every write saves the rows it changes with the person who made it (``_history_user``), so each
change lands in the history tables and, through accounts.audit, in the organisation's audit
trail (ARCHITECTURE invariant 6): who, when, from where, what changed. Rows that did not change
are not saved again, so the history shows only real changes. Bad input raises ValidationError
with a clear message and changes nothing (invariant 7). Activities and processor records are
retired, never deleted; a row removed from one of their lists stays in its history.
"""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership, Organisation, User
from consents.models import Purpose

from . import library
from .choices import SPECIAL_CATEGORIES, DataCategory, SecurityMeasure, Status, SubjectCategory
from .models import (
    ActivityPurpose,
    ProcessingActivity,
    ProcessorRecord,
    Recipient,
    ServedController,
    Transfer,
)

# The fields a DPO edits, which are also the forms' fields (processing.forms), in their order.
ACTIVITY_FIELDS = (
    "reference",
    "name",
    "status",
    "owner",
    "description",
    "joint_controllers",
    "representative",
    "dpo_name",
    "dpo_email",
    "subject_categories",
    "subject_categories_other",
    "data_categories",
    "data_categories_other",
    "special_categories_other",
    "retention",
    "security_measures",
    "security_measures_other",
    "systems",
    "dpia_required",
    "dpia_done_on",
    "dpia_reference",
)
PROCESSOR_FIELDS = (
    "name",
    "status",
    "owner",
    "representative",
    "dpo_name",
    "dpo_email",
    "sub_processors",
    "security_measures",
    "security_measures_other",
)
PURPOSE_LINE_FIELDS = ("purpose", "legal_basis", "art9_condition", "notes")
RECIPIENT_FIELDS = ("name", "kind", "country", "third_country", "notes")
TRANSFER_FIELDS = ("country", "recipient", "safeguard", "document", "notes")
CONTROLLER_FIELDS = ("name", "contact", "representative", "processing")
CODE_LISTS = {
    "subject_categories": SubjectCategory,
    "data_categories": DataCategory,
    "security_measures": SecurityMeasure,
}


def _messages(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return " ".join(
            f"{_field_label(name)}: {' '.join(m for e in errors for m in e.messages)}"
            if name != "__all__"
            else " ".join(m for e in errors for m in e.messages)
            for name, errors in error.error_dict.items()
        )
    return " ".join(error.messages)


def _field_label(name: str) -> str:
    for model in (ProcessingActivity, ActivityPurpose, Recipient, Transfer, ServedController):
        try:
            return str(model._meta.get_field(name).verbose_name)
        except Exception:  # noqa: S112 (the next model may have it)
            continue
    return name


def _clean_codes(data: dict) -> dict:
    """The code lists as known codes, each once, in the order of the choices."""
    data = dict(data)
    for name, choices in CODE_LISTS.items():
        if name not in data:
            continue
        codes = list(data[name] or [])
        unknown = [code for code in codes if code not in choices.values]
        if unknown:
            raise ValidationError(
                _("Unknown entries in “%(field)s”: %(codes)s.")
                % {"field": _field_label(name), "codes": ", ".join(map(str, unknown))}
            )
        data[name] = [code for code in choices.values if code in codes]
    return data


def _check_owner(organisation: Organisation, owner: User | None) -> None:
    if (
        owner is not None
        and not Membership.objects.filter(organisation=organisation, user=owner).exists()
    ):
        raise ValidationError(_("The owner must be a member of the organisation."))


def _apply(instance: models.Model, data: dict, fields) -> bool:
    """Set ``fields`` from ``data``; whether anything changed."""
    changed = False
    for name in fields:
        if name not in data:
            continue
        field = instance._meta.get_field(name)
        value = data[name]
        if isinstance(field, models.ForeignKey):
            current = getattr(instance, field.attname)
            new = value.pk if isinstance(value, models.Model) else value
            if current != new:
                setattr(instance, field.attname, new)
                changed = True
            continue
        if value is None and not field.null:
            value = "" if isinstance(field, models.CharField | models.TextField) else value
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


def _save(instance: models.Model, user: User | None) -> None:
    instance._history_user = user
    instance.save()


def _clean_row(instance: models.Model, label: str, number: int, exclude=()) -> None:
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as error:
        raise ValidationError(
            _("%(list)s, row %(n)s: %(problem)s")
            % {"list": label, "n": number, "problem": _messages(error)}
        ) from None


def _sync_rows(
    *,
    model: type[models.Model],
    parent_field: str,
    parent: models.Model,
    rows: list[dict],
    fields: tuple[str, ...],
    label: str,
    user: User | None,
    exclude=(),
) -> None:
    """Make the list of ``model`` rows of ``parent`` what ``rows`` say: rows with an ``id``
    update that row, rows without one are added, existing rows not named are removed (their
    history keeps them)."""
    existing = {row.pk: row for row in model.objects.filter(**{parent_field: parent})}
    kept = set()
    for number, row in enumerate(rows, start=1):
        pk = row.get("id")
        if pk:
            instance = existing.get(pk if isinstance(pk, int) else getattr(pk, "pk", pk))
            if instance is None:
                raise ValidationError(
                    _("%(list)s, row %(n)s: this row is no longer on record; reload the page.")
                    % {"list": label, "n": number}
                )
            kept.add(instance.pk)
            if _apply(instance, row, fields):
                _clean_row(instance, label, number, exclude)
                _save(instance, user)
        else:
            instance = model(**{parent_field: parent})
            _apply(instance, row, fields)
            _clean_row(instance, label, number, exclude)
            _save(instance, user)
    for pk, instance in existing.items():
        if pk not in kept:
            instance._history_user = user
            instance.delete()


def _check_purpose_lines(organisation: Organisation, rows: list[dict]) -> list[dict]:
    seen, checked = set(), []
    for number, row in enumerate(rows, start=1):
        purpose = row.get("purpose")
        if isinstance(purpose, int):
            purpose = Purpose.objects.filter(pk=purpose).first()
        if purpose is None or purpose.organisation_id != organisation.pk:
            raise ValidationError(
                _("Purposes, row %(n)s: choose one of the organisation's purposes.") % {"n": number}
            )
        if purpose.pk in seen:
            raise ValidationError(
                _("The purpose “%(purpose)s” is listed twice.") % {"purpose": purpose.name}
            )
        seen.add(purpose.pk)
        checked.append({**row, "purpose": purpose})
    return checked


def _checked_data(organisation: Organisation, data: dict, retire_refusal: str) -> dict:
    """``data`` for an activity or a processor record, its code lists cleaned; refused with
    ``retire_refusal`` when it would retire the entry by editing it, or when the owner is not a
    member of the organisation."""
    data = _clean_codes(data)
    if "status" in data and data["status"] not in (Status.DRAFT, Status.ACTIVE):
        raise ValidationError(retire_refusal)
    _check_owner(organisation, data.get("owner"))
    return data


def _save_entry(entry: models.Model, data: dict, fields, user: User | None) -> None:
    """Set ``fields`` of an activity or a processor record from ``data``; validate and save it
    when it is new or anything changed (an unchanged entry gets no new history row)."""
    if _apply(entry, data, fields) or entry.pk is None:
        try:
            entry.full_clean()
        except ValidationError as error:
            raise ValidationError(_messages(error)) from None
        _save(entry, user)


def _save_activity(
    *,
    activity: ProcessingActivity,
    data: dict,
    purposes: list[dict] | None,
    recipients: list[dict] | None,
    transfers: list[dict] | None,
    user: User | None,
) -> ProcessingActivity:
    organisation = activity.organisation
    data = _checked_data(
        organisation, data, _("An activity is retired with “Retire”, not by editing it.")
    )
    if purposes is not None:
        purposes = _check_purpose_lines(organisation, purposes)
    _save_entry(activity, data, ACTIVITY_FIELDS, user)
    _sync_lists(
        "activity",
        activity,
        user,
        [
            (ActivityPurpose, purposes, PURPOSE_LINE_FIELDS, _("Purposes")),
            (Recipient, recipients, RECIPIENT_FIELDS, _("Recipients")),
            (Transfer, transfers, TRANSFER_FIELDS, _("International transfers")),
        ],
    )
    return activity


def _sync_lists(parent_field: str, parent, user, lists) -> None:
    """Bring each list of rows (model, rows or None for "unchanged", fields, label) in step."""
    for model, rows, fields, label in lists:
        if rows is not None:
            _sync_rows(
                model=model,
                parent_field=parent_field,
                parent=parent,
                rows=rows,
                fields=fields,
                label=label,
                user=user,
            )


@transaction.atomic
def activity_create(
    *,
    organisation: Organisation,
    data: dict,
    purposes: list[dict] = (),
    recipients: list[dict] = (),
    transfers: list[dict] = (),
    user: User | None,
) -> ProcessingActivity:
    """Add an activity to the record (GDPR Art. 30(1)), with its purposes (each with its legal
    basis, Art. 6(1), and Art. 9(2) condition), recipients and transfers."""
    return _save_activity(
        activity=ProcessingActivity(organisation=organisation),
        data=data,
        purposes=list(purposes),
        recipients=list(recipients),
        transfers=list(transfers),
        user=user,
    )


def _locked(entry: models.Model) -> models.Model:
    # Two DPOs saving the same entry at once: the second waits and works on the first's rows.
    return type(entry).objects.select_for_update().get(pk=entry.pk)


def _retire(entry: models.Model, user: User | None) -> None:
    entry.status = Status.RETIRED
    entry.retired_at = timezone.now()
    _save(entry, user)


@transaction.atomic
def activity_update(
    *,
    activity: ProcessingActivity,
    data: dict,
    purposes: list[dict] | None = None,
    recipients: list[dict] | None = None,
    transfers: list[dict] | None = None,
    user: User | None,
) -> ProcessingActivity:
    """Change an activity; a list given (purposes, recipients, transfers) replaces the one on
    record, row by row. A retired activity is kept as it was retired."""
    activity = _locked(activity)
    if activity.is_retired:
        raise ValidationError(_("A retired activity is kept as it was; it cannot be changed."))
    return _save_activity(
        activity=activity,
        data=data,
        purposes=purposes,
        recipients=recipients,
        transfers=transfers,
        user=user,
    )


def template_purposes(organisation: Organisation, template: library.Template):
    """The organisation's active purposes a template covers (by category and audience)."""
    purposes = Purpose.objects.filter(
        organisation=organisation, active=True, category__in=template.purpose_categories
    )
    if template.audience == "employee":
        return purposes.filter(audience="employee")
    return purposes.exclude(audience="employee")


@transaction.atomic
def activity_from_template(
    *, organisation: Organisation, code: str, user: User | None
) -> ProcessingActivity:
    """A draft activity pre-filled from the library (processing.library), in the organisation's
    language, linked to the purposes it covers; the DPO reviews and edits it."""
    template = library.get(code)
    if template is None:
        raise ValidationError(_("There is no such template."))
    with translation.override(organisation.default_language):
        special = bool(SPECIAL_CATEGORIES.intersection(template.data_categories))
        purposes = [
            {
                "purpose": purpose,
                "legal_basis": purpose.legal_basis,
                "art9_condition": template.art9_condition if special else "",
            }
            for purpose in template_purposes(organisation, template)
        ]
        recipients = [
            {key: value if key == "third_country" else str(value) for key, value in row.items()}
            for row in template.recipients
        ]
        transfers = [{k: str(v) for k, v in t.items()} for t in template.transfers]
        data = {
            "name": str(template.name),
            "description": str(template.description),
            "status": Status.DRAFT,
            "owner": user if user is not None and _is_member(organisation, user) else None,
            "subject_categories": list(template.subject_categories),
            "data_categories": list(template.data_categories),
            "retention": str(template.retention),
            "security_measures": list(template.security_measures),
            "systems": str(template.systems),
            "dpia_required": template.dpia_required,
        }
    activity = ProcessingActivity(organisation=organisation, template=template.code)
    return _save_activity(
        activity=activity,
        data=data,
        purposes=purposes,
        recipients=recipients,
        transfers=transfers,
        user=user,
    )


def _is_member(organisation: Organisation, user: User) -> bool:
    return Membership.objects.filter(organisation=organisation, user=user).exists()


@transaction.atomic
def activity_retire(*, activity: ProcessingActivity, user: User | None) -> ProcessingActivity:
    """The processing has stopped: the activity leaves the record in force but stays on file
    with its whole history (the record as it stood before still shows it)."""
    activity = _locked(activity)
    if activity.is_retired:
        raise ValidationError(_("This activity is retired already."))
    _retire(activity, user)
    return activity


# --- processor records (Art. 30(2)) -----------------------------------------------------------


def _save_processor_record(
    *,
    record: ProcessorRecord,
    data: dict,
    controllers: list[dict] | None,
    transfers: list[dict] | None,
    user: User | None,
) -> ProcessorRecord:
    data = _checked_data(
        record.organisation, data, _("A record is retired with “Retire”, not by editing it.")
    )
    _save_entry(record, data, PROCESSOR_FIELDS, user)
    _sync_lists(
        "record",
        record,
        user,
        [
            (ServedController, controllers, CONTROLLER_FIELDS, _("Controllers served")),
            (Transfer, transfers, TRANSFER_FIELDS, _("International transfers")),
        ],
    )
    return record


@transaction.atomic
def processor_record_create(
    *,
    organisation: Organisation,
    data: dict,
    controllers: list[dict] = (),
    transfers: list[dict] = (),
    user: User | None,
) -> ProcessorRecord:
    """Add a record of processing carried out on behalf of controllers (GDPR Art. 30(2))."""
    return _save_processor_record(
        record=ProcessorRecord(organisation=organisation),
        data=data,
        controllers=list(controllers),
        transfers=list(transfers),
        user=user,
    )


@transaction.atomic
def processor_record_update(
    *,
    record: ProcessorRecord,
    data: dict,
    controllers: list[dict] | None = None,
    transfers: list[dict] | None = None,
    user: User | None,
) -> ProcessorRecord:
    record = _locked(record)
    if record.is_retired:
        raise ValidationError(_("A retired record is kept as it was; it cannot be changed."))
    return _save_processor_record(
        record=record, data=data, controllers=controllers, transfers=transfers, user=user
    )


@transaction.atomic
def processor_record_retire(*, record: ProcessorRecord, user: User | None) -> ProcessorRecord:
    record = _locked(record)
    if record.is_retired:
        raise ValidationError(_("This record is retired already."))
    _retire(record, user)
    return record
