"""Demo record of processing for the dental clinic: six activities made from the library and
linked to the clinic's purposes, as a DPO would have made them a year ago, with one retention
changed two months ago (so "as it stood" before and after differ), one draft left with gaps (no
retention) so the checks show real findings, and one processor record.

Idempotent: a second run finds activities and changes nothing. Runs after consents.demo and
groups.demo (their purposes). The history dates are moved into the past after the services
wrote them; nothing else in the app writes history dates.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import AuditEntry, Membership
from accounts.roles import Role

from . import services
from .choices import Art9Condition, SecurityMeasure, Status
from .models import (
    ActivityPurpose,
    ProcessingActivity,
    ProcessorRecord,
    Recipient,
    ServedController,
    Transfer,
)

# (template, its reference in the clinic's record)
ACTIVITIES = [
    ("whatsapp-customers", "T-01"),
    ("appointment-reminders", "T-02"),
    ("sending-documents", "T-03"),
    ("customer-groups", "T-04"),
    ("marketing", "T-05"),
    ("employee-groups", "T-06"),
]

# Every model of the record: the history of each is moved back.
_RECORD_MODELS = (
    ProcessingActivity,
    ActivityPurpose,
    Recipient,
    Transfer,
    ProcessorRecord,
    ServedController,
)
_REGISTERS = [model._meta.model_name for model in _RECORD_MODELS]


def _backdate(since, days_ago: int) -> None:
    """Move every history row and audit entry written since ``since`` back by ``days_ago``
    days, keeping their order (the record as of a date picks the latest row before it)."""
    shift = timedelta(days=days_ago)
    for model in _RECORD_MODELS:
        model.history.filter(history_date__gte=since).update(history_date=F("history_date") - shift)
    AuditEntry.objects.filter(at__gte=since, register__in=_REGISTERS).update(at=F("at") - shift)
    for model in (ProcessingActivity, ProcessorRecord):
        model.objects.filter(created_at__gte=since).update(created_at=F("created_at") - shift)
        model.objects.filter(updated_at__gte=since).update(updated_at=F("updated_at") - shift)


@transaction.atomic
def load(*, organisation):
    if ProcessingActivity.objects.filter(organisation=organisation).exists():
        return "processing activities exist already: record of processing left as it is"
    dpo = (
        Membership.objects.filter(organisation=organisation, role=Role.DPO)
        .select_related("user")
        .first()
    )
    user = dpo.user if dpo else None
    since = timezone.now()
    made = {}
    for code, reference in ACTIVITIES:
        activity = services.activity_from_template(organisation=organisation, code=code, user=user)
        data = {"reference": reference}
        if code != "employee-groups":
            data["status"] = Status.ACTIVE
        else:
            # Left a draft, its retention not yet decided: the checks report it.
            data["retention"] = ""
        if code == "sending-documents":
            data |= {
                "dpia_required": True,
                "dpia_done_on": (timezone.localdate() - timedelta(days=360)),
                "dpia_reference": "EIPD-2025-03 (carpeta Protección de datos / EIPD)",
            }
        made[code] = services.activity_update(activity=activity, data=data, user=user)
    documents = made["sending-documents"]
    services.activity_update(
        activity=documents,
        data={},
        purposes=[
            {
                "id": line.pk,
                "purpose": line.purpose,
                "legal_basis": line.legal_basis,
                "art9_condition": Art9Condition.EXPLICIT_CONSENT,
                "notes": line.notes,
            }
            for line in documents.purpose_lines.all()
        ],
        user=user,
    )
    services.processor_record_create(
        organisation=organisation,
        data={
            "name": "Custodia de historias clínicas para la red Sonrisa",
            "status": Status.ACTIVE,
            "owner": user,
            "sub_processors": "Copias cifradas: proveedor de alojamiento en Madrid (España)",
            "security_measures": [
                SecurityMeasure.ACCESS_CONTROL,
                SecurityMeasure.ENCRYPTION_REST,
                SecurityMeasure.BACKUPS,
                SecurityMeasure.LOGGING,
            ],
        },
        controllers=[
            {
                "name": "Clínica Dental Sonrisa Norte S.L.",
                "contact": "Calle de Bravo Murillo 200, 28020 Madrid · dpo@sonrisanorte.example",
                "representative": "",
                "processing": "Alojamiento y copia de seguridad del programa de gestión de citas.",
            }
        ],
        user=user,
    )
    _backdate(since, 400)
    # Two months ago the DPO shortened the reminders' retention: the record as it stood before
    # that day still shows 12 months.
    since = timezone.now()
    services.activity_update(
        activity=made["appointment-reminders"],
        data={"retention": "Los recordatorios se borran 6 meses después de la cita."},
        user=user,
    )
    _backdate(since, 60)
    return f"{len(made)} processing activities, 1 processor record"
