"""Every write on groups, staff WhatsApp accounts and the usage policy.

Consent itself is recorded only through consents.services (ARCHITECTURE: the one module that
appends to the ledger); these services link what happened in a group to the consent events.
"""

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organisation, User
from accounts.services import version_publish
from consents import services as consent_services
from consents.acts import ConsentAct, PersonDetails
from consents.models import Action, ConsentState, DataSubject, of_visible_subjects
from consents.phones import try_parse_phone

from .models import (
    GroupMembership,
    PolicyAcknowledgement,
    RosterCheck,
    StaffAccount,
    UsagePolicyVersion,
    WhatsAppGroup,
)

# --- staff accounts -------------------------------------------------------------------------


@transaction.atomic
def staff_account_save(
    *, account: StaffAccount, organisation: Organisation, data: dict
) -> StaffAccount:
    """Create or change a staff WhatsApp account (DOMAIN.md question 6: business numbers only)."""
    employee = data.get("employee")
    if employee is not None and employee.organisation_id != organisation.pk:
        raise ValidationError(_("Unknown member."))
    account.organisation = organisation
    for name, value in data.items():
        setattr(account, name, value)
    duplicate = StaffAccount.objects.filter(organisation=organisation, phone=account.phone)
    if account.pk:
        duplicate = duplicate.exclude(pk=account.pk)
    if duplicate.exists():
        raise ValidationError(_("This number is registered already."))
    account.full_clean()
    account.save()
    return account


# --- groups ---------------------------------------------------------------------------------


@transaction.atomic
def group_save(
    *, group: WhatsAppGroup, organisation: Organisation, data: dict, admins
) -> WhatsAppGroup:
    """Create or change a group. Its purpose must be a group-membership purpose of the same
    organisation (GDPR Art. 4(11): consent is specific to joining this group)."""
    if group.pk and not group.is_active:
        raise ValidationError(_("An archived group cannot be changed."))
    group.organisation = organisation
    for name, value in data.items():
        setattr(group, name, value)
    if any(a.organisation_id != organisation.pk for a in admins):
        raise ValidationError(_("Unknown staff account."))
    if (
        WhatsAppGroup.objects.filter(organisation=organisation, name=group.name)
        .exclude(pk=group.pk)
        .exists()
    ):
        raise ValidationError(_("A group with this name exists already."))
    group.full_clean()
    group.save()
    group.admins.set(admins)
    return group


@transaction.atomic
def group_archive(*, group: WhatsAppGroup) -> WhatsAppGroup:
    """Archive a group: its invite link stops working (410) and its history stays."""
    group = WhatsAppGroup.objects.select_for_update().get(pk=group.pk)
    if not group.is_active:
        raise ValidationError(_("This group is archived already."))
    group.status = WhatsAppGroup.Status.ARCHIVED
    group.archived_at = timezone.now()
    group.save(update_fields=["status", "archived_at"])
    return group


def _current_membership(group, subject):
    return GroupMembership.objects.filter(group=group, subject=subject).current().first()


def group_audience(group: WhatsAppGroup) -> str:
    """The kind of person a group is for: employees in a staff group, customers otherwise."""
    if group.kind == WhatsAppGroup.Kind.EMPLOYEES:
        return DataSubject.Kind.EMPLOYEE
    return DataSubject.Kind.CUSTOMER


@transaction.atomic
def group_join_via_invite(
    *,
    group: WhatsAppGroup,
    full_name: str,
    phone,
    act: ConsentAct,
    language: str,
) -> GroupMembership | None:
    """The opt-in remedy of DOMAIN.md "Groups": the person consents themself to the group's
    purpose (and any other purpose they ticked) before they ever see the WhatsApp link.

    The consent goes through consents.services (channel "invite_link", by the person, nobody
    recorded it for them, with IP and browser as proof: GDPR Art. 7(1)). An invite is not
    personal: for a number whose refusal or withdrawal of the group's purpose is on record, the
    answer waits for the person's confirmation through their personal link
    (consents.rules.ensure_attributable) and None is returned: no membership, no WhatsApp link.
    """
    if not group.is_active:
        raise ValidationError(_("This group is closed."))
    granted = {d.purpose.pk for d in act.decisions if d.action == Action.GRANTED}
    if group.purpose_id not in granted:
        raise ValidationError(_("To join the group, agree to joining it."))
    organisation = group.organisation
    person = PersonDetails(
        phone=phone, full_name=full_name, kind=group_audience(group), preferred_language=language
    )
    subject = DataSubject.objects.filter(organisation=organisation, phone=phone).first()
    if subject is not None and (subject.is_hidden or subject.is_restricted):
        # Blocked, purged or restricted (LOPDGDD Art. 32, GDPR Art. 18): nothing is recorded,
        # and the public page must not say why: the same answer as for an earlier refusal.
        return None
    # A number that objected to marketing: that grant is quietly not recorded (GDPR Art. 21(3)).
    decisions = consent_services.without_suppressed_marketing(
        organisation=organisation, phone=phone, decisions=list(act.decisions)
    )
    if subject is not None:
        decisions, waiting = consent_services.split_unattributable(
            subject=subject, decisions=decisions, personal=False
        )
        for decision in waiting:
            consent_services.unconfirmed_answer_keep(
                subject=subject, decision=decision, act=act, source=str(group)
            )
        if group.purpose_id not in {d.purpose.pk for d in decisions}:
            return None
    result = consent_services.consent_capture(
        organisation=organisation, person=person, act=act.but(decisions=decisions)
    )
    event = next(e for e in result.events if e.purpose_id == group.purpose_id)
    membership = _current_membership(group, result.subject)
    if membership is None:
        membership = GroupMembership.objects.create(
            organisation=organisation,
            group=group,
            subject=result.subject,
            joined_via=GroupMembership.JoinedVia.INVITE_LINK_WITH_CONSENT,
            joined_at=event.captured_at,
            consent_event=event,
        )
    elif membership.consent_event_id != event.pk:
        # Added by an admin before, consenting now: the stay is the same, its consent is new.
        membership.consent_event = event
        membership.save(update_fields=["consent_event"])
    return membership


@transaction.atomic
def group_member_add(
    *,
    group: WhatsAppGroup,
    phone,
    full_name: str = "",
    added_by: User | None,
    joined_at=None,
) -> GroupMembership:
    """Record someone an admin added by number. Allowed, because it happens, but the membership is
    flagged until the person consents to the group's purpose (DOMAIN.md "Groups")."""
    if not group.is_active:
        raise ValidationError(_("An archived group cannot be changed."))
    organisation = group.organisation
    subject, _created = consent_services.subject_find_or_create(
        organisation=organisation,
        person=PersonDetails(
            phone=phone,
            full_name=full_name.strip() or phone.as_international,
            kind=group_audience(group),
        ),
    )
    if _current_membership(group, subject) is not None:
        raise ValidationError(_("%(name)s is in this group already.") % {"name": subject.full_name})
    state = ConsentState.objects.filter(
        subject=subject, purpose=group.purpose, action=Action.GRANTED
    ).first()
    return GroupMembership.objects.create(
        organisation=organisation,
        group=group,
        subject=subject,
        joined_via=GroupMembership.JoinedVia.ADDED_BY_ADMIN,
        joined_at=joined_at or timezone.now(),
        consent_event=state.event if state else None,
        added_by=added_by,
    )


@transaction.atomic
def group_member_leave(*, membership: GroupMembership, left_at=None) -> GroupMembership:
    """Mark that a person left the group; the stay is kept (GDPR Art. 19: recipients to tell)."""
    membership = GroupMembership.objects.select_for_update().get(pk=membership.pk)
    if membership.left_at is not None:
        raise ValidationError(_("This person has left the group already."))
    membership.left_at = left_at or timezone.now()
    membership.save(update_fields=["left_at"])
    return membership


# --- roster checks --------------------------------------------------------------------------

# Cells of a CSV line or a pasted list: commas, semicolons, tabs and line breaks separate them.
_CELL_SPLIT = re.compile(r"[,;\t\r\n]+")
MAX_ROSTER_LINES = 5000

ROSTER_CATEGORIES = ("valid", "withdrawn", "no_consent", "unknown", "missing", "unreadable")


# WhatsApp copies numbers wrapped in direction marks and with no-break spaces,
# and people write the prefix in brackets: "(+34) 600…". Both are tidied before parsing.
_INVISIBLE = re.compile(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BRACKETED_PREFIX = re.compile(r"^\((\+?\d{1,4})\)")


def _tidy(cell: str) -> str:
    cell = _INVISIBLE.sub("", cell).replace("\xa0", " ").strip().strip('"').strip()
    return _BRACKETED_PREFIX.sub(r"\1", cell)


@dataclass
class RosterReading:
    numbers: list = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def roster_parse(*, text: str, region: str) -> RosterReading:
    """Phone numbers in any format, one per line or in a CSV column; other cells (names, a
    header) are skipped and each line without a number is reported, never guessed."""
    reading = RosterReading()
    seen = set()
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if len(lines) > MAX_ROSTER_LINES:
        raise ValidationError(_("Paste at most %(n)s lines at a time.") % {"n": MAX_ROSTER_LINES})
    for line in lines:
        found = None
        for cell in _CELL_SPLIT.split(line):
            found = try_parse_phone(_tidy(cell), region)
            if found is not None:
                break
        if found is None:
            reading.unreadable.append(line.strip()[:60])
        elif found.as_e164 not in seen:
            seen.add(found.as_e164)
            reading.numbers.append(found)
    return reading


def roster_reconcile(*, group: WhatsAppGroup, numbers) -> dict:
    """Sort the group's real participants against the register and the group purpose's state.

    valid: consent granted now; withdrawn: consent withdrawn; no_consent: in the register but
    never granted (or refused); unknown: not in the register; missing: recorded as in the group
    but not in the pasted list.
    """
    present = {n.as_e164 for n in numbers}
    # Blocked people are not in the normal register (LOPDGDD Art. 32): their number counts as
    # unknown, with no name (and roster_check_record records nothing about them).
    subjects = {
        s.phone.as_e164: s
        for s in DataSubject.objects.filter(
            organisation=group.organisation, phone__in=present
        ).visible()
    }
    states = {
        s.subject_id: s.action
        for s in ConsentState.objects.filter(purpose=group.purpose, subject__in=subjects.values())
    }
    results = {category: [] for category in ROSTER_CATEGORIES}
    for number in sorted(present):
        subject = subjects.get(number)
        if subject is None:
            results["unknown"].append({"phone": number})
            continue
        action = states.get(subject.pk)
        category = {Action.GRANTED: "valid", Action.WITHDRAWN: "withdrawn"}.get(
            action, "no_consent"
        )
        results[category].append(
            {"phone": number, "subject": subject.pk, "name": subject.full_name}
        )
    for membership in (
        GroupMembership.objects.filter(group=group)
        .current()
        .filter(of_visible_subjects())
        .select_related("subject")
    ):
        if membership.subject.phone.as_e164 not in present:
            results["missing"].append(
                {
                    "phone": membership.subject.phone.as_e164,
                    "subject": membership.subject_id,
                    "name": membership.subject.full_name,
                    "membership": membership.pk,
                }
            )
    return results


@transaction.atomic
def roster_check_create(*, group: WhatsAppGroup, text: str, checked_by: User) -> RosterCheck:
    """Reconcile a pasted or uploaded participant list; nothing in the register changes yet."""
    reading = roster_parse(text=text, region=group.organisation.country)
    if not reading.numbers:
        raise ValidationError(
            _("No phone number found: paste one number per line, or upload a CSV file.")
        )
    results = roster_reconcile(group=group, numbers=reading.numbers)
    results["unreadable"] = [{"line": line} for line in reading.unreadable]
    return RosterCheck.objects.create(
        organisation=group.organisation,
        group=group,
        checked_by=checked_by,
        pasted_count=len(reading.numbers),
        results=results,
    )


@transaction.atomic
def roster_check_record(*, check: RosterCheck, recorded_by: User) -> RosterCheck:
    """Make the checked list the group's current roster: people found in the group but not
    recorded become members "added by an admin" (flagged until they consent), recorded members
    missing from the list are marked as left. Earlier stays are kept."""
    check = RosterCheck.objects.select_for_update().select_related("group").get(pk=check.pk)
    group = check.group
    if check.recorded_as_roster:
        raise ValidationError(_("This check was recorded as the roster already."))
    if not group.is_active:
        raise ValidationError(_("An archived group cannot be changed."))
    latest = RosterCheck.objects.filter(group=group).order_by("-checked_at", "-pk").first()
    if latest.pk != check.pk:
        raise ValidationError(_("A newer check exists: record that one instead."))
    now = timezone.now()
    region = group.organisation.country
    for category in ("valid", "withdrawn", "no_consent", "unknown"):
        for row in check.results.get(category, []):
            phone = try_parse_phone(row["phone"], region)
            subject = DataSubject.objects.filter(organisation=group.organisation, phone=phone)
            if subject.hidden().exists():
                continue  # nothing is recorded about a blocked person (consents.rules)
            if subject.exists() and _current_membership(group, subject.first()) is not None:
                continue
            group_member_add(group=group, phone=phone, added_by=recorded_by, joined_at=now)
    for row in check.results.get("missing", []):
        membership = GroupMembership.objects.filter(pk=row["membership"], group=group).current()
        if membership.exists():
            group_member_leave(membership=membership.get(), left_at=now)
    check.recorded_as_roster = True
    check.recorded_at = now
    check.save(update_fields=["recorded_as_roster", "recorded_at"])
    return check


# --- usage policy ---------------------------------------------------------------------------


def policy_save_draft(
    *, policy: UsagePolicyVersion, organisation: Organisation, data: dict, created_by: User
) -> UsagePolicyVersion:
    """Draft a policy version. A published version is frozen: what people acknowledged must be
    exactly what can be shown later."""
    if policy.pk and policy.is_published:
        raise ValidationError(
            _("A published policy cannot be changed. Draft a new version instead.")
        )
    policy.organisation = organisation
    if policy.created_by_id is None:
        policy.created_by = created_by
    for name, value in data.items():
        setattr(policy, name, value)
    policy.full_clean()
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        raise ValidationError(_("This version label is used already.")) from None
    return policy


def _policy_ready(policy: UsagePolicyVersion) -> None:
    if not policy.text.strip():
        raise ValidationError(_("A policy needs a text."))


def policy_publish(
    *, policy: UsagePolicyVersion, published_by: User | None = None, request=None
) -> UsagePolicyVersion:
    """Freeze the text and its SHA-256 (invariant 4); members are then asked to acknowledge this
    version (DOMAIN.md question 7). Who published it is audited (invariant 6)."""
    return version_publish(
        version=policy, published_by=published_by, request=request, require=_policy_ready
    )


@transaction.atomic
def policy_acknowledge(
    *, policy: UsagePolicyVersion, user: User, ip_address: str | None
) -> PolicyAcknowledgement:
    """A member says they read this version (DOMAIN.md question 7). Once per version."""
    if not policy.is_published:
        raise ValidationError(_("Only a published policy can be acknowledged."))
    if not Membership.objects.filter(user=user, organisation=policy.organisation_id).exists():
        raise ValidationError(_("Only members of the organisation acknowledge its policy."))
    acknowledgement, _created = PolicyAcknowledgement.objects.get_or_create(
        policy=policy,
        user=user,
        defaults={"organisation_id": policy.organisation_id, "ip_address": ip_address},
    )
    return acknowledgement
