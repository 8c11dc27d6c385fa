"""Celery tasks: thin wrappers that claim a job and call the runner its kind registered.

The task names are those of the evidence app, where jobs began: a task queued before an upgrade
is still run after it.
"""

from celery import shared_task
from django.conf import settings
from django.db import transaction

from . import background
from . import services as jobs
from .models import Job
from .services import MAX_RETRIES, retry_countdown


def job_enqueue(**fields) -> Job:
    """Record a job (``fields`` are what jobs.services.job_create takes) and run it once the row
    is committed: a worker never looks for a job that a rolled-back request never made.

    Who runs it is settings.JOBS_RUNNER: "celery" (a worker, through Redis), "thread" (this
    process's background runner, jobs.background: the page returns at once) or "inline" (here,
    before the page returns: the test suite)."""
    job = jobs.job_create(**fields)
    transaction.on_commit(lambda: job_dispatch(job_id=job.pk))
    return job


def job_dispatch(*, job_id: int) -> None:
    runner = settings.JOBS_RUNNER
    if runner == "thread":
        background.submit(job_id)
    elif runner == "inline":
        run_job.apply(args=[job_id])
    else:
        run_job.delay(job_id)


@shared_task(
    name="evidence.tasks.run_job",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=3600,
    soft_time_limit=3500,
    max_retries=MAX_RETRIES,
)
def run_job(self, job_id: int) -> str:
    outcome, error = jobs.job_deliver(job_id=job_id, worker=jobs.worker_name())
    if outcome == jobs.BUSY:
        # Another worker holds a fresh claim: come back once it has either finished or gone stale.
        raise self.retry(countdown=jobs.stale_after().total_seconds() + 1)
    if outcome == jobs.TRANSIENT:
        # Database or disk hiccup: the job was handed back; retry with backoff.
        raise self.retry(exc=error, countdown=retry_countdown(self.request.retries)) from error
    return outcome


@shared_task(name="evidence.tasks.expire_export_files", acks_late=True, time_limit=600)
def expire_job_files() -> int:
    return jobs.jobs_expire_files()
