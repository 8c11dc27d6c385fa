"""The vocabulary of the record of processing activities (GDPR Art. 30), as database choices.

The usual categories follow the AEPD's and the CNIL's published record templates; every list
also takes free entries on the activity itself. Codes are stored, labels are shown (and
exported) in the reader's language.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


class SubjectCategory(models.TextChoices):
    """Art. 30(1)(c): categories of data subjects."""

    CUSTOMERS = "customers", _("Customers")
    PATIENTS = "patients", _("Patients")
    PROSPECTS = "prospects", _("Prospective customers")
    EMPLOYEES = "employees", _("Employees")
    APPLICANTS = "applicants", _("Job applicants")
    SUPPLIERS = "suppliers", _("Suppliers' contact people")
    MINORS = "minors", _("Minors")
    GUARDIANS = "guardians", _("Parents or guardians")
    GROUP_MEMBERS = "group_members", _("Members of WhatsApp groups")


class DataCategory(models.TextChoices):
    """Art. 30(1)(c): categories of personal data; SPECIAL ones are Art. 9(1) categories."""

    IDENTIFICATION = "identification", _("Identification (name, ID number)")
    CONTACT = "contact", _("Contact details (phone, e-mail, address)")
    WHATSAPP_PROFILE = "whatsapp_profile", _("WhatsApp profile (number, name, photo, status)")
    MESSAGES = "messages", _("Content of messages")
    IMAGES = "images", _("Images, voice notes and video")
    APPOINTMENTS = "appointments", _("Appointments and attendance")
    FINANCIAL = "financial", _("Economic and billing data")
    COMMERCIAL = "commercial", _("Commercial data (purchases, preferences)")
    EMPLOYMENT = "employment", _("Employment data (job, shifts)")
    METADATA = "metadata", _("Usage and connection data (metadata)")
    HEALTH = "health", _("Health data")
    GENETIC = "genetic", _("Genetic data")
    BIOMETRIC = "biometric", _("Biometric data for identification")
    ETHNIC_ORIGIN = "ethnic_origin", _("Racial or ethnic origin")
    POLITICAL = "political", _("Political opinions")
    BELIEFS = "beliefs", _("Religious or philosophical beliefs")
    TRADE_UNION = "trade_union", _("Trade-union membership")
    SEX_LIFE = "sex_life", _("Sex life or sexual orientation")


# GDPR Art. 9(1): processing them needs an Art. 9(2) condition besides an Art. 6(1) basis.
SPECIAL_CATEGORIES = frozenset(
    {
        DataCategory.HEALTH,
        DataCategory.GENETIC,
        DataCategory.BIOMETRIC,
        DataCategory.ETHNIC_ORIGIN,
        DataCategory.POLITICAL,
        DataCategory.BELIEFS,
        DataCategory.TRADE_UNION,
        DataCategory.SEX_LIFE,
    }
)


class Art9Condition(models.TextChoices):
    """GDPR Art. 9(2)(a)-(j): the conditions that lift the ban on special categories."""

    EXPLICIT_CONSENT = "a", _("Explicit consent (Art. 9(2)(a))")
    EMPLOYMENT = "b", _("Employment and social security obligations (Art. 9(2)(b))")
    VITAL_INTERESTS = "c", _("Vital interests, person unable to consent (Art. 9(2)(c))")
    NOT_FOR_PROFIT = "d", _("Not-for-profit body, its members (Art. 9(2)(d))")
    MADE_PUBLIC = "e", _("Made manifestly public by the person (Art. 9(2)(e))")
    LEGAL_CLAIMS = "f", _("Legal claims or courts (Art. 9(2)(f))")
    PUBLIC_INTEREST = "g", _("Substantial public interest in law (Art. 9(2)(g))")
    HEALTH_CARE = "h", _("Medical diagnosis, health or social care (Art. 9(2)(h))")
    PUBLIC_HEALTH = "i", _("Public health (Art. 9(2)(i))")
    RESEARCH = "j", _("Archiving, research or statistics (Art. 9(2)(j))")


class RecipientKind(models.TextChoices):
    """Art. 30(1)(d): who receives the data."""

    PROCESSOR = "processor", _("Processor (Art. 28)")
    SUB_PROCESSOR = "sub_processor", _("Sub-processor")
    CONTROLLER = "controller", _("Independent controller")
    JOINT_CONTROLLER = "joint_controller", _("Joint controller (Art. 26)")
    AUTHORITY = "authority", _("Public authority")
    OTHER = "other", _("Other recipient")


class Safeguard(models.TextChoices):
    """Art. 30(1)(e): the ground of a transfer to a third country (GDPR Chapter V)."""

    ADEQUACY = "adequacy", _("Adequacy decision (Art. 45)")
    EU_US_DPF = "eu_us_dpf", _("EU-US Data Privacy Framework (adequacy decision, Art. 45)")
    SCC = "scc", _("Standard contractual clauses (Art. 46(2)(c))")
    BCR = "bcr", _("Binding corporate rules (Art. 47)")
    DEROGATION = "derogation", _("Derogation for a specific situation (Art. 49)")
    OTHER = "other", _("Other appropriate safeguard (Art. 46)")


class SecurityMeasure(models.TextChoices):
    """Art. 30(1)(g) and Art. 32(1): technical and organisational measures."""

    ACCESS_CONTROL = "access_control", _("Access limited to the staff who need it")
    AUTHENTICATION = "authentication", _("Screen lock, PIN and two-step verification")
    BUSINESS_DEVICES = "business_devices", _("Business numbers and devices only")
    ENCRYPTION_TRANSIT = "encryption_transit", _("End-to-end encryption in transit")
    ENCRYPTION_REST = "encryption_rest", _("Encrypted devices and backups")
    BACKUPS = "backups", _("Regular backups")
    CONFIDENTIALITY = "confidentiality", _("Staff confidentiality undertakings")
    POLICY = "policy", _("Internal usage policy acknowledged by staff")
    TRAINING = "training", _("Staff training")
    RETENTION_SCHEDULE = "retention_schedule", _("Scheduled deletion at the end of retention")
    PSEUDONYMISATION = "pseudonymisation", _("Pseudonymisation or minimisation")
    LOGGING = "logging", _("Records of access and changes")
    INCIDENTS = "incidents", _("Procedure for personal data breaches")
    PROCESSOR_CONTRACTS = "processor_contracts", _("Contracts with processors (Art. 28)")


def labels(choices: type[models.TextChoices], codes) -> list[str]:
    """Labels of ``codes`` in the current language, in the order of the choices (unknown codes,
    from a list that has since changed, are shown as stored)."""
    known = dict(choices.choices)
    ordered = [code for code in choices.values if code in codes]
    ordered += [code for code in codes if code not in known]
    return [str(known.get(code, code)) for code in ordered]
