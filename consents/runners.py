"""The consent register's kinds of job: checking and recording a legacy CSV import.

Registered in ConsentsConfig.ready() (jobs.registry); run by jobs.tasks.run_job.
"""

from jobs import services as jobs
from jobs.models import Job

from . import imports

IMPORT = "import"
IMPORT_CHECK = "import_check"


def _progress(job: Job, worker: str, on_progress, total: int | None = None):
    def report(done, of=None):
        jobs.job_progress(job=job, worker=worker, done=done, total=of or total)
        if on_progress:
            on_progress(done, of or total)

    return report


def run_import_check(*, job: Job, worker: str, on_progress=None) -> None:
    """Check an uploaded CSV row by row (consents.imports.import_check) and keep its report in
    the job's outcome: a 200,000-row file takes minutes, longer than a page may wait."""
    path = imports.checked_file_path(job.organisation, job.parameters["sha256"])
    with path.open("rb") as fileobj:
        total = imports.count_lines(fileobj)
        report = imports.import_check(
            organisation=job.organisation,
            fileobj=fileobj,
            filename=job.parameters.get("filename"),
            progress=_progress(job, worker, on_progress, total),
        )
    Job.objects.filter(pk=job.pk).update(outcome=report.to_dict())
    jobs.job_finish(job=job, worker=worker, temp=None, filename="")


def run_import(*, job: Job, worker: str, on_progress=None) -> None:
    """A checked legacy CSV, recorded in one transaction (consents.imports.import_apply)."""
    path = imports.checked_file_path(job.organisation, job.parameters["sha256"])
    with path.open("rb") as fileobj:
        try:
            result = imports.import_apply(
                organisation=job.organisation,
                fileobj=fileobj,
                imported_by=job.requested_by,
                filename=job.parameters.get("filename"),
                progress=_progress(job, worker, on_progress),
            )
        except imports.ImportRefused as refused:
            raise ValueError(
                f"{refused.report.error_count} errors: the file changed since it was checked"
            ) from refused
    Job.objects.filter(pk=job.pk).update(
        outcome={
            "events": result.events_recorded,
            "first_sequence": result.first_sequence,
            "last_sequence": result.last_sequence,
            "subjects_created": result.subjects_created,
            "already_imported": result.already_imported,
        }
    )
    jobs.job_finish(job=job, worker=worker, temp=None, filename="")
    path.unlink(missing_ok=True)
