"""The record of processing activities (GDPR Art. 30).

``ProcessingActivity`` is one entry of the controller's record (Art. 30(1)(a)-(g)); its purposes
are the organisation's consent-register Purposes, each with its own legal basis (Art. 6(1)) and,
for special categories, its Art. 9(2) condition, through ``ActivityPurpose``. Recipients and
transfers are rows of their own. ``ProcessorRecord`` is the record an organisation keeps of what
it does as a processor for others (Art. 30(2)).

Every model here keeps its history (ARCHITECTURE invariant 6), the rows of the lists included:
the register "as it stood on" a date is rebuilt from the history tables (processing.register),
and each change shows who made it, when and what it changed. Activities are retired, never
deleted.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.history import AuditedHistoricalModel
from accounts.models import Organisation
from consents.choices import LegalBasis
from consents.models import Purpose

from .choices import (
    SPECIAL_CATEGORIES,
    Art9Condition,
    DataCategory,
    RecipientKind,
    Safeguard,
    SecurityMeasure,
    Status,
    SubjectCategory,
    labels,
)


def lines(text: str) -> list[str]:
    """The non-empty lines of a free-text list field."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ProcessingActivityQuerySet(models.QuerySet):
    def in_force(self):
        """Draft and active activities: the record as it is kept, retired ones aside."""
        return self.exclude(status=Status.RETIRED)


class ProcessingActivity(models.Model):
    """One processing activity of the controller's record (GDPR Art. 30(1)).

    The controller is the organisation (its name and contact details, as they stood, come from
    its own history); ``dpo_name``/``dpo_email`` left empty mean the organisation's DPO.
    """

    Status = Status

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="processing_activities"
    )
    reference = models.CharField(
        _("reference"), max_length=20, blank=True, help_text=_("Your own number, e.g. T-01.")
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(
        _("description of the purposes"),
        blank=True,
        help_text=_("What is done with the data and why, in a few lines."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default="draft")
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    template = models.CharField(_("made from template"), max_length=40, blank=True)
    # (a) controller, joint controllers, representative, DPO.
    joint_controllers = models.TextField(
        _("joint controllers"),
        blank=True,
        help_text=_("One per line: name and contact details (GDPR Art. 26)."),
    )
    representative = models.TextField(
        _("representative"),
        blank=True,
        help_text=_("Name and contact of the representative in the EU, if any (GDPR Art. 27)."),
    )
    dpo_name = models.CharField(
        _("DPO name"),
        max_length=200,
        blank=True,
        help_text=_("Leave empty for the organisation's DPO."),
    )
    dpo_email = models.EmailField(_("DPO e-mail"), blank=True)
    # (b) purposes: through ActivityPurpose.
    purposes = models.ManyToManyField(
        Purpose, through="ActivityPurpose", related_name="activities", verbose_name=_("purposes")
    )
    # (c) categories of data subjects and of personal data.
    subject_categories = models.JSONField(
        _("categories of data subjects"), default=list, blank=True
    )
    subject_categories_other = models.TextField(
        _("other categories of data subjects"), blank=True, help_text=_("One per line.")
    )
    data_categories = models.JSONField(_("categories of personal data"), default=list, blank=True)
    data_categories_other = models.TextField(
        _("other categories of personal data"), blank=True, help_text=_("One per line.")
    )
    special_categories_other = models.TextField(
        _("other special categories"),
        blank=True,
        help_text=_("Special categories (GDPR Art. 9(1)) not in the list, one per line."),
    )
    # (f) retention.
    retention = models.TextField(
        _("time limits for erasure"),
        blank=True,
        help_text=_("How long each category is kept, e.g. 24 months after the last appointment."),
    )
    # (g) security measures.
    security_measures = models.JSONField(_("security measures"), default=list, blank=True)
    security_measures_other = models.TextField(
        _("other security measures"), blank=True, help_text=_("One per line.")
    )
    systems = models.TextField(
        _("systems used"),
        blank=True,
        help_text=_("One per line, e.g. WhatsApp Business app on the clinic's phone."),
    )
    dpia_required = models.BooleanField(
        _("needs a data protection impact assessment"),
        default=False,
        help_text=_("GDPR Art. 35; the AEPD's lists say when one is required."),
    )
    dpia_done_on = models.DateField(_("DPIA done on"), null=True, blank=True)
    dpia_reference = models.CharField(
        _("DPIA document"),
        max_length=300,
        blank=True,
        help_text=_("A link or the reference of the document."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(bases=[AuditedHistoricalModel])
    objects = ProcessingActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("processing activity")
        verbose_name_plural = _("processing activities")
        ordering = ["reference", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="activity_status_is_known"
            ),
            models.UniqueConstraint(
                fields=["organisation", "reference"],
                condition=~models.Q(reference=""),
                name="activity_reference_per_org",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.name}".strip()

    def subject_category_labels(self) -> list[str]:
        return labels(SubjectCategory, self.subject_categories) + lines(
            self.subject_categories_other
        )

    def data_category_labels(self) -> list[str]:
        """Every category of personal data, the special ones included."""
        return labels(DataCategory, self.data_categories) + lines(self.data_categories_other)

    def special_category_labels(self) -> list[str]:
        special = [code for code in self.data_categories if code in SPECIAL_CATEGORIES]
        return labels(DataCategory, special) + lines(self.special_categories_other)

    @property
    def has_special_categories(self) -> bool:
        return bool(self.special_category_labels())

    def security_measure_labels(self) -> list[str]:
        return labels(SecurityMeasure, self.security_measures) + lines(self.security_measures_other)

    def system_lines(self) -> list[str]:
        return lines(self.systems)

    def joint_controller_lines(self) -> list[str]:
        return lines(self.joint_controllers)

    @property
    def is_retired(self) -> bool:
        return self.status == Status.RETIRED


class ActivityPurpose(models.Model):
    """Art. 30(1)(b): one purpose of an activity, with its legal basis and Art. 9(2) condition.

    The purpose is the consent register's own, so a consent purpose is always found in the
    record (processing.checks reports those that are not)."""

    activity = models.ForeignKey(
        ProcessingActivity, on_delete=models.CASCADE, related_name="purpose_lines"
    )
    purpose = models.ForeignKey(
        Purpose, on_delete=models.PROTECT, related_name="activity_lines", verbose_name=_("purpose")
    )
    legal_basis = models.CharField(_("legal basis"), max_length=24, choices=LegalBasis.choices)
    art9_condition = models.CharField(
        _("Art. 9(2) condition"),
        max_length=1,
        choices=Art9Condition.choices,
        blank=True,
        help_text=_("Needed when the activity processes special categories."),
    )
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    history = HistoricalRecords(bases=[AuditedHistoricalModel])

    class Meta:
        verbose_name = _("purpose of an activity")
        verbose_name_plural = _("purposes of activities")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "purpose"], name="activity_purpose_once"),
            models.CheckConstraint(
                condition=models.Q(legal_basis__in=LegalBasis.values),
                name="activity_purpose_basis_is_known",
            ),
        ]

    def __str__(self):
        return f"{self.activity}: {self.purpose} ({self.legal_basis})"

    @property
    def organisation_id(self):
        # The audit trail files each change under its organisation (accounts.audit).
        return self.activity.organisation_id


class Recipient(models.Model):
    """Art. 30(1)(d): a recipient of the data, processors such as WhatsApp included."""

    activity = models.ForeignKey(
        ProcessingActivity, on_delete=models.CASCADE, related_name="recipients"
    )
    name = models.CharField(_("recipient"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=RecipientKind.choices)
    country = models.CharField(_("country"), max_length=100, blank=True)
    third_country = models.BooleanField(
        _("outside the EEA"),
        default=False,
        help_text=_("The recipient, or where it processes the data, is in a third country."),
    )
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    history = HistoricalRecords(bases=[AuditedHistoricalModel])

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=RecipientKind.values), name="recipient_kind_is_known"
            ),
        ]

    def __str__(self):
        return f"{self.activity}: {self.name}"

    @property
    def organisation_id(self):
        return self.activity.organisation_id


class ProcessorRecord(models.Model):
    """The record of processing the organisation carries out as a processor (GDPR Art. 30(2)):
    an outside DPO's agency, a clinic's IT provider. The controllers served are its rows."""

    Status = Status

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="processor_records"
    )
    name = models.CharField(
        _("name"), max_length=200, help_text=_("The service, e.g. IT support for clinics.")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default="draft")
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    representative = models.TextField(
        _("representative"),
        blank=True,
        help_text=_("Name and contact of the representative in the EU, if any (GDPR Art. 27)."),
    )
    dpo_name = models.CharField(
        _("DPO name"),
        max_length=200,
        blank=True,
        help_text=_("Leave empty for the organisation's DPO."),
    )
    dpo_email = models.EmailField(_("DPO e-mail"), blank=True)
    sub_processors = models.TextField(
        _("sub-processors"), blank=True, help_text=_("One per line, with their country.")
    )
    security_measures = models.JSONField(_("security measures"), default=list, blank=True)
    security_measures_other = models.TextField(
        _("other security measures"), blank=True, help_text=_("One per line.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(bases=[AuditedHistoricalModel])

    class Meta:
        verbose_name = _("processor record")
        verbose_name_plural = _("processor records")
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="processor_status_is_known"
            ),
        ]

    def __str__(self):
        return self.name

    def security_measure_labels(self) -> list[str]:
        return labels(SecurityMeasure, self.security_measures) + lines(self.security_measures_other)

    def sub_processor_lines(self) -> list[str]:
        return lines(self.sub_processors)

    @property
    def is_retired(self) -> bool:
        return self.status == Status.RETIRED


class ServedController(models.Model):
    """Art. 30(2)(a)-(b): a controller the organisation processes for, and what it does."""

    record = models.ForeignKey(
        ProcessorRecord, on_delete=models.CASCADE, related_name="controllers"
    )
    name = models.CharField(_("controller"), max_length=200)
    contact = models.CharField(_("contact details"), max_length=300, blank=True)
    representative = models.CharField(_("its representative or DPO"), max_length=300, blank=True)
    processing = models.TextField(
        _("categories of processing"),
        help_text=_("What is done for this controller, e.g. hosting, backups, remote support."),
    )

    history = HistoricalRecords(bases=[AuditedHistoricalModel])

    class Meta:
        verbose_name = _("controller served")
        verbose_name_plural = _("controllers served")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.record}: {self.name}"

    @property
    def organisation_id(self):
        return self.record.organisation_id


class Transfer(models.Model):
    """Art. 30(1)(e) and 30(2)(c): a transfer to a third country and the safeguard it rests on,
    with its document. Belongs to an activity or to a processor record, never both."""

    activity = models.ForeignKey(
        ProcessingActivity,
        on_delete=models.CASCADE,
        related_name="transfers",
        null=True,
        blank=True,
    )
    record = models.ForeignKey(
        ProcessorRecord, on_delete=models.CASCADE, related_name="transfers", null=True, blank=True
    )
    country = models.CharField(_("third country"), max_length=100)
    recipient = models.CharField(_("recipient"), max_length=200, blank=True)
    safeguard = models.CharField(
        _("safeguard"), max_length=20, choices=Safeguard.choices, blank=True
    )
    document = models.CharField(
        _("document"),
        max_length=300,
        blank=True,
        help_text=_("A link or the reference of the decision, the clauses or the contract."),
    )
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    history = HistoricalRecords(bases=[AuditedHistoricalModel])

    class Meta:
        verbose_name = _("international transfer")
        verbose_name_plural = _("international transfers")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(activity__isnull=False, record__isnull=True)
                    | models.Q(activity__isnull=True, record__isnull=False)
                ),
                name="transfer_has_one_owner",
            ),
            models.CheckConstraint(
                condition=models.Q(safeguard__in=[*Safeguard.values, ""]),
                name="transfer_safeguard_is_known",
            ),
        ]

    def __str__(self):
        owner = self.activity if self.activity_id else self.record
        return f"{owner}: {self.country}"

    @property
    def organisation_id(self):
        owner = self.activity if self.activity_id else self.record
        return owner.organisation_id
