"""Activities and processor records, made through processing.services like the pages do."""

from processing import services
from processing.choices import DataCategory, RecipientKind, Safeguard, Status, SubjectCategory
from tests.consents.factories import PurposeFactory


def activity(org, *, user=None, purposes=None, recipients=None, transfers=None, **data):
    """An active activity with one purpose, a WhatsApp recipient and a safeguarded transfer;
    every part can be replaced."""
    if purposes is None:
        purposes = [{"purpose": PurposeFactory(organisation=org), "legal_basis": "consent"}]
    if recipients is None:
        recipients = [
            {"name": "WhatsApp Ireland Ltd.", "kind": RecipientKind.PROCESSOR, "country": "Irlanda"}
        ]
    if transfers is None:
        transfers = [
            {
                "country": "Estados Unidos",
                "recipient": "Meta Platforms, Inc.",
                "safeguard": Safeguard.EU_US_DPF,
                "document": "https://www.dataprivacyframework.gov/list",
            }
        ]
    values = {
        "name": "Recordatorio de citas",
        "status": Status.ACTIVE,
        "subject_categories": [SubjectCategory.PATIENTS],
        "data_categories": [DataCategory.CONTACT, DataCategory.APPOINTMENTS],
        "retention": "12 meses después de la cita",
        "security_measures": ["business_devices"],
        "systems": "WhatsApp Business en el móvil de recepción",
    } | data
    return services.activity_create(
        organisation=org,
        data=values,
        purposes=purposes,
        recipients=recipients,
        transfers=transfers,
        user=user,
    )


def processor_record(org, *, user=None, **data):
    return services.processor_record_create(
        organisation=org,
        data={"name": "Soporte informático para clínicas", "status": Status.ACTIVE} | data,
        controllers=[
            {
                "name": "Clínica Dental Norte S.L.",
                "contact": "dpo@norte.example",
                "processing": "Copias de seguridad y soporte remoto",
            }
        ],
        transfers=[],
        user=user,
    )
