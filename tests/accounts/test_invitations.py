"""An existing account becomes a member only by accepting an invitation (invariant 1).

The tester's report: a DPO of any organisation could add any existing user of another
organisation, even as DPO, without their agreement, and then saw their full name.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import services
from accounts.models import AuditEntry, Invitation, Membership
from accounts.roles import Role
from tests.accounts.factories import InvitationFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CLIENT_IP = "203.0.113.9"


@pytest.fixture
def ana(other_org):
    """A member of another organisation, whose name ``org`` must not learn unless she accepts."""
    return MembershipFactory(
        organisation=other_org,
        role=Role.STAFF,
        user=UserFactory(email="ana@other.example", full_name="Ana Secreta Ruiz"),
    ).user


def _add(client, email, role=Role.DPO, **extra):
    return client.post(
        "/o/clinic/members/", {"email": email, "role": role}, REMOTE_ADDR=CLIENT_IP, **extra
    )


def _invitation_link(message) -> str:
    match = re.search(r"http://testserver(/invitations/[\w-]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_adding_an_existing_account_creates_a_pending_invitation_and_no_membership(
    client_for, org, dpo, ana, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _add(client_for(dpo), "Ana@Other.example", follow=True)

    page = response.content.decode()
    assert "ana@other.example has an account already and has been sent an invitation." in page
    assert not Membership.objects.filter(user=ana, organisation=org).exists()
    invitation = Invitation.objects.get(organisation=org)
    assert (invitation.user, invitation.email, invitation.role) == (ana, "ana@other.example", "dpo")
    assert invitation.invited_by == dpo
    assert invitation.status == Invitation.Status.PENDING
    assert invitation.expires_at - invitation.created_at == timedelta(days=14)
    # The DPO sees the address typed and the state, never the account's name.
    assert "Ana Secreta Ruiz" not in page
    row = re.search(
        r'<tr data-testid="invitation-row" data-email="ana@other.example">.*?</tr>', page, re.S
    )
    assert row and "invitation pending" in row.group(0)
    entry = AuditEntry.objects.get(organisation=org, action=AuditEntry.Action.INVITED)
    assert (entry.user, entry.ip_address, entry.register) == (dpo, CLIENT_IP, "invitation")
    assert "Ana Secreta" not in entry.object_repr and "ana@other.example" in entry.object_repr
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@other.example"]
    assert _invitation_link(mail.outbox[0]) == f"/invitations/{invitation.token}/"
    # Written in the organisation's language, role included ("dpo" in Spanish).
    assert "como Delegado de protección de datos." in mail.outbox[0].body


def test_the_invited_person_sees_a_banner_after_login_and_the_invitation_in_their_list(
    client_for, org, dpo, ana
):
    InvitationFactory(organisation=org, user=ana, role=Role.AUDITOR, invited_by=dpo)
    client = client_for(ana)

    dashboard = client.get("/o/other/").content.decode()
    assert 'data-testid="invitation-banner"' in dashboard
    assert "You have 1 invitation to join an organisation." in dashboard
    listing = client.get("/organisations/").content.decode()
    assert listing.count('data-testid="invitation-row"') == 1
    assert "Clínica Dental Norte S.L." in listing and "Auditor (read-only)" in listing
    # Members of ``org`` have no invitation: no banner for them.
    assert (
        'data-testid="invitation-banner"' not in client_for(dpo).get("/o/clinic/").content.decode()
    )


def test_accepting_makes_the_membership_with_the_invited_role_and_is_audited(
    client_for, org, dpo, ana, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _add(client_for(dpo), "ana@other.example", role=Role.AUDITOR)
    link = _invitation_link(mail.outbox[0])
    client = client_for(ana)

    page = client.get(link).content.decode()
    assert "Clínica Dental Norte S.L." in page and "Auditor (read-only)" in page
    response = client.post(link + "accept/", REMOTE_ADDR=CLIENT_IP)

    assert response.status_code == 302 and response["Location"] == "/o/clinic/"
    assert Membership.objects.get(user=ana, organisation=org).role == Role.AUDITOR
    assert Invitation.objects.get(organisation=org).status == Invitation.Status.ACCEPTED
    entry = AuditEntry.objects.get(organisation=org, action=AuditEntry.Action.ACCEPTED)
    assert (entry.user, entry.ip_address) == (ana, CLIENT_IP)
    # Now a member, her name is the organisation's to see.
    assert "Ana Secreta Ruiz" in client_for(dpo).get("/o/clinic/members/").content.decode()


def test_declining_makes_no_membership_and_is_audited(client_for, org, dpo, ana):
    invitation = InvitationFactory(organisation=org, user=ana, invited_by=dpo)
    response = client_for(ana).post(f"/invitations/{invitation.token}/decline/", follow=True)

    assert "Invitation declined." in response.content.decode()
    assert not Membership.objects.filter(user=ana, organisation=org).exists()
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.DECLINED and invitation.answered_at
    entry = AuditEntry.objects.get(organisation=org, action=AuditEntry.Action.DECLINED)
    assert entry.user == ana
    members_page = client_for(dpo).get("/o/clinic/members/").content.decode()
    assert "ana@other.example" not in members_page


def test_an_expired_invitation_cannot_be_accepted(client_for, org, ana):
    invitation = InvitationFactory(
        organisation=org, user=ana, expires_at=timezone.now() - timedelta(minutes=1)
    )
    client = client_for(ana)
    response = client.post(f"/invitations/{invitation.token}/accept/", follow=True)
    banner = client.get("/o/other/").content.decode()

    assert "This invitation expired. Ask the organisation&#x27;s DPO" in response.content.decode()
    assert not Membership.objects.filter(user=ana, organisation=org).exists()
    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.PENDING
    assert 'data-testid="invitation-banner"' not in banner


def test_someone_elses_invitation_link_is_refused_and_reveals_nothing(
    client_for, org, ana, outsider
):
    invitation = InvitationFactory(organisation=org, user=ana)
    client = client_for(outsider)

    shown = client.get(f"/invitations/{invitation.token}/", follow=True).content.decode()
    accepted = client.post(f"/invitations/{invitation.token}/accept/", follow=True)
    declined = client.post(f"/invitations/{invitation.token}/decline/", follow=True)

    for body in (shown, accepted.content.decode(), declined.content.decode()):
        assert "This invitation link is not valid for your account." in body
        assert "Clínica Dental Norte" not in body
    assert not Membership.objects.filter(user=outsider, organisation=org).exists()
    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.PENDING
    assert not AuditEntry.objects.filter(register="invitation").exists()


def test_an_unknown_token_is_refused_like_someone_elses(client_for, ana):
    response = client_for(ana).post("/invitations/not-a-token/accept/", follow=True)
    assert "This invitation link is not valid for your account." in response.content.decode()


def test_accepting_twice_makes_one_membership(org, ana):
    invitation = InvitationFactory(organisation=org, user=ana, role=Role.STAFF)
    services.invitation_accept(token=invitation.token, user=ana)
    with pytest.raises(ValidationError, match="answered or withdrawn already"):
        services.invitation_accept(token=invitation.token, user=ana)
    assert Membership.objects.filter(user=ana, organisation=org).count() == 1
    assert AuditEntry.objects.filter(action=AuditEntry.Action.ACCEPTED).count() == 1


def test_a_declined_invitation_cannot_be_accepted_later(org, ana):
    invitation = InvitationFactory(organisation=org, user=ana)
    services.invitation_decline(token=invitation.token, user=ana)
    with pytest.raises(ValidationError, match="answered or withdrawn already"):
        services.invitation_accept(token=invitation.token, user=ana)
    assert not Membership.objects.filter(user=ana, organisation=org).exists()


def test_accepting_when_already_a_member_is_refused_and_changes_nothing(org, staff):
    # E.g. the operator added the person in the admin while the invitation waited.
    invitation = InvitationFactory(organisation=org, user=staff, role=Role.DPO)
    with pytest.raises(
        ValidationError, match="You are a member of Clínica Dental Norte S.L. already"
    ):
        services.invitation_accept(token=invitation.token, user=staff)
    assert staff.memberships.get(organisation=org).role == Role.STAFF
    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.PENDING


def test_inviting_someone_already_a_member_is_refused(org, dpo, staff):
    with pytest.raises(ValidationError, match="staff@clinic.example is already a member"):
        services.membership_invite(
            organisation=org,
            email="staff@clinic.example",
            role=Role.DPO,
            invited_by=dpo,
            base_url="http://testserver/",
        )
    assert not Invitation.objects.exists()


def test_a_second_invitation_while_one_waits_is_refused_but_after_expiry_it_is_sent(org, dpo, ana):
    def invite():
        return services.membership_invite(
            organisation=org,
            email=ana.email,
            role=Role.STAFF,
            invited_by=dpo,
            base_url="http://testserver/",
        )

    first = invite()
    with pytest.raises(ValidationError, match="has been invited already"):
        invite()
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        second = invite()
    first.refresh_from_db()
    assert first.status == Invitation.Status.EXPIRED
    assert second.status == Invitation.Status.PENDING and second.token != first.token


def test_the_dpo_withdraws_a_pending_invitation_and_it_can_no_longer_be_accepted(
    client_for, org, dpo, ana
):
    invitation = InvitationFactory(organisation=org, user=ana)
    response = client_for(dpo).post(
        f"/o/clinic/members/invitations/{invitation.pk}/revoke/", follow=True
    )
    assert "The invitation to ana@other.example was withdrawn." in response.content.decode()
    assert AuditEntry.objects.get(action=AuditEntry.Action.REVOKED).user == dpo

    with pytest.raises(ValidationError, match="answered or withdrawn already"):
        services.invitation_accept(token=invitation.token, user=ana)
    assert not Membership.objects.filter(user=ana, organisation=org).exists()


def test_an_account_without_a_password_yet_is_also_sent_a_set_password_link(
    org, dpo, django_capture_on_commit_callbacks
):
    # Made by another organisation's invite, never logged in: it must still be able to answer.
    newcomer = UserFactory(email="nueva@other.example")
    newcomer.set_unusable_password()
    newcomer.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.membership_invite(
            organisation=org,
            email=newcomer.email,
            role=Role.STAFF,
            invited_by=dpo,
            base_url="http://testserver/",
        )
    body = mail.outbox[0].body
    assert "/invitations/" in body and "/password/set/" in body
    assert not Membership.objects.filter(user=newcomer, organisation=org).exists()


def test_a_new_person_keeps_the_set_password_invite_and_no_invitation_row(
    org, dpo, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.membership_invite(
            organisation=org,
            email="nadie@example.org",
            role=Role.STAFF,
            invited_by=dpo,
            base_url="http://testserver/",
        )
    assert isinstance(membership, Membership)
    assert not Invitation.objects.exists()
    assert "/password/set/" in mail.outbox[0].body
