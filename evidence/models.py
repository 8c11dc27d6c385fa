"""Evidence: the organisation's signing certificate (its jobs live in the jobs app)."""

from django.conf import settings
from django.db import models
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
    """Named by migration 0001, which created the ExportJob table (now jobs.Job)."""
    return f"exports/{instance.organisation_id}/{instance.pk}/{filename}"
