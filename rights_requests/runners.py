"""The rights-request register's kinds of job: the access copy (GDPR Art. 15) and the
portability export (GDPR Art. 20). Registered in RightsRequestsConfig.ready() (jobs.registry)
and run by jobs.tasks.run_job like every other job: claimed, fenced, written atomically."""

from django.db import transaction

from jobs import services as jobs
from jobs.models import Job

from . import exports, fulfilment
from .models import RightsRequest


def _request(job: Job) -> RightsRequest:
    return RightsRequest.objects.select_related("organisation", "subject").get(
        organisation=job.organisation, pk=job.parameters["request_id"]
    )


def _run(*, job: Job, worker: str, on_progress, write, filename: str) -> None:
    rights_request = _request(job)
    jobs.job_progress(job=job, worker=worker, done=0, total=1)
    temp = jobs.temporary_result(job)
    try:
        counts = write(rights_request, temp)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if on_progress:
        on_progress(1, 1)
    with transaction.atomic():
        finished = jobs.job_finish(job=job, worker=worker, temp=temp, filename=filename)
        fulfilment.export_finished(rights_request=rights_request, job=finished, counts=counts)


def run_access(*, job: Job, worker: str, on_progress=None) -> None:
    language = job.parameters.get("language") or "es"
    _run(
        job=job,
        worker=worker,
        on_progress=on_progress,
        write=lambda rr, path: exports.write_access_export(
            rights_request=rr, path=path, language=language
        ),
        filename=f"access-{_request(job).reference}.zip",
    )


def run_portability(*, job: Job, worker: str, on_progress=None) -> None:
    _run(
        job=job,
        worker=worker,
        on_progress=on_progress,
        write=lambda rr, path: exports.write_portability_export(rights_request=rr, path=path),
        filename=f"portability-{_request(job).reference}.zip",
    )


def describe(job: Job) -> str:
    # The request's reference only (never the person's name: see fulfilment._export_start).
    return job.description
