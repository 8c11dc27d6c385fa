"""Who may open each page of groups/urls.py (see tests/access.py)."""

from django.utils import timezone

from groups import services
from groups.models import GroupMembership, UsagePolicyVersion
from tests.access import ALL, DPO, DPO_STAFF, PUBLIC, Route, org_and_pk, org_only
from tests.consents.factories import DataSubjectFactory
from tests.groups.factories import StaffAccountFactory, group_with_notice


def _group(org) -> dict:
    group = group_with_notice(org)
    subject = DataSubjectFactory(organisation=org)
    membership = GroupMembership.objects.create(
        organisation=org,
        group=group,
        subject=subject,
        joined_via=GroupMembership.JoinedVia.ADDED_BY_ADMIN,
        joined_at=timezone.now(),
    )
    check = services.roster_check_create(group=group, text=str(subject.phone), checked_by=None)
    policy = UsagePolicyVersion.objects.create(organisation=org, version="v1", text="Reglas")
    return {
        "group": group.pk,
        "token": group.invite_token,
        "membership": membership.pk,
        "check": check.pk,
        "account": StaffAccountFactory(organisation=org).pk,
        "policy": policy.pk,
    }


def _check(ctx):
    return {"org_slug": ctx["org"].slug, "pk": ctx["group"], "check_pk": ctx["check"]}


ROUTES = {
    "invite": Route(allowed=PUBLIC, setup=_group, kwargs=lambda ctx: {"token": ctx["token"]}),
    "groups": Route(allowed=ALL, kwargs=org_only),
    "group_create": Route(allowed=DPO, kwargs=org_only),
    "group": Route(allowed=ALL, setup=_group, kwargs=org_and_pk("group")),
    "group_edit": Route(allowed=DPO, setup=_group, kwargs=org_and_pk("group")),
    "group_archive": Route(allowed=DPO, method="post", setup=_group, kwargs=org_and_pk("group")),
    "member_add": Route(allowed=DPO_STAFF, setup=_group, kwargs=org_and_pk("group")),
    "member_leave": Route(
        allowed=DPO_STAFF,
        method="post",
        setup=_group,
        kwargs=lambda ctx: {
            "org_slug": ctx["org"].slug,
            "pk": ctx["group"],
            "membership_pk": ctx["membership"],
        },
    ),
    "roster_check": Route(allowed=DPO_STAFF, setup=_group, kwargs=org_and_pk("group")),
    "roster_result": Route(allowed=DPO_STAFF, setup=_group, kwargs=_check),
    "roster_record": Route(allowed=DPO_STAFF, method="post", setup=_group, kwargs=_check),
    "staff_accounts": Route(allowed=DPO, kwargs=org_only),
    "staff_account": Route(allowed=DPO, setup=_group, kwargs=org_and_pk("account")),
    "policies": Route(allowed=DPO, kwargs=org_only),
    "policy_edit": Route(allowed=DPO, setup=_group, kwargs=org_and_pk("policy")),
    "policy_publish": Route(allowed=DPO, method="post", setup=_group, kwargs=org_and_pk("policy")),
    "policy_acknowledge": Route(allowed=ALL, kwargs=org_only),
}
