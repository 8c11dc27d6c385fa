"""Rights requests made directly, for the fulfilment tests (the register's own factories live
in tests/rights_requests/factories.py)."""

import pytest
from django.core.cache import cache
from django.utils import timezone

from rights_requests import deadlines
from rights_requests.choices import RequestChannel, RequestStatus
from rights_requests.models import RightsRequest


def rights_request(
    subject,
    right,
    *,
    verified: bool = True,
    channel: str = RequestChannel.WHATSAPP,
    status: str = RequestStatus.IN_PROGRESS,
    **fields,
) -> RightsRequest:
    """A request of ``subject`` for ``right``, received today, its identity verified unless
    said (GDPR Art. 12(6)), in progress."""
    received = fields.pop("received_on", timezone.localdate())
    due = deadlines.due_on(received)
    return RightsRequest.objects.create(
        organisation=subject.organisation if subject is not None else fields.pop("organisation"),
        subject=subject,
        right=right,
        channel=channel,
        status=status,
        received_on=received,
        due_on=due,
        current_due_on=due,
        identity_verified_at=timezone.now() if verified else None,
        language=fields.pop("language", getattr(subject, "preferred_language", "es")),
        **fields,
    )


@pytest.fixture
def fresh_rate_limits():
    """Public pages count on the shared cache: start with an empty window (use it by name)."""
    cache.clear()
    yield
    cache.clear()
