"""The job machinery behind every long export (ARCHITECTURE "Runtime").

A Celery task never trusts its delivery: it *claims* the job row with a conditional update that
must change exactly one row. A queued job is claimed at once; a running job only when its
heartbeat is older than EXPORT_JOB_STALE_SECONDS (its worker died). Every progress report and the
final write are fenced on the claim, so a worker that lost its claim stops instead of writing
over another's result. Results are written to a temporary file and moved into place atomically:
a second run rewrites the same result, never half of one.
"""

import hashlib
import os
import socket
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.services import audit_record

from .models import ExportJob


class ClaimLost(Exception):
    """Another worker took over this job (ours was presumed dead)."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def stale_after() -> timedelta:
    return timedelta(seconds=settings.EXPORT_JOB_STALE_SECONDS)


def job_create(
    *,
    organisation: Organisation,
    kind: str,
    parameters: dict,
    requested_by: User | None,
    description: str = "",
) -> ExportJob:
    """Record the request, then enqueue its task once the row is committed."""
    from .tasks import run_job

    job = ExportJob.objects.create(
        organisation=organisation,
        kind=kind,
        parameters=parameters,
        requested_by=requested_by,
        description=description[:300],
    )
    transaction.on_commit(lambda: run_job.delay(job.pk))
    return job


def job_claim(*, job_id: int, worker: str) -> ExportJob | None:
    now = timezone.now()
    claimable = Q(status=ExportJob.Status.QUEUED) | Q(
        status=ExportJob.Status.RUNNING, heartbeat_at__lt=now - stale_after()
    )
    claimed = (
        ExportJob.objects.filter(pk=job_id)
        .filter(claimable)
        .update(
            status=ExportJob.Status.RUNNING,
            claimed_by=worker,
            heartbeat_at=now,
            started_at=Coalesce(F("started_at"), now),
            attempts=F("attempts") + 1,
            error="",
        )
    )
    return ExportJob.objects.get(pk=job_id) if claimed == 1 else None


def job_progress(*, job: ExportJob, worker: str, done: int, total: int | None = None) -> None:
    fields = {"progress_done": done, "heartbeat_at": timezone.now()}
    if total is not None:
        fields["progress_total"] = total
    updated = ExportJob.objects.filter(
        pk=job.pk, claimed_by=worker, status=ExportJob.Status.RUNNING
    ).update(**fields)
    if updated != 1:
        raise ClaimLost(f"job {job.pk} is no longer ours")


def result_path(job: ExportJob, filename: str) -> Path:
    path = Path(settings.MEDIA_ROOT) / "exports" / str(job.organisation_id) / str(job.pk)
    path.mkdir(parents=True, exist_ok=True)
    return path / filename


def temporary_result(job: ExportJob) -> Path:
    directory = Path(settings.MEDIA_ROOT) / "exports" / "tmp"
    directory.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f"job{job.pk}-", dir=directory)
    os.close(handle)
    return Path(name)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def job_finish(*, job: ExportJob, worker: str, temp: Path | None, filename: str) -> ExportJob:
    """Move the result into place and mark the job done, only if we still hold the claim."""
    values = {
        "status": ExportJob.Status.DONE,
        "finished_at": timezone.now(),
        "heartbeat_at": timezone.now(),
    }
    if temp is not None:
        final = result_path(job, filename)
        values.update(
            result_sha256=sha256_file(temp),
            result_size=temp.stat().st_size,
            result_name=filename,
            result=str(final.relative_to(settings.MEDIA_ROOT)),
            expires_at=timezone.now() + timedelta(days=settings.EXPORT_RETENTION_DAYS),
            progress_done=F("progress_total"),
        )
    with transaction.atomic():
        updated = ExportJob.objects.filter(
            pk=job.pk, claimed_by=worker, status=ExportJob.Status.RUNNING
        ).update(**values)
        if updated != 1:
            if temp is not None:
                temp.unlink(missing_ok=True)
            raise ClaimLost(f"job {job.pk} is no longer ours")
        if temp is not None:
            os.replace(temp, final)
        job.refresh_from_db()
        if job.kind != ExportJob.Kind.IMPORT:
            audit_record(
                organisation=job.organisation,
                user=job.requested_by,
                register="exportjob",
                action="exported",
                object_id=job.pk,
                object_repr=f"{job.get_kind_display()}: {job.description}"[:200],
                details=[{"field": "sha256", "old": "", "new": job.result_sha256}],
            )
    return job


def job_fail(*, job_id: int, worker: str, error: str) -> None:
    ExportJob.objects.filter(pk=job_id, claimed_by=worker).update(
        status=ExportJob.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def jobs_expire_files(*, now=None) -> int:
    """Delete result files past their retention; the job rows stay, marked expired."""
    now = now or timezone.now()
    expired = 0
    for job in ExportJob.objects.filter(
        expires_at__lt=now, result_expired=False, status=ExportJob.Status.DONE
    ):
        if job.result:
            job.result.storage.delete(job.result.name)
        ExportJob.objects.filter(pk=job.pk).update(result_expired=True, result="")
        expired += 1
    return expired
