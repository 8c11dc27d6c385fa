"""The record of processing activities as it stands now or as it stood at any moment.

"As it stood on 1 March 2026" is rebuilt from the history tables (django-simple-history) of
every model involved: the activities, their purpose lines, recipients and transfers, the
processor records and their controllers, and also the organisation (the controller's name and
contacts) and the consent register's purposes (their names then). Rows created later are not
there, rows removed since are, each with its values at that moment. The pages and every export
read the record through ``register_as_of`` only, so what is shown and what is handed out agree.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import AuditEntry, Organisation
from consents.models import Purpose

from .choices import Art9Condition, Status
from .models import (
    ActivityPurpose,
    ProcessingActivity,
    ProcessorRecord,
    Recipient,
    ServedController,
    Transfer,
)


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The last instant of ``day`` in the register's time zone: "as it stood on 1 March" is
    the record at the end of that day."""
    moment = datetime.datetime.combine(day, datetime.time.max)
    return timezone.make_aware(moment, timezone.get_current_timezone())


@dataclass
class PurposeLine:
    line: ActivityPurpose
    code: str
    name: str

    @property
    def legal_basis_label(self) -> str:
        return self.line.get_legal_basis_display()

    @property
    def art9_label(self) -> str:
        return (
            str(Art9Condition(self.line.art9_condition).label) if self.line.art9_condition else ""
        )


@dataclass
class ActivitySnapshot:
    activity: ProcessingActivity
    purposes: list[PurposeLine] = field(default_factory=list)
    recipients: list[Recipient] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    changed_at: datetime.datetime | None = None

    @property
    def owner_name(self) -> str:
        owner = self.activity.owner if self.activity.owner_id else None
        return owner.display_name if owner else ""

    @property
    def missing_art9(self) -> list[PurposeLine]:
        if not self.activity.has_special_categories:
            return []
        return [p for p in self.purposes if not p.line.art9_condition]


@dataclass
class ProcessorSnapshot:
    record: ProcessorRecord
    controllers: list[ServedController] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    changed_at: datetime.datetime | None = None


@dataclass
class Register:
    organisation: Organisation
    at: datetime.datetime | None
    generated_at: datetime.datetime
    activities: list[ActivitySnapshot]
    retired: list[ProcessingActivity]
    processors: list[ProcessorSnapshot]
    retired_processors: list[ProcessorRecord]

    @property
    def moment(self) -> datetime.datetime:
        """The instant the record shows: the as-of moment, or when it was read."""
        return self.at or self.generated_at

    @property
    def drafts(self) -> int:
        return sum(1 for a in self.activities if a.activity.status == Status.DRAFT)


def _rows(model, at):
    return model.history.as_of(at) if at is not None else model.objects.all()


def _changed(model, parent_field: str, ids, at) -> dict:
    """Latest history date per parent id among ``model``'s rows, up to ``at``."""
    if not ids:
        return {}
    history = model.history.filter(**{f"{parent_field}__in": ids})
    if at is not None:
        history = history.filter(history_date__lte=at)
    return dict(
        history.values_list(parent_field).annotate(Max("history_date")).order_by(parent_field)
    )


def _latest(*maps) -> dict:
    merged = {}
    for mapping in maps:
        for key, value in mapping.items():
            if key is not None and (key not in merged or value > merged[key]):
                merged[key] = value
    return merged


def organisation_as_of(organisation: Organisation, at) -> Organisation:
    if at is None:
        return organisation
    row = organisation.history.filter(history_date__lte=at).order_by("-history_date").first()
    return row.instance if row is not None else organisation


def _purposes_as_of(organisation: Organisation, at) -> dict[int, Purpose]:
    return {p.pk: p for p in _rows(Purpose, at).filter(organisation_id=organisation.pk)}


def _sorted(items, key):
    return sorted(items, key=key)


def _activity_key(activity):
    return (activity.reference or "\uffff", activity.name.lower(), activity.pk)


def _append_rows(snapshots: dict, attribute: str, model, parent_field: str, at) -> None:
    """Add the rows of ``model`` as they stood at ``at`` to the list ``attribute`` of their
    parent's snapshot, in the order they were made."""
    rows = _rows(model, at).filter(**{f"{parent_field}__in": list(snapshots)}).order_by("id")
    for row in rows:
        getattr(snapshots[getattr(row, parent_field)], attribute).append(row)


def _stamp_changed(snapshots: dict, parent_model, list_models, parent_field: str, at) -> None:
    """Set on each snapshot when its entry or a row of its lists last changed, up to ``at``."""
    ids = list(snapshots)
    changed = _latest(
        _changed(parent_model, "id", ids, at),
        *(_changed(model, parent_field, ids, at) for model in list_models),
    )
    for pk, snapshot in snapshots.items():
        snapshot.changed_at = changed.get(pk)


def _activity_snapshots(organisation, activities, at) -> list[ActivitySnapshot]:
    ids = [a.pk for a in activities]
    purposes = _purposes_as_of(organisation, at)
    snapshots = {a.pk: ActivitySnapshot(activity=a) for a in activities}
    for line in _rows(ActivityPurpose, at).filter(activity_id__in=ids).order_by("id"):
        purpose = purposes.get(line.purpose_id)
        if purpose is None:  # a purpose made later than ``at`` cannot be on a line by then
            purpose = Purpose.objects.filter(pk=line.purpose_id).first()
        snapshots[line.activity_id].purposes.append(
            PurposeLine(
                line=line,
                code=purpose.code if purpose else "",
                name=purpose.name if purpose else "",
            )
        )
    _append_rows(snapshots, "recipients", Recipient, "activity_id", at)
    _append_rows(snapshots, "transfers", Transfer, "activity_id", at)
    _stamp_changed(
        snapshots, ProcessingActivity, [ActivityPurpose, Recipient, Transfer], "activity_id", at
    )
    return [snapshots[a.pk] for a in activities]


def _processor_snapshots(records, at) -> list[ProcessorSnapshot]:
    snapshots = {r.pk: ProcessorSnapshot(record=r) for r in records}
    _append_rows(snapshots, "controllers", ServedController, "record_id", at)
    _append_rows(snapshots, "transfers", Transfer, "record_id", at)
    _stamp_changed(snapshots, ProcessorRecord, [ServedController, Transfer], "record_id", at)
    return [snapshots[r.pk] for r in records]


def register_as_of(organisation: Organisation, at: datetime.datetime | None = None) -> Register:
    """The whole record (Art. 30(1) activities and Art. 30(2) processor records) as it stood at
    ``at``, or as it stands now when ``at`` is None."""
    activities = sorted(
        _rows(ProcessingActivity, at).filter(organisation_id=organisation.pk), key=_activity_key
    )
    records = sorted(
        _rows(ProcessorRecord, at).filter(organisation_id=organisation.pk),
        key=lambda r: (r.name.lower(), r.pk),
    )
    in_force = [a for a in activities if a.status != Status.RETIRED]
    return Register(
        organisation=organisation_as_of(organisation, at),
        at=at,
        generated_at=timezone.now(),
        activities=_activity_snapshots(organisation, in_force, at),
        retired=[a for a in activities if a.status == Status.RETIRED],
        processors=_processor_snapshots([r for r in records if r.status != Status.RETIRED], at),
        retired_processors=[r for r in records if r.status == Status.RETIRED],
    )


def _entry_as_of(entry, at):
    """An activity or processor record as it stood at ``at`` (None: now); None if it did not
    exist yet."""
    if at is None:
        return entry
    try:
        return entry.history.as_of(at)
    except type(entry).DoesNotExist:
        return None


def activity_as_of(activity: ProcessingActivity, at=None) -> ActivitySnapshot | None:
    """One activity as it stood at ``at`` (None: now); None if it did not exist yet."""
    activity = _entry_as_of(activity, at)
    if activity is None:
        return None
    return _activity_snapshots(activity.organisation, [activity], at)[0]


def processor_as_of(record: ProcessorRecord, at=None) -> ProcessorSnapshot | None:
    record = _entry_as_of(record, at)
    if record is None:
        return None
    return _processor_snapshots([record], at)[0]


def _ids_ever(model, **lookup) -> list[int]:
    # From the history table: rows removed from the list since are part of its story too.
    return list(model.history.filter(**lookup).values_list("id", flat=True).distinct())


def _entries(entry, list_models, parent_field: str):
    """The audit trail of an activity or processor record and of every row its lists ever had."""
    rows = {type(entry): [entry.pk]}
    for model in list_models:
        rows[model] = _ids_ever(model, **{parent_field: entry.pk})
    wanted = Q(pk__in=[])
    for model, ids in rows.items():
        wanted |= Q(register=model._meta.model_name, object_id__in=[str(i) for i in ids])
    return (
        AuditEntry.objects.filter(organisation=entry.organisation)
        .filter(wanted)
        .select_related("user")
        .order_by("-at", "-pk")
    )


def history_entries(activity: ProcessingActivity):
    """Every change of the activity and of its lists: who, when, from where, what changed."""
    return _entries(activity, [ActivityPurpose, Recipient, Transfer], "activity_id")


def processor_history_entries(record: ProcessorRecord):
    return _entries(record, [ServedController, Transfer], "record_id")
