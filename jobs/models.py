"""One piece of long work, run in the background behind a row people can watch (ARCHITECTURE
"Runtime"): evidence exports, consent imports and their checks, and what later apps add."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation

from . import registry


def result_upload_to(instance, filename):
    return f"exports/{instance.organisation_id}/{instance.pk}/{filename}"


class Job(models.Model):
    """The page polls status and progress. A task claims the job with a conditional update, so it
    is never run twice in parallel; a worker that dies mid-job leaves it to be claimed again.

    ``kind`` names a jobs.registry.JobKind, registered by the app that owns the work.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="jobs")
    kind = models.CharField(_("kind"), max_length=20)
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
    result = models.FileField(upload_to=result_upload_to, max_length=300, blank=True)
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
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organisation", "-created_at"], name="jobs_org_created")]

    def __str__(self):
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def kind_info(self) -> registry.JobKind | None:
        """The registered kind, or None for a kind whose app is no longer installed (the row
        stays readable on the Exports page)."""
        try:
            return registry.get(self.kind)
        except LookupError:
            return None

    @property
    def kind_label(self) -> str:
        kind = self.kind_info
        return str(kind.label) if kind else self.kind

    @property
    def summary(self) -> str:
        """What the job covers, said in the language of the page that shows it."""
        kind = self.kind_info
        return kind.describe(self) if kind and kind.describe else self.description

    @property
    def has_file(self) -> bool:
        kind = self.kind_info
        return kind.has_file if kind else bool(self.result)

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, round(100 * self.progress_done / self.progress_total))

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
