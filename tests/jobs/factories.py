from django.core.files.base import ContentFile

from jobs.models import Job


def finished_certificate_job(org, **fields) -> Job:
    """A certificate job that is done, with a stand-in PDF as its result: for tests of who may
    fetch it, not of the certificate (``fields``: the rest of the job, e.g. result_size)."""
    job = Job.objects.create(
        organisation=org,
        kind="certificate",
        status=Job.Status.DONE,
        result_name="certificate.pdf",
        result_sha256="0" * 64,
        **fields,
    )
    job.result.save("certificate.pdf", ContentFile(b"%PDF-1.7\n"), save=True)
    return job
