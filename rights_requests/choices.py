"""The rights-request register's vocabulary (GDPR Art. 12-21, LOPDGDD Art. 12-18 and 32)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Right(models.TextChoices):
    ACCESS = "access", _("Access (Art. 15)")
    RECTIFICATION = "rectification", _("Rectification (Art. 16)")
    ERASURE = "erasure", _("Erasure (Art. 17)")
    RESTRICTION = "restriction", _("Restriction (Art. 18)")
    PORTABILITY = "portability", _("Portability (Art. 20)")
    OBJECTION = "objection", _("Objection (Art. 21)")
    WITHDRAWAL = "withdrawal", _("Withdrawal of all consents (Art. 7(3))")


class RequestChannel(models.TextChoices):
    WHATSAPP = "whatsapp", _("WhatsApp")
    EMAIL = "email", _("E-mail")
    IN_PERSON = "in_person", _("In person")
    POST = "post", _("Post")
    WEB_FORM = "web_form", _("Web form")
    PHONE = "phone", _("Phone")
    PERSONAL_LINK = "personal_link", _("Personal consent link")


class RequestStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    IDENTITY = "identity", _("Identity to verify")
    IN_PROGRESS = "in_progress", _("In progress")
    EXTENDED = "extended", _("Extended")
    ANSWERED = "answered", _("Answered")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn by the person")


# A request in one of these is finished: the clock has stopped for good.
CLOSED = frozenset({RequestStatus.ANSWERED, RequestStatus.REJECTED, RequestStatus.WITHDRAWN})


class VerificationMethod(models.TextChoices):
    """GDPR Art. 12(6): how the organisation became sure who is asking."""

    PHONE_MATCH = "phone_match", _("Matched the phone number the person wrote from")
    EMAIL_MATCH = "email_match", _("Matched the e-mail address on record")
    PERSONAL_LINK = "personal_link", _("Asked through their personal consent link")
    ONE_TIME_CODE = "one_time_code", _("One-time code sent through their personal link")
    ID_IN_PERSON = "id_in_person", _("Identity document seen in person")
    OTHER = "other", _("Other (described in the note)")


# Channels where the organisation already knows who is speaking: no separate verification step.
VERIFIED_CHANNELS = frozenset({RequestChannel.PERSONAL_LINK})

# The one other case where the way the request came is the verification (rights_requests.services
# request_log): a WhatsApp message from the very number on record. WhatsApp ties an account to its
# number, which a caller ID or an e-mail's From line is not.
PHONE_MATCH_CHANNELS = frozenset({RequestChannel.WHATSAPP})

# Rights whose effect on the person's data must be carried out (rights_requests.fulfilment sets
# RightsRequest.carried_out_at) before the request is answered; a refusal, or for erasure an
# exception of Art. 17(3), closes it without. Every right has an effect: access and portability
# a copy of the data, the others a change to it.
CARRIED_OUT_FIRST = frozenset(Right)


class ErasureException(models.TextChoices):
    """GDPR Art. 17(3): when erasure does not apply, in whole or in part."""

    EXPRESSION = "expression", _("Freedom of expression and information (Art. 17(3)(a))")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation or public task (Art. 17(3)(b))")
    PUBLIC_HEALTH = "public_health", _("Public health (Art. 17(3)(c))")
    ARCHIVING = "archiving", _("Archiving, research or statistics (Art. 17(3)(d))")
    LEGAL_CLAIMS = (
        "legal_claims",
        _("Establishment, exercise or defence of legal claims (Art. 17(3)(e))"),
    )


class LetterKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement of receipt")
    IDENTITY = "identity", _("Request for identification (Art. 12(6))")
    EXTENSION = "extension", _("Notice of extension (Art. 12(3))")
    ANSWER = "answer", _("Answer")
    REJECTION = "rejection", _("Refusal with reasons (Art. 12(4))")


class SentVia(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WHATSAPP = "whatsapp", _("WhatsApp (downloaded and sent)")
    POST = "post", _("Post")
    IN_PERSON = "in_person", _("Handed over in person")
    PERSONAL_LINK = "personal_link", _("Shown on the personal consent link")


class ReminderStage(models.TextChoices):
    WEEK = "7d", _("Due in 7 days")
    TWO_DAYS = "2d", _("Due in 2 days")
    TODAY = "today", _("Due today")
    OVERDUE = "overdue", _("Overdue")
