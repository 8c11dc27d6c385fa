"""Who may open each fulfilment page of rights_requests/fulfilment_urls.py (tests/access.py
loads this beside tests/rights_requests/access.py, the register's own pages)."""

from rights_requests import fulfilment
from rights_requests.choices import Right
from tests.access import ALL, DPO, Route
from tests.consents.factories import DataSubjectFactory
from tests.rights_requests.fulfil_factories import rights_request


def _request_for(right):
    def setup(org) -> dict:
        request = rights_request(DataSubjectFactory(organisation=org), right)
        return {"request": request.pk}

    return setup


def _restricted(org) -> dict:
    from accounts.models import Membership

    request = rights_request(DataSubjectFactory(organisation=org), Right.RESTRICTION)
    dpo = Membership.objects.filter(organisation=org, role="dpo").first()
    fulfilment.restriction_carry_out(
        rights_request=request, user=dpo.user if dpo else None, ground="accuracy"
    )
    return {"request": request.pk}


def _kwargs(ctx) -> dict:
    return {"org_slug": ctx["org"].slug, "pk": ctx["request"]}


ROUTES = {
    "rights_requests:fulfilment": Route(
        allowed=ALL, setup=_request_for(Right.ACCESS), kwargs=_kwargs
    ),
    "rights_requests:fulfil_access": Route(
        allowed=DPO, method="post", setup=_request_for(Right.ACCESS), kwargs=_kwargs
    ),
    "rights_requests:fulfil_portability": Route(
        allowed=DPO, method="post", setup=_request_for(Right.PORTABILITY), kwargs=_kwargs
    ),
    "rights_requests:fulfil_rectification": Route(
        allowed=DPO, setup=_request_for(Right.RECTIFICATION), kwargs=_kwargs
    ),
    "rights_requests:fulfil_erasure": Route(
        allowed=DPO, setup=_request_for(Right.ERASURE), kwargs=_kwargs
    ),
    "rights_requests:fulfil_restriction": Route(
        allowed=DPO, setup=_request_for(Right.RESTRICTION), kwargs=_kwargs
    ),
    "rights_requests:fulfil_restriction_lift": Route(
        allowed=DPO,
        method="post",
        setup=_restricted,
        kwargs=_kwargs,
        data=lambda ctx: {"reason": "Checked"},
    ),
    "rights_requests:fulfil_objection": Route(
        allowed=DPO, method="post", setup=_request_for(Right.OBJECTION), kwargs=_kwargs
    ),
    "rights_requests:fulfil_withdrawal": Route(
        allowed=DPO, method="post", setup=_request_for(Right.WITHDRAWAL), kwargs=_kwargs
    ),
}
