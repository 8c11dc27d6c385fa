"""What export_certificate and export_pack share: run a job here, with a progress bar."""

import shutil
import sys

from django.core.management.base import CommandError

from accounts.models import Organisation
from evidence import jobs
from evidence.models import ExportJob
from evidence.runners import RUNNERS


def organisation(slug: str) -> Organisation:
    found = Organisation.objects.filter(slug=slug).first()
    if found is None:
        raise CommandError(f"No organisation with short name {slug!r}")
    return found


def progress_bar(stream):
    interactive = stream.isatty() if hasattr(stream, "isatty") else False

    def show(done, total):
        if not interactive or not total:
            return
        width = 40
        filled = int(width * done / total)
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        stream.flush()
        if done >= total:
            stream.write("\n")

    return show


def run_here(*, organisation, kind, parameters, description, output, stdout) -> ExportJob:
    """Same code path as the Celery task: a job row, a claim, the runner, an atomic result."""
    job = ExportJob.objects.create(
        organisation=organisation, kind=kind, parameters=parameters, description=description
    )
    worker = "command:" + jobs.worker_name()
    claimed = jobs.job_claim(job_id=job.pk, worker=worker)
    try:
        RUNNERS[kind](job=claimed, worker=worker, on_progress=progress_bar(sys.stderr))
    except Exception as error:
        jobs.job_fail(job_id=job.pk, worker=worker, error=f"{type(error).__name__}: {error}")
        raise CommandError(f"Export failed: {error}") from error
    job.refresh_from_db()
    with job.result.open("rb") as source, open(output, "wb") as target:
        shutil.copyfileobj(source, target)
    stdout.write(f"{output}: {job.result_size} bytes, SHA-256 {job.result_sha256}")
    return job
