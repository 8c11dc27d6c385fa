"""Reads for the group pages and the DPO's checklist (DOMAIN.md, the eight questions)."""

from dataclasses import dataclass

from django.db.models import Q

from accounts.models import Membership
from consents.models import Action, ConsentState, DataSubject, of_visible_subjects

from .models import GroupMembership, PolicyAcknowledgement, UsagePolicyVersion, WhatsAppGroup


@dataclass
class MemberRow:
    membership: GroupMembership
    state: str | None  # the group purpose's latest action for this person, None if never asked

    @property
    def has_consent(self) -> bool:
        return self.state == Action.GRANTED

    @property
    def withdrew(self) -> bool:
        return self.state == Action.WITHDRAWN


def group_member_rows(group: WhatsAppGroup) -> list[MemberRow]:
    """Current members with their consent to the group's purpose (flags on the group page)."""
    memberships = list(
        GroupMembership.objects.filter(group=group)
        .current()
        .filter(of_visible_subjects())
        .select_related("subject", "consent_event", "added_by")
        .order_by("subject__full_name", "pk")
    )
    states = dict(
        ConsentState.objects.filter(
            purpose_id=group.purpose_id, subject__in=[m.subject_id for m in memberships]
        ).values_list("subject_id", "action")
    )
    return [MemberRow(m, states.get(m.subject_id)) for m in memberships]


@dataclass
class GroupFlags:
    without_consent: int
    withdrawn: int
    mixes_customers_and_employees: bool
    personal_admins: list

    @property
    def count(self) -> int:
        return (
            self.without_consent
            + self.withdrawn
            + int(self.mixes_customers_and_employees)
            + len(self.personal_admins)
        )


def group_flags(group: WhatsAppGroup, rows: list[MemberRow] | None = None) -> GroupFlags:
    rows = group_member_rows(group) if rows is None else rows
    kinds = {row.membership.subject.kind for row in rows}
    return GroupFlags(
        without_consent=sum(1 for r in rows if not r.has_consent and not r.withdrew),
        withdrawn=sum(1 for r in rows if r.withdrew),
        mixes_customers_and_employees={
            DataSubject.Kind.CUSTOMER,
            DataSubject.Kind.EMPLOYEE,
        }
        <= kinds,
        personal_admins=[a for a in group.admins.all() if a.is_personal and a.active],
    )


def current_policy(organisation):
    return UsagePolicyVersion.objects.current_for(organisation)


def members_without_acknowledgement(organisation, policy=None):
    """Memberships of people who have not acknowledged the current policy version."""
    policy = policy or current_policy(organisation)
    members = Membership.objects.filter(organisation=organisation).select_related("user")
    if policy is None:
        return members.none()
    acknowledged = PolicyAcknowledgement.objects.filter(policy=policy).values("user")
    return members.exclude(user__in=acknowledged).order_by("user__full_name", "user__email")


def needs_acknowledgement(*, organisation, user) -> UsagePolicyVersion | None:
    """The current policy if this user has not acknowledged it yet (the banner)."""
    policy = current_policy(organisation)
    if policy is None:
        return None
    if PolicyAcknowledgement.objects.filter(policy=policy, user=user).exists():
        return None
    return policy


def current_members_without_consent(group: WhatsAppGroup):
    granted = ConsentState.objects.filter(purpose_id=group.purpose_id, action=Action.GRANTED)
    return (
        GroupMembership.objects.filter(group=group)
        .current()
        .filter(of_visible_subjects())
        .exclude(Q(subject__in=granted.values("subject")))
    )
