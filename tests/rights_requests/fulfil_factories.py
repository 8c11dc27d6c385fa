"""Rights requests made directly, for the fulfilment tests (the register's own factories live
in tests/rights_requests/factories.py)."""

from django.utils import timezone

from consents.models import PurposeCategory
from groups.models import GroupMembership
from rights_requests import deadlines
from rights_requests.choices import RequestChannel, RequestStatus
from rights_requests.models import RightsRequest
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice
from tests.groups.factories import group_with_notice


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


def marketing_and_appointments(org) -> dict:
    """The purposes "offers" (marketing) and "citas" (appointments), with a published notice."""
    marketing = PurposeFactory(organisation=org, code="offers", name="Ofertas")
    citas = PurposeFactory(
        organisation=org, code="citas", name="Citas", category=PurposeCategory.APPOINTMENTS
    )
    notice = published_notice(purposes=[marketing, citas])
    return {"offers": marketing, "citas": citas, "notice": notice}


def consenting_person(
    org, *, full_name: str, phone: str = "+34612345678", purposes: dict | None = None
):
    """A person who granted both purposes of ``marketing_and_appointments`` (``purposes``, made
    here unless given)."""
    purposes = purposes or marketing_and_appointments(org)
    subject = DataSubjectFactory(organisation=org, full_name=full_name, phone=phone)
    grant(subject, purposes["offers"], purposes["notice"])
    grant(subject, purposes["citas"], purposes["notice"])
    return subject


def group_member(subject, *, group_name: str) -> GroupMembership:
    """``subject`` added by an admin to a new WhatsApp group (with its notices)."""
    return GroupMembership.objects.create(
        organisation=subject.organisation,
        group=group_with_notice(subject.organisation, name=group_name),
        subject=subject,
        joined_via=GroupMembership.JoinedVia.ADDED_BY_ADMIN,
        joined_at=timezone.now(),
    )
