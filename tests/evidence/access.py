"""Who may open each page of evidence/urls.py (see tests/access.py)."""

from django.core.files.base import ContentFile

from jobs.models import Job
from tests.access import DPO, DPO_AUDITOR, Route, org_and_pk, org_only
from tests.consents.factories import DataSubjectFactory


def _done_job(org) -> dict:
    job = Job.objects.create(
        organisation=org,
        kind="certificate",
        status=Job.Status.DONE,
        result_name="certificate.pdf",
        result_sha256="0" * 64,
        result_size=9,
    )
    job.result.save("certificate.pdf", ContentFile(b"%PDF-1.7\n"), save=True)
    return {"job": job.pk, "subject": DataSubjectFactory(organisation=org).pk}


ROUTES = {
    "pack": Route(allowed=DPO_AUDITOR, kwargs=org_only),
    "certificate": Route(
        allowed=DPO_AUDITOR,
        method="post",
        setup=_done_job,
        kwargs=org_and_pk("subject"),
        data=lambda ctx: {"language": "es"},
    ),
    "verify": Route(allowed=DPO_AUDITOR, kwargs=org_only),
    "signing": Route(allowed=DPO, kwargs=org_only),
    "checkpoint_upload": Route(allowed=DPO_AUDITOR, method="post", kwargs=org_only),
}
