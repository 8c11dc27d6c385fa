"""Who may open each page of jobs/urls.py (see tests/access.py)."""

from tests.access import DPO_AUDITOR, Route, org_only
from tests.evidence.access import _done_job, _with

ROUTES = {
    "list": Route(allowed=DPO_AUDITOR, kwargs=org_only),
    "status": Route(allowed=DPO_AUDITOR, setup=_done_job, kwargs=_with("job")),
    "download": Route(allowed=DPO_AUDITOR, setup=_done_job, kwargs=_with("job")),
}
