"""Who may open each page of accounts/urls.py (see tests/access.py)."""

from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.roles import Role
from tests.access import ALL, DPO, DPO_AUDITOR, PUBLIC, Route, org_and_pk, org_only
from tests.accounts.factories import InvitationFactory, MembershipFactory, UserFactory


def _staff_member(org) -> dict:
    return {"member": MembershipFactory(organisation=org, role=Role.STAFF).pk}


def _invited_user(org) -> dict:
    user = UserFactory(password=None)
    user.set_unusable_password()
    user.save()
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }


def _invitation(org) -> dict:
    # Addressed to someone outside the cast: every member of the cast who opens or answers it is
    # told it is not theirs and sent back to their organisations (tests/accounts/test_invitations
    # covers the invited person's own answers).
    invitation = InvitationFactory(organisation=org)
    return {"invitation": invitation.pk, "token": invitation.token}


def _token_kwargs(ctx: dict) -> dict:
    return {"token": ctx["token"]}


ROUTES = {
    "login": Route(allowed=PUBLIC),
    "logout": Route(allowed=PUBLIC, method="post"),
    "password_reset": Route(allowed=PUBLIC),
    "password_reset_done": Route(allowed=PUBLIC),
    "set_password": Route(
        allowed=PUBLIC,
        setup=_invited_user,
        kwargs=lambda ctx: {"uidb64": ctx["uidb64"], "token": ctx["token"]},
    ),
    "password_reset_complete": Route(allowed=PUBLIC),
    # Logged in, no organisation involved.
    "home": Route(allowed=ALL),
    "organisations": Route(allowed=ALL),
    "password_change": Route(allowed=ALL),
    "password_change_done": Route(allowed=ALL),
    "invitation": Route(allowed=ALL, setup=_invitation, kwargs=_token_kwargs),
    "invitation_accept": Route(allowed=ALL, method="post", setup=_invitation, kwargs=_token_kwargs),
    "invitation_decline": Route(
        allowed=ALL, method="post", setup=_invitation, kwargs=_token_kwargs
    ),
    # Organisation pages.
    "dashboard": Route(allowed=ALL, kwargs=org_only),
    "activity": Route(allowed=DPO_AUDITOR, kwargs=org_only),
    "organisation_edit": Route(allowed=DPO, kwargs=org_only),
    "members": Route(allowed=DPO, kwargs=org_only),
    "member_role": Route(
        allowed=DPO,
        method="post",
        setup=_staff_member,
        kwargs=org_and_pk("member"),
        data=lambda ctx: {"role": Role.AUDITOR},
    ),
    "member_remove": Route(
        allowed=DPO, method="post", setup=_staff_member, kwargs=org_and_pk("member")
    ),
    "invitation_revoke": Route(
        allowed=DPO, method="post", setup=_invitation, kwargs=org_and_pk("invitation")
    ),
}
