"""A library of processing activities our users have: pre-filled entries a DPO starts from and
then edits (processing.services.activity_from_template).

Each template names the purposes it covers by the consent register's purpose categories (and
audience): creating an activity links the organisation's active purposes that fit, each with the
legal basis the purpose records. WhatsApp is provided in the EEA by WhatsApp Ireland Ltd.
(Meta), a processor for WhatsApp Business; data may reach Meta Platforms, Inc. in the United
States, certified under the EU-US Data Privacy Framework, with standard contractual clauses in
Meta's data transfer terms.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from consents.choices import PurposeCategory, SubjectKind

from .choices import (
    Art9Condition,
    DataCategory,
    RecipientKind,
    Safeguard,
    SecurityMeasure,
    SubjectCategory,
)

WHATSAPP_TERMS = "https://www.whatsapp.com/legal/business-data-transfer-addendum"
DPF_LIST = "https://www.dataprivacyframework.gov/list"


@dataclass(frozen=True)
class Template:
    code: str
    name: str
    summary: str
    description: str
    purpose_categories: tuple[str, ...]
    subject_categories: tuple[str, ...]
    data_categories: tuple[str, ...]
    retention: str
    security_measures: tuple[str, ...]
    systems: str
    # Purposes for this audience only ("" for any); groups of employees, say.
    audience: str = ""
    art9_condition: str = ""
    dpia_required: bool = False
    recipients: tuple[dict, ...] = field(default_factory=tuple)
    transfers: tuple[dict, ...] = field(default_factory=tuple)


def _whatsapp_recipients():
    return (
        {
            "name": "WhatsApp Ireland Ltd. (Meta)",
            "kind": RecipientKind.PROCESSOR,
            "country": _("Ireland"),
            "third_country": False,
            "notes": _("WhatsApp Business terms (data processing terms)."),
        },
        {
            "name": "Meta Platforms, Inc.",
            "kind": RecipientKind.SUB_PROCESSOR,
            "country": _("United States"),
            "third_country": True,
            "notes": _("Infrastructure and support of WhatsApp."),
        },
    )


def _whatsapp_transfers():
    return (
        {
            "country": _("United States"),
            "recipient": "Meta Platforms, Inc.",
            "safeguard": Safeguard.EU_US_DPF,
            "document": DPF_LIST,
            "notes": _("Standard contractual clauses as well, in Meta's data transfer terms."),
        },
    )


WHATSAPP_MEASURES = (
    SecurityMeasure.BUSINESS_DEVICES,
    SecurityMeasure.AUTHENTICATION,
    SecurityMeasure.ENCRYPTION_TRANSIT,
    SecurityMeasure.ACCESS_CONTROL,
    SecurityMeasure.POLICY,
    SecurityMeasure.CONFIDENTIALITY,
    SecurityMeasure.PROCESSOR_CONTRACTS,
)
BUSINESS_APP = _("WhatsApp Business app on the organisation's phone")

TEMPLATES = (
    Template(
        code="whatsapp-customers",
        name=_("WhatsApp communications with customers"),
        summary=_("Answering customers and sending them information over WhatsApp."),
        description=_(
            "Answering the questions customers send over WhatsApp and telling them of changes "
            "of opening hours, closures and other information about the service."
        ),
        purpose_categories=(PurposeCategory.INFORMATIONAL,),
        subject_categories=(SubjectCategory.CUSTOMERS, SubjectCategory.PROSPECTS),
        data_categories=(
            DataCategory.IDENTIFICATION,
            DataCategory.CONTACT,
            DataCategory.WHATSAPP_PROFILE,
            DataCategory.MESSAGES,
        ),
        retention=_(
            "Conversations are deleted 12 months after the last message; consent records are "
            "kept while consent lasts and then for the limitation periods."
        ),
        security_measures=WHATSAPP_MEASURES + (SecurityMeasure.RETENTION_SCHEDULE,),
        systems=BUSINESS_APP,
        recipients=_whatsapp_recipients(),
        transfers=_whatsapp_transfers(),
    ),
    Template(
        code="appointment-reminders",
        name=_("Appointment reminders"),
        summary=_("Confirming and reminding appointments over WhatsApp."),
        description=_(
            "Confirming appointments and sending a reminder the day before, over WhatsApp."
        ),
        purpose_categories=(PurposeCategory.APPOINTMENTS,),
        subject_categories=(SubjectCategory.CUSTOMERS, SubjectCategory.PATIENTS),
        data_categories=(
            DataCategory.IDENTIFICATION,
            DataCategory.CONTACT,
            DataCategory.WHATSAPP_PROFILE,
            DataCategory.APPOINTMENTS,
        ),
        retention=_("Reminders are deleted 12 months after the appointment."),
        security_measures=WHATSAPP_MEASURES + (SecurityMeasure.RETENTION_SCHEDULE,),
        systems=BUSINESS_APP + "\n" + _("Appointment book"),
        recipients=_whatsapp_recipients(),
        transfers=_whatsapp_transfers(),
    ),
    Template(
        code="sending-documents",
        name=_("Sending documents over WhatsApp"),
        summary=_("Quotes, invoices and reports sent to the person who asked for them."),
        description=_(
            "Sending quotes, invoices, reports and other documents by individual chat to the "
            "person who consented to receive them."
        ),
        purpose_categories=(PurposeCategory.DOCUMENTS,),
        subject_categories=(SubjectCategory.CUSTOMERS, SubjectCategory.PATIENTS),
        data_categories=(
            DataCategory.IDENTIFICATION,
            DataCategory.CONTACT,
            DataCategory.WHATSAPP_PROFILE,
            DataCategory.FINANCIAL,
            DataCategory.HEALTH,
        ),
        art9_condition=Art9Condition.EXPLICIT_CONSENT,
        retention=_(
            "Documents are deleted from the chat once delivered; the originals follow their own "
            "retention (invoices: 6 years, Commercial Code Art. 30)."
        ),
        security_measures=WHATSAPP_MEASURES
        + (SecurityMeasure.ENCRYPTION_REST, SecurityMeasure.RETENTION_SCHEDULE),
        systems=BUSINESS_APP,
        recipients=_whatsapp_recipients(),
        transfers=_whatsapp_transfers(),
    ),
    Template(
        code="customer-groups",
        name=_("WhatsApp groups with customers"),
        summary=_("Groups that customers join through a consent-gated invite link."),
        description=_(
            "Running WhatsApp groups with customers, who join through an invite link after "
            "consenting: every member sees the others' name, number and photo."
        ),
        purpose_categories=(PurposeCategory.GROUP_MEMBERSHIP,),
        audience=SubjectKind.CUSTOMER,
        subject_categories=(SubjectCategory.CUSTOMERS, SubjectCategory.GROUP_MEMBERS),
        data_categories=(
            DataCategory.WHATSAPP_PROFILE,
            DataCategory.MESSAGES,
            DataCategory.IMAGES,
        ),
        retention=_("Members are removed when they ask or when the group closes."),
        security_measures=WHATSAPP_MEASURES,
        systems=BUSINESS_APP,
        recipients=_whatsapp_recipients()
        + (
            {
                "name": _("The other members of the group"),
                "kind": RecipientKind.OTHER,
                "country": "",
                "third_country": False,
                "notes": _("They see each member's name, number and photo."),
            },
        ),
        transfers=_whatsapp_transfers(),
    ),
    Template(
        code="employee-groups",
        name=_("WhatsApp groups of employees"),
        summary=_("Coordinating shifts and work in a voluntary staff group."),
        description=_(
            "Coordinating shifts and daily work in a WhatsApp group of employees, which they "
            "join voluntarily; nothing personal about customers is shared in it."
        ),
        purpose_categories=(PurposeCategory.GROUP_MEMBERSHIP,),
        audience=SubjectKind.EMPLOYEE,
        subject_categories=(SubjectCategory.EMPLOYEES, SubjectCategory.GROUP_MEMBERS),
        data_categories=(
            DataCategory.IDENTIFICATION,
            DataCategory.WHATSAPP_PROFILE,
            DataCategory.MESSAGES,
            DataCategory.EMPLOYMENT,
        ),
        retention=_("Members are removed when they leave the organisation or the group."),
        security_measures=WHATSAPP_MEASURES + (SecurityMeasure.TRAINING,),
        systems=BUSINESS_APP,
        recipients=_whatsapp_recipients(),
        transfers=_whatsapp_transfers(),
    ),
    Template(
        code="marketing",
        name=_("Marketing over WhatsApp"),
        summary=_("Offers and campaigns, only to people who gave prior express consent."),
        description=_(
            "Sending offers and campaigns over WhatsApp to people who gave prior express "
            "consent (LSSI Art. 21), each message with a free, simple way to opt out."
        ),
        purpose_categories=(PurposeCategory.MARKETING,),
        subject_categories=(SubjectCategory.CUSTOMERS, SubjectCategory.PROSPECTS),
        data_categories=(
            DataCategory.IDENTIFICATION,
            DataCategory.CONTACT,
            DataCategory.WHATSAPP_PROFILE,
            DataCategory.COMMERCIAL,
        ),
        retention=_(
            "Until consent is withdrawn; then the number stays only on the suppression list."
        ),
        security_measures=WHATSAPP_MEASURES + (SecurityMeasure.LOGGING,),
        systems=BUSINESS_APP,
        recipients=_whatsapp_recipients(),
        transfers=_whatsapp_transfers(),
    ),
)

BY_CODE = {template.code: template for template in TEMPLATES}


def get(code: str) -> Template | None:
    return BY_CODE.get(code)
