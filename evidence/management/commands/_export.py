"""What export_certificate and export_pack share: run a job here, with a progress bar."""

import shutil
import sys

from django.core.management.base import CommandError

from accounts.management.organisations import organisation_or_error
from jobs import services as jobs
from jobs.models import Job

organisation = organisation_or_error


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


def run_here(*, organisation, kind, parameters, description, output, stdout) -> Job:
    """Same code path as the Celery task: a job row, a claim, the runner, an atomic result.

    ``parameters["source"] = "command"`` lets the Exports page say, in the reader's language,
    that the job came from the command line."""
    job = jobs.job_create(
        organisation=organisation,
        kind=kind,
        parameters={**parameters, "source": "command"},
        requested_by=None,
        description=description,
    )
    try:
        job = jobs.job_run_here(
            job=job, worker="command:" + jobs.worker_name(), on_progress=progress_bar(sys.stderr)
        )
    except Exception as error:
        raise CommandError(f"Export failed: {error}") from error
    with job.result.open("rb") as source, open(output, "wb") as target:
        shutil.copyfileobj(source, target)
    stdout.write(f"{output}: {job.result_size} bytes, SHA-256 {job.result_sha256}")
    return job
