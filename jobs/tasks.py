"""Celery tasks: thin wrappers that claim a job and call the runner its kind registered.

The task names are those of the evidence app, where jobs began: a task queued before an upgrade
is still run after it.
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from accounts.models import Organisation, User

from . import registry
from . import services as jobs
from .models import Job

log = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError, OSError)


def job_enqueue(
    *,
    organisation: Organisation,
    kind: str,
    parameters: dict,
    requested_by: User | None,
    description: str = "",
) -> Job:
    """Record a job and run it once the row is committed: a worker never looks for a job that a
    rolled-back request never made."""
    job = jobs.job_create(
        organisation=organisation,
        kind=kind,
        parameters=parameters,
        requested_by=requested_by,
        description=description,
    )
    transaction.on_commit(lambda: run_job.delay(job.pk))
    return job


@shared_task(
    name="evidence.tasks.run_job",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=3600,
    soft_time_limit=3500,
    max_retries=8,
)
def run_job(self, job_id: int) -> str:
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.is_finished:
        return "nothing to do"  # a duplicate delivery of a finished job is harmless
    worker = jobs.worker_name()
    claimed = jobs.job_claim(job_id=job_id, worker=worker)
    if claimed is None:
        # Another worker holds a fresh claim: come back once it has either finished or gone stale.
        raise self.retry(countdown=jobs.stale_after().total_seconds() + 1)
    try:
        registry.get(claimed.kind).runner(job=claimed, worker=worker)
    except jobs.ClaimLost:
        log.warning("job %s was taken over by another worker", job_id)
        return "lost"
    except TRANSIENT as error:
        # Database or disk hiccup: hand the job back and retry with backoff.
        Job.objects.filter(pk=job_id, claimed_by=worker).update(
            status=Job.Status.QUEUED, error=str(error)[:2000]
        )
        raise self.retry(exc=error, countdown=min(300, 5 * 2**self.request.retries)) from error
    except Exception as error:
        log.exception("job %s failed", job_id)
        jobs.job_fail(job_id=job_id, worker=worker, error=f"{type(error).__name__}: {error}")
        return "failed"
    return "done"


@shared_task(name="evidence.tasks.expire_export_files", acks_late=True, time_limit=600)
def expire_job_files() -> int:
    return jobs.jobs_expire_files()
