"""What each kind of job does. Called by evidence.tasks.run_job and by the management commands,
so a command-line export and a Celery export follow exactly the same code path."""

from django.utils import timezone
from django.utils.text import slugify

from consents.models import DataSubject, Purpose

from . import jobs
from .models import ExportJob


def certificate_filename(subject: DataSubject, purpose: Purpose | None = None) -> str:
    suffix = f"-{purpose.code}" if purpose else ""
    day = f"{timezone.localdate():%Y%m%d}"
    return f"certificate-{subject.organisation.slug}-{subject.pk}{suffix}-{day}.pdf"


def pack_filename(organisation) -> str:
    return f"evidence-pack-{slugify(organisation.slug)}-{timezone.localtime():%Y%m%d-%H%M}.zip"


def run_certificate(*, job: ExportJob, worker: str, on_progress=None) -> None:
    from .certificates import certificate_pdf

    params = job.parameters
    subject = DataSubject.objects.get(organisation=job.organisation, pk=params["subject_id"])
    purpose = None
    if params.get("purpose_id"):
        purpose = Purpose.objects.get(organisation=job.organisation, pk=params["purpose_id"])
    jobs.job_progress(job=job, worker=worker, done=0, total=1)
    pdf = certificate_pdf(subject=subject, purpose=purpose, language=params.get("language"))
    if on_progress:
        on_progress(1, 1)
    temp = jobs.temporary_result(job)
    temp.write_bytes(pdf)
    jobs.job_finish(
        job=job, worker=worker, temp=temp, filename=certificate_filename(subject, purpose)
    )


def run_pack(*, job: ExportJob, worker: str, on_progress=None) -> None:
    from .packs import PackScope, build_pack

    scope = PackScope.from_parameters(job.parameters)
    temp = jobs.temporary_result(job)

    def progress(done, total):
        jobs.job_progress(job=job, worker=worker, done=done, total=total)
        if on_progress:
            on_progress(done, total)

    try:
        build_pack(
            organisation=job.organisation,
            scope=scope,
            path=temp,
            progress=progress,
        )
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    jobs.job_finish(job=job, worker=worker, temp=temp, filename=pack_filename(job.organisation))


def run_import(*, job: ExportJob, worker: str, on_progress=None) -> None:
    """A checked legacy CSV, recorded in one transaction (consents.imports.import_apply)."""
    from consents import imports

    path = imports.checked_file_path(job.organisation, job.parameters["sha256"])

    def progress(done, total):
        jobs.job_progress(job=job, worker=worker, done=done, total=total)
        if on_progress:
            on_progress(done, total)

    with path.open("rb") as fileobj:
        try:
            result = imports.import_apply(
                organisation=job.organisation,
                fileobj=fileobj,
                imported_by=job.requested_by,
                filename=job.parameters.get("filename"),
                progress=progress,
            )
        except imports.ImportRefused as refused:
            raise ValueError(
                f"{refused.report.error_count} errors: the file changed since it was checked"
            ) from refused
    ExportJob.objects.filter(pk=job.pk).update(
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


RUNNERS = {
    ExportJob.Kind.CERTIFICATE: run_certificate,
    ExportJob.Kind.PACK: run_pack,
    ExportJob.Kind.IMPORT: run_import,
}
