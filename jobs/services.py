"""The job machinery behind every long piece of work (ARCHITECTURE "Runtime").

A Celery task never trusts its delivery: it *claims* the job row with a conditional update that
must change exactly one row. A queued job is claimed at once; a running job only when its
heartbeat is older than EXPORT_JOB_STALE_SECONDS (its worker died). Every progress report and the
final write are fenced on the claim, so a worker that lost its claim stops instead of writing
over another's result. Results are written to a temporary file and moved into place atomically:
a second run rewrites the same result, never half of one.
"""

import hashlib
import logging
import os
import socket
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import AuditEntry, Organisation, User
from accounts.services import audit_record

from . import registry
from .models import Job

log = logging.getLogger(__name__)


# Transient failures (database, disk) are retried with backoff, by Celery and the thread runner.
MAX_RETRIES = 8


def retry_countdown(retries: int) -> int:
    """Seconds before trying a transiently failed job again: 5, 10, 20, ... up to 5 minutes."""
    return min(300, 5 * 2**retries)


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
) -> Job:
    """Record the request. Nothing runs it yet: jobs.tasks.job_enqueue records and enqueues."""
    registry.get(kind)  # an unknown kind is a programming error: fail before any row exists
    return Job.objects.create(
        organisation=organisation,
        kind=kind,
        parameters=parameters,
        requested_by=requested_by,
        description=description[:300],
    )


def job_claim(*, job_id: int, worker: str) -> Job | None:
    now = timezone.now()
    claimable = Q(status=Job.Status.QUEUED) | Q(
        status=Job.Status.RUNNING, heartbeat_at__lt=now - stale_after()
    )
    claimed = (
        Job.objects.filter(pk=job_id)
        .filter(claimable)
        .update(
            status=Job.Status.RUNNING,
            claimed_by=worker,
            heartbeat_at=now,
            started_at=Coalesce(F("started_at"), now),
            attempts=F("attempts") + 1,
            error="",
        )
    )
    return Job.objects.get(pk=job_id) if claimed == 1 else None


def job_progress(*, job: Job, worker: str, done: int, total: int | None = None) -> None:
    fields = {"progress_done": done, "heartbeat_at": timezone.now()}
    if total is not None:
        fields["progress_total"] = total
    updated = Job.objects.filter(pk=job.pk, claimed_by=worker, status=Job.Status.RUNNING).update(
        **fields
    )
    if updated != 1:
        raise ClaimLost(f"job {job.pk} is no longer ours")


def result_path(job: Job, filename: str) -> Path:
    path = Path(settings.MEDIA_ROOT) / "exports" / str(job.organisation_id) / str(job.pk)
    path.mkdir(parents=True, exist_ok=True)
    return path / filename


def temporary_result(job: Job) -> Path:
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


def job_finish(*, job: Job, worker: str, temp: Path | None, filename: str) -> Job:
    """Move the result into place and mark the job done, only if we still hold the claim."""
    values = {
        "status": Job.Status.DONE,
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
        updated = Job.objects.filter(
            pk=job.pk, claimed_by=worker, status=Job.Status.RUNNING
        ).update(**values)
        if updated != 1:
            if temp is not None:
                temp.unlink(missing_ok=True)
            raise ClaimLost(f"job {job.pk} is no longer ours")
        if temp is not None:
            os.replace(temp, final)
        job.refresh_from_db()
        if job.has_file:
            audit_record(
                job,
                AuditEntry.Action.EXPORTED,
                user=job.requested_by,
                object_repr=f"{job.kind_label}: {job.description}"[:200],
                details=[{"field": "sha256", "old": "", "new": job.result_sha256}],
            )
    return job


def job_fail(*, job_id: int, worker: str, error: str) -> None:
    Job.objects.filter(pk=job_id, claimed_by=worker).update(
        status=Job.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


# What one delivery of a job came to (jobs.tasks.run_job returns these words).
NOTHING_TO_DO = "nothing to do"
DONE = "done"
FAILED = "failed"
LOST = "lost"
BUSY = "busy"  # another worker holds a fresh claim: try again once it could have gone stale
TRANSIENT = "transient"  # a database or disk hiccup: the job is queued again, try again later

TRANSIENT_ERRORS = (OperationalError, InterfaceError, OSError)


def job_deliver(*, job_id: int, worker: str) -> tuple[str, Exception | None]:
    """One delivery of a job, the same for a Celery worker and the in-process background runner:
    claim it, run its kind's runner, and say how it went. Only a delivery that holds the claim
    writes; a runner's error marks the job failed with the reason, a transient one hands the job
    back (queued) for the caller to retry."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.is_finished:
        return NOTHING_TO_DO, None  # a duplicate delivery of a finished job is harmless
    claimed = job_claim(job_id=job_id, worker=worker)
    if claimed is None:
        return BUSY, None
    try:
        registry.get(claimed.kind).runner(job=claimed, worker=worker)
    except ClaimLost:
        log.warning("job %s was taken over by another worker", job_id)
        return LOST, None
    except TRANSIENT_ERRORS as error:
        Job.objects.filter(pk=job_id, claimed_by=worker).update(
            status=Job.Status.QUEUED, error=str(error)[:2000]
        )
        return TRANSIENT, error
    except Exception as error:
        log.exception("job %s failed", job_id)
        job_fail(job_id=job_id, worker=worker, error=f"{type(error).__name__}: {error}")
        return FAILED, error
    return DONE, None


def job_run_here(*, job: Job, worker: str, on_progress=None) -> Job:
    """Claim and run a job in this process (management commands, the background runner):
    the same claim, runner and atomic result as a Celery worker."""
    claimed = job_claim(job_id=job.pk, worker=worker)
    if claimed is None:
        raise ClaimLost(f"job {job.pk} is held by another worker")
    try:
        registry.get(claimed.kind).runner(job=claimed, worker=worker, on_progress=on_progress)
    except ClaimLost:
        raise
    except Exception as error:
        job_fail(job_id=job.pk, worker=worker, error=f"{type(error).__name__}: {error}")
        raise
    claimed.refresh_from_db()
    return claimed


def jobs_expire_files(*, now=None) -> int:
    """Delete result files past their retention; the job rows stay, marked expired."""
    now = now or timezone.now()
    expired = 0
    for job in Job.objects.filter(expires_at__lt=now, result_expired=False, status=Job.Status.DONE):
        if job.result:
            job.result.storage.delete(job.result.name)
        Job.objects.filter(pk=job.pk).update(result_expired=True, result="")
        expired += 1
    return expired
