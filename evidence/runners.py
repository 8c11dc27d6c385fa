"""The evidence app's kinds of job: a certificate and a pack. Registered in EvidenceConfig.ready()
(jobs.registry); jobs.tasks.run_job and the management commands call them, so a command-line
export and a Celery export follow exactly the same code path."""

from django.utils import timezone
from django.utils.text import slugify

from consents.models import DataSubject, Purpose
from jobs import services as jobs
from jobs.models import Job


def certificate_filename(subject: DataSubject, purpose: Purpose | None = None) -> str:
    suffix = f"-{purpose.code}" if purpose else ""
    day = f"{timezone.localdate():%Y%m%d}"
    return f"certificate-{subject.organisation.slug}-{subject.pk}{suffix}-{day}.pdf"


def pack_filename(organisation) -> str:
    return f"evidence-pack-{slugify(organisation.slug)}-{timezone.localtime():%Y%m%d-%H%M}.zip"


def run_certificate(*, job: Job, worker: str, on_progress=None) -> None:
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


def run_pack(*, job: Job, worker: str, on_progress=None) -> None:
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


CERTIFICATE = "certificate"
PACK = "pack"


def describe_pack(job: Job) -> str:
    from .packs import PackScope

    return PackScope.from_parameters(job.parameters).describe()
