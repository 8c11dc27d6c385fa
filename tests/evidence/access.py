"""Who may open each page of evidence/urls.py (see tests/access.py)."""

from tests.access import DPO, DPO_AUDITOR, Route, org_and_pk, org_only
from tests.consents.factories import DataSubjectFactory
from tests.jobs.factories import finished_certificate_job


def _done_job(org) -> dict:
    job = finished_certificate_job(org, result_size=9)
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
