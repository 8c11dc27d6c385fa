"""The demo register: a dozen requests in every state, idempotent."""

import pytest
from django.utils import timezone

from accounts.roles import Role
from consents import demo as consents_demo
from rights_requests import demo
from rights_requests.choices import RequestStatus
from rights_requests.models import RightsRequest
from tests.accounts.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_demo_holds_a_dozen_requests_in_every_state_and_loads_once(quick_letters):
    clinic = OrganisationFactory(slug="sonrisa")
    for email, role in (("dpo@sonrisa.example", Role.DPO), ("staff@sonrisa.example", Role.STAFF)):
        MembershipFactory(organisation=clinic, role=role, user=UserFactory(email=email))
    consents_demo.load(organisation=clinic)

    summary = demo.load(organisation=clinic)

    requests = RightsRequest.objects.filter(organisation=clinic)
    assert summary.startswith("12 rights requests")
    assert requests.count() == 12
    assert set(requests.values_list("status", flat=True)) == set(RequestStatus.values)
    today = timezone.localdate()
    assert requests.overdue(today).count() == 1
    assert requests.filter(extension_months__gt=0).count() == 1
    assert requests.answered_late().count() == 1
    assert requests.filter(clock_stopped_on__isnull=False).count() == 1
    assert requests.filter(language="ar").count() == 1
    # Every outcome and the extension went out as a letter.
    kinds = {"answered": "answer", "rejected": "rejection", "extended": "extension"}
    for rr in requests.filter(status__in=kinds):
        assert rr.letters.filter(kind=kinds[rr.status], sent_at__isnull=False).exists()
    assert "exist already" in demo.load(organisation=clinic)
    assert requests.count() == 12
