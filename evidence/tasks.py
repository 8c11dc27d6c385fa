"""Celery tasks: thin wrappers that claim a job and call its runner (evidence/runners.py)."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import jobs
from .models import ExportJob
from .runners import RUNNERS

log = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError, OSError)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=3600,
    soft_time_limit=3500,
    max_retries=8,
)
def run_job(self, job_id: int) -> str:
    job = ExportJob.objects.filter(pk=job_id).first()
    if job is None or job.is_finished:
        return "nothing to do"  # a duplicate delivery of a finished job is harmless
    worker = jobs.worker_name()
    claimed = jobs.job_claim(job_id=job_id, worker=worker)
    if claimed is None:
        # Another worker holds a fresh claim: come back once it has either finished or gone stale.
        raise self.retry(countdown=jobs.stale_after().total_seconds() + 1)
    try:
        RUNNERS[claimed.kind](job=claimed, worker=worker)
    except jobs.ClaimLost:
        log.warning("job %s was taken over by another worker", job_id)
        return "lost"
    except TRANSIENT as error:
        # Database or disk hiccup: hand the job back and retry with backoff.
        ExportJob.objects.filter(pk=job_id, claimed_by=worker).update(
            status=ExportJob.Status.QUEUED, error=str(error)[:2000]
        )
        raise self.retry(exc=error, countdown=min(300, 5 * 2**self.request.retries)) from error
    except Exception as error:
        log.exception("job %s failed", job_id)
        jobs.job_fail(job_id=job_id, worker=worker, error=f"{type(error).__name__}: {error}")
        return "failed"
    return "done"


@shared_task(acks_late=True, time_limit=600)
def expire_export_files() -> int:
    return jobs.jobs_expire_files()
