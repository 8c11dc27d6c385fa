"""Evidence: export jobs and the organisation's signing certificate."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation


class SigningCertificate(models.Model):
    """The organisation's certificate for signing evidence PDFs (PAdES).

    The PKCS#12 bundle and its password are stored encrypted with settings.EVIDENCE_ENCRYPTION_KEY
    (evidence/signing.py); only the public certificate is kept in clear, for display and packs.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="signing_certificates"
    )
    subject_name = models.CharField(_("signer"), max_length=300)
    issuer_name = models.CharField(_("issuer"), max_length=300)
    serial_number = models.CharField(max_length=80)
    fingerprint_sha256 = models.CharField(_("SHA-256 fingerprint"), max_length=64)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    self_signed = models.BooleanField(_("self-signed (for trials)"), default=False)
    certificate_pem = models.TextField(help_text="Signer certificate and chain, PEM.")
    pkcs12_encrypted = models.BinaryField()
    password_encrypted = models.BinaryField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("signing certificate")
        verbose_name_plural = _("signing certificates")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(active=True),
                name="one_active_signing_certificate_per_org",
            )
        ]

    def __str__(self):
        return f"{self.subject_name} ({self.fingerprint_sha256[:16]})"


def export_upload_to(instance, filename):
    return f"exports/{instance.organisation_id}/{instance.pk}/{filename}"


class ExportJob(models.Model):
    """One piece of long work (an evidence export, an import), run by a Celery task.

    The page polls status and progress. A task claims the job with a conditional update, so it is
    never run twice in parallel; a worker that dies mid-job leaves it to be claimed again.
    """

    class Kind(models.TextChoices):
        CERTIFICATE = "certificate", _("Proof-of-consent certificate")
        PACK = "pack", _("Evidence pack")
        IMPORT = "import", _("Consent import")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="export_jobs"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    description = models.CharField(_("what"), max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    result = models.FileField(upload_to=export_upload_to, max_length=300, blank=True)
    result_name = models.CharField(max_length=200, blank=True)
    result_sha256 = models.CharField(max_length=64, blank=True)
    result_size = models.PositiveBigIntegerField(null=True, blank=True)
    result_expired = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    outcome = models.JSONField(
        default=dict, blank=True, help_text="What a job that writes no file did (an import)."
    )
    attempts = models.PositiveIntegerField(default=0)
    claimed_by = models.CharField(max_length=120, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("file kept until"), null=True, blank=True)

    class Meta:
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organisation", "-created_at"], name="job_org_created")]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, round(100 * self.progress_done / self.progress_total))

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
