"""Requests made the way the register makes them: through rights_requests.services."""

from datetime import date

from django.utils import timezone

from rights_requests import services
from rights_requests.choices import RequestChannel, Right
from tests.accounts.factories import UserFactory
from tests.consents.factories import DataSubjectFactory


def logged_request(
    organisation,
    *,
    user=None,
    subject=None,
    right: str = Right.ACCESS,
    channel: str = RequestChannel.EMAIL,
    received_on: date | None = None,
    **fields,
):
    """A request staff logged for ``subject`` (a new person on record unless given). By e-mail
    it waits for identity; by WhatsApp from the number on record it is verified at once."""
    if subject is None and "name" not in fields:
        subject = DataSubjectFactory(organisation=organisation, email="ana@example.org")
    if subject is not None:
        fields.setdefault("phone", subject.phone)
    return services.request_log(
        organisation=organisation,
        right=right,
        channel=channel,
        received_on=received_on or timezone.localdate(),
        user=user or UserFactory(),
        **fields,
    )


def verified_request(organisation, **fields):
    """A request that came on WhatsApp from the number on record: identity verified."""
    fields.setdefault("channel", RequestChannel.WHATSAPP)
    return logged_request(organisation, **fields)


def carried_out(rights_request, user=None, summary="Copy of the data sent."):
    return services.request_carried_out(
        rights_request=rights_request, what={"summary": summary}, user=user
    )
