"""The consent register's vocabulary: the words DOMAIN.md uses, as database choices.

Kept apart from the models so that the rule book (consents.rules) can speak them without
importing the models that call it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LegalBasis(models.TextChoices):
    """GDPR Art. 6(1)(a)-(f)."""

    CONSENT = "consent", _("Consent (Art. 6(1)(a))")
    CONTRACT = "contract", _("Contract (Art. 6(1)(b))")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation (Art. 6(1)(c))")
    VITAL_INTERESTS = "vital_interests", _("Vital interests (Art. 6(1)(d))")
    PUBLIC_TASK = "public_task", _("Public task (Art. 6(1)(e))")
    LEGITIMATE_INTERESTS = "legitimate_interests", _("Legitimate interests (Art. 6(1)(f))")


class PurposeCategory(models.TextChoices):
    MARKETING = "marketing", _("Marketing / commercial communications")
    INFORMATIONAL = "informational", _("Informational messages")
    APPOINTMENTS = "appointments", _("Appointment confirmations")
    DOCUMENTS = "documents", _("Sending documents")
    GROUP_MEMBERSHIP = "group_membership", _("WhatsApp group membership")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    PHONE_CALL = "phone_call", _("Phone call")
    WHATSAPP = "whatsapp", _("WhatsApp message")
    WEB_FORM = "web_form", _("Web form")
    INVITE_LINK = "invite_link", _("Invite link")
    EMAIL = "email", _("E-mail")
    PAPER_FORM = "paper_form", _("Paper form")
    IMPORT = "import", _("Import")


class Action(models.TextChoices):
    GRANTED = "granted", _("granted")
    WITHDRAWN = "withdrawn", _("withdrawn")
    REFUSED = "refused", _("refused")


class GivenBy(models.TextChoices):
    SUBJECT = "subject", _("the person")
    GUARDIAN = "guardian", _("parent or guardian (under 14, LOPDGDD Art. 7)")


class SubjectKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    EMPLOYEE = "employee", _("Employee")
    SUPPLIER = "supplier", _("Supplier contact")
    OTHER = "other", _("Other")


class SubjectStatus(models.TextChoices):
    """Where the person stands with the rights they exercised (rights_requests.fulfilment).

    RESTRICTED (GDPR Art. 18): kept and shown, but nothing new is processed: no consent is
    captured, no link or message is sent; withdrawals stay possible. BLOCKED (LOPDGDD Art. 32,
    after an erasure): kept only for courts and authorities, gone from every normal list, search,
    export and capture. PURGED: a tombstone once the blocking period ended: the row stays because
    ledger events reference it, with no personal data left.
    """

    ACTIVE = "active", _("Active")
    RESTRICTED = "restricted", _("Restricted (Art. 18)")
    BLOCKED = "blocked", _("Blocked")
    PURGED = "purged", _("Purged")


# People who have left normal use: blocked (erasure) or purged (tombstone).
HIDDEN_STATUSES = frozenset({SubjectStatus.BLOCKED, SubjectStatus.PURGED})


class SuppressionReason(models.TextChoices):
    """Why a number must not receive marketing (GDPR Art. 21(3), LOPDGDD Art. 23)."""

    OBJECTION = "objection", _("Objection to direct marketing (Art. 21)")
