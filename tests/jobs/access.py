"""Who may open each page of jobs/urls.py (see tests/access.py)."""

from tests.access import DPO_AUDITOR, Route, org_and_pk, org_only
from tests.evidence.access import _done_job

ROUTES = {
    "list": Route(allowed=DPO_AUDITOR, kwargs=org_only),
    "status": Route(allowed=DPO_AUDITOR, setup=_done_job, kwargs=org_and_pk("job")),
    "download": Route(allowed=DPO_AUDITOR, setup=_done_job, kwargs=org_and_pk("job")),
}
