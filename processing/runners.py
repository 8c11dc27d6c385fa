"""The record of processing as a background job (jobs.registry kind "ropa"), registered in
ProcessingConfig.ready(); the page, the management command and an evidence pack all reach the
same exports.ropa_export."""

import datetime

from django.utils.translation import gettext as _

from jobs import services as jobs
from jobs.models import Job

ROPA = "ropa"


def parameters(*, file_format: str, as_of: datetime.date | None, language: str) -> dict:
    return {
        "format": file_format,
        "as_of": as_of.isoformat() if as_of else "",
        "language": language,
    }


def _as_of(params: dict) -> datetime.date | None:
    return datetime.date.fromisoformat(params["as_of"]) if params.get("as_of") else None


def run_ropa(*, job: Job, worker: str, on_progress=None) -> None:
    from .exports import filename, ropa_export

    params = job.parameters
    jobs.job_progress(job=job, worker=worker, done=0, total=1)
    content = ropa_export(
        organisation=job.organisation,
        file_format=params["format"],
        as_of=_as_of(params),
        language=params.get("language") or None,
    )
    if on_progress:
        on_progress(1, 1)
    temp = jobs.temporary_result(job)
    temp.write_bytes(content)
    jobs.job_finish(
        job=job,
        worker=worker,
        temp=temp,
        filename=filename(job.organisation, params["format"], _as_of(params)),
    )


def describe(job: Job) -> str:
    """What the export covers, in the reader's language."""
    return describe_parameters(job.parameters)


def describe_parameters(params: dict) -> str:
    as_of = _as_of(params)
    when = _("as it stood on %(day)s") % {"day": as_of.isoformat()} if as_of else _("now")
    return f"{params.get('format', '').upper()}, {when}"
