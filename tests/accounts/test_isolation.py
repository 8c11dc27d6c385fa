"""Objects of another organisation are out of reach even by id (invariant 1)."""

import pytest

from accounts.models import Membership
from accounts.roles import Role
from tests.accounts.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def their_member(other_org, outsider):
    return MembershipFactory(organisation=other_org, role=Role.STAFF)


def _memberships():
    return sorted(Membership.objects.values_list("pk", "organisation_id", "user_id", "role"))


@pytest.mark.parametrize(
    ("action", "data"), [("role", {"role": Role.DPO}), ("remove", {})], ids=["role", "remove"]
)
def test_a_dpo_cannot_touch_another_organisations_membership_by_id(
    client, org, dpo, their_member, action, data
):
    before = _memberships()
    client.force_login(dpo)

    # Through their own organisation's address with the other organisation's id...
    response = client.post(f"/o/clinic/members/{their_member.pk}/{action}/", data)
    assert response.status_code == 404
    # ...and through the other organisation's address, where they are not a member.
    response = client.post(f"/o/other/members/{their_member.pk}/{action}/", data)
    assert response.status_code == 404

    assert _memberships() == before
