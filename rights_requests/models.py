"""The rights-request register: every access, rectification, erasure, restriction, portability,
objection or withdrawal request, how it was answered and whether on time (GDPR Art. 12-21).

Invariants:
- The due date is computed, never typed (ARCHITECTURE invariant 8, rights_requests.deadlines):
  ``due_on`` from the day of receipt, ``extended_due_on`` only with a reason and a notice to the
  person sent within the first month (GDPR Art. 12(3)).
- Nothing is lost: requests, their attachments and letters are never deleted; history
  (simple-history) shows the register as it stood on any date (invariant 6).
- Personal data of the requester (name, phone, e-mail, what was asked, attachments) is purgeable
  with the person's erasure, leaving the request's dates and outcome (the proof it was answered).
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from accounts.history import AuditedHistoricalModel
from accounts.models import Organisation
from consents.models import DataSubject
from consents.uploads import EXTENSIONS

from . import deadlines
from .choices import (
    CLOSED,
    ErasureException,
    LetterKind,
    ReminderStage,
    RequestChannel,
    RequestStatus,
    Right,
    SentVia,
    VerificationMethod,
)


class RightsRequestQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status__in=CLOSED)

    def closed(self):
        return self.filter(status__in=CLOSED)

    def running(self):
        """Open requests whose clock runs: a stopped clock (Art. 12(6) information awaited)
        moves the due date by every day it stands still, so it is neither overdue nor due."""
        return self.open().filter(clock_stopped_on__isnull=True)

    def overdue(self, today):
        return self.running().filter(current_due_on__lt=today)

    def due_between(self, start, end):
        return self.running().filter(current_due_on__gte=start, current_due_on__lte=end)

    def decided(self):
        """Answered or refused: the outcomes a deadline applies to (a request the person
        withdrew was never owed an answer)."""
        return self.filter(status__in=[RequestStatus.ANSWERED, RequestStatus.REJECTED])

    def answered_late(self):
        return self.decided().filter(closed_on__gt=models.F("current_due_on"))

    def answered_on_time(self):
        return self.decided().filter(closed_on__lte=models.F("current_due_on"))


class RightsRequest(models.Model):
    Right = Right
    Channel = RequestChannel
    Status = RequestStatus
    Verification = VerificationMethod
    Exception = ErasureException

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="rights_requests"
    )
    subject = models.ForeignKey(
        DataSubject,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rights_requests",
        verbose_name=_("person"),
    )
    # The identity as given, kept even when the person is matched: what the request said.
    requester_name = models.CharField(_("name given"), max_length=200, blank=True)
    requester_phone = PhoneNumberField(_("phone given"), blank=True)
    requester_email = models.EmailField(_("e-mail given"), blank=True)
    language = models.CharField(
        _("language of the answer"), max_length=8, choices=settings.LANGUAGES, default="es"
    )
    right = models.CharField(_("right"), max_length=20, choices=Right.choices)
    channel = models.CharField(_("channel"), max_length=20, choices=RequestChannel.choices)
    received_on = models.DateField(
        _("received on"), help_text=_("The day the request reached the organisation.")
    )
    details = models.TextField(_("what was asked"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.RECEIVED
    )
    logged_at = models.DateTimeField(_("logged"), default=timezone.now)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("logged by"),
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rights_requests_handled",
        verbose_name=_("handled by"),
    )

    # Identity (GDPR Art. 12(6)).
    identity_verified_at = models.DateTimeField(_("identity verified"), null=True, blank=True)
    identity_method = models.CharField(
        _("verified by way of"), max_length=20, choices=VerificationMethod.choices, blank=True
    )
    identity_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    identity_note = models.TextField(_("verification note"), blank=True)

    # The clock (GDPR Art. 12(3)); computed by rights_requests.deadlines, never typed.
    due_on = models.DateField(_("due"))
    days_stopped = models.PositiveIntegerField(
        _("days the clock stood still"),
        default=0,
        help_text=_("Days while information the law lets the organisation ask for was awaited."),
    )
    clock_stopped_on = models.DateField(_("clock stopped on"), null=True, blank=True)
    clock_stop_reason = models.TextField(_("why the clock stopped"), blank=True)
    extension_months = models.PositiveSmallIntegerField(_("extended by (months)"), default=0)
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    extension_notified_on = models.DateField(
        _("person told of the extension on"), null=True, blank=True
    )
    current_due_on = models.DateField(_("due now"), db_index=True)

    # What was done to the person's data for this request (rights_requests.fulfilment): set once,
    # with a summary a letter and the AEPD can read (e.g. the person blocked, events withdrawn).
    carried_out_at = models.DateTimeField(_("carried out"), null=True, blank=True)
    carried_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("carried out by"),
    )
    carried_out = models.JSONField(_("what was done"), default=dict, blank=True)

    # The outcome.
    closed_on = models.DateField(_("answered on"), null=True, blank=True)
    answer = models.TextField(_("answer"), blank=True)
    rejection_reason = models.TextField(_("reason for refusing"), blank=True)
    erasure_exception = models.CharField(
        _("Art. 17(3) exception applied"),
        max_length=20,
        choices=ErasureException.choices,
        blank=True,
    )
    purged_at = models.DateTimeField(_("personal data purged"), null=True, blank=True)

    history = HistoricalRecords(bases=[AuditedHistoricalModel])
    objects = RightsRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("rights request")
        verbose_name_plural = _("rights requests")
        ordering = ["-received_on", "-pk"]
        indexes = [
            models.Index(
                fields=["organisation", "status", "current_due_on"], name="request_org_due"
            ),
            models.Index(fields=["organisation", "-received_on"], name="request_org_received"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(extension_months__lte=deadlines.MAX_EXTENSION_MONTHS),
                name="request_extension_at_most_two_months",
            ),
            models.CheckConstraint(
                condition=models.Q(extension_months=0)
                | models.Q(extension_notified_on__isnull=False),
                name="request_extension_needs_a_notice",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.get_right_display()}"

    @property
    def reference(self) -> str:
        """What the person and the AEPD quote: year of receipt and number."""
        return f"R-{self.received_on:%Y}-{self.pk or 0:05d}"

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED

    @property
    def region(self) -> str:
        return self.organisation.holiday_region

    def compute_due(self) -> tuple:
        """(due_on, current_due_on) from the day of receipt, the stopped days and the extension."""
        start = deadlines.shifted(self.received_on, self.days_stopped)
        first = deadlines.due_on(start, region=self.region)
        if not self.extension_months:
            return first, first
        extended = deadlines.extended_due_on(
            start, extra_months=self.extension_months, region=self.region
        )
        return first, extended

    def days_left(self, today=None) -> int:
        return deadlines.days_left(self.current_due_on, today or timezone.localdate())

    @property
    def answered_on_time(self) -> bool | None:
        if self.closed_on is None:
            return None
        return self.closed_on <= self.current_due_on

    @property
    def display_name(self) -> str:
        if self.subject_id and self.subject.full_name:
            return self.subject.full_name
        return self.requester_name


def attachment_upload_to(instance, filename):
    # Random name, no trace of the original: the path reveals nothing and cannot be guessed.
    return f"requests/{instance.organisation_id}/{secrets.token_hex(16)}{instance.extension}"


class RequestAttachment(models.Model):
    """A file that came with the request (a signed letter, an ID copy), checked like a proof."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(RightsRequest, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=attachment_upload_to, max_length=200)
    original_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=50)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("request attachment")
        verbose_name_plural = _("request attachments")

    def __str__(self):
        return self.original_name or self.file.name

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.content_type, "")


def letter_upload_to(instance, filename):
    return f"letters/{instance.organisation_id}/{secrets.token_hex(16)}.pdf"


class RequestLetter(models.Model):
    """A message to the person about their request (acknowledgement, identification, extension
    notice, answer, refusal): a signed PDF in their language, and when and how it was sent."""

    Kind = LetterKind
    Via = SentVia

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(RightsRequest, on_delete=models.PROTECT, related_name="letters")
    kind = models.CharField(_("kind"), max_length=20, choices=LetterKind.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    body = models.TextField(_("text"))
    file = models.FileField(upload_to=letter_upload_to, max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("written"), default=timezone.now)
    # Empty for a letter the register writes by itself (none yet) or whose author left.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    sent_via = models.CharField(_("sent by"), max_length=20, choices=SentVia.choices, blank=True)
    sent_to = models.CharField(_("sent to"), max_length=200, blank=True)

    history = HistoricalRecords(bases=[AuditedHistoricalModel])

    class Meta:
        verbose_name = _("letter")
        verbose_name_plural = _("letters")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.request.reference} {self.get_kind_display()}"


class RequestReminder(models.Model):
    """A reminder sent about a request, once per stage: beat may run twice, people get one."""

    Stage = ReminderStage

    request = models.ForeignKey(RightsRequest, on_delete=models.PROTECT, related_name="reminders")
    stage = models.CharField(_("stage"), max_length=10, choices=ReminderStage.choices)
    due_on = models.DateField(_("due date reminded of"))
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    recipients = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "stage", "due_on"], name="one_reminder_per_stage_and_due_date"
            ),
        ]

    def __str__(self):
        return f"{self.request.reference} {self.stage}"


class IdentityCode(models.Model):
    """A one-time code that shows the person asking holds their personal consent link (GDPR
    Art. 12(6), rights_requests.services.request_identity_code_issue).

    The person opens their personal link (sent to the number on record), asks for a code for
    their request and reads it to staff, who type it in to verify the request. Only a keyed hash
    is kept (HMAC with the site's secret key: six digits are too few for a plain hash), it lasts
    a short while, and a few wrong tries void it.
    """

    request = models.ForeignKey(
        RightsRequest, on_delete=models.PROTECT, related_name="identity_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("identity code")
        verbose_name_plural = _("identity codes")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.request.reference} code {self.pk}"

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.voided_at is None and self.expires_at > timezone.now()
