"""Who may open each page of processing/urls.py (see tests/access.py)."""

from tests.access import ALL, DPO, DPO_AUDITOR, Route, org_and_pk, org_only
from tests.processing.factories import activity, processor_record


def _records(org) -> dict:
    return {"activity": activity(org).pk, "record": processor_record(org).pk}


_activity = org_and_pk("activity")
_record = org_and_pk("record")

ROUTES = {
    "register": Route(allowed=ALL, kwargs=org_only),
    "export": Route(
        allowed=DPO_AUDITOR,
        method="post",
        kwargs=org_only,
        data=lambda ctx: {"file_format": "csv", "language": "es"},
    ),
    "activity_new": Route(allowed=DPO, kwargs=org_only),
    "activity_create": Route(allowed=DPO, kwargs=org_only),
    "activity": Route(allowed=ALL, setup=_records, kwargs=_activity),
    "activity_edit": Route(allowed=DPO, setup=_records, kwargs=_activity),
    "activity_retire": Route(allowed=DPO, method="post", setup=_records, kwargs=_activity),
    "processors": Route(allowed=ALL, kwargs=org_only),
    "processor_create": Route(allowed=DPO, kwargs=org_only),
    "processor": Route(allowed=ALL, setup=_records, kwargs=_record),
    "processor_edit": Route(allowed=DPO, setup=_records, kwargs=_record),
    "processor_retire": Route(allowed=DPO, method="post", setup=_records, kwargs=_record),
}
