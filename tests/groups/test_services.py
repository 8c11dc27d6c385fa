import pytest
from django.core.exceptions import ValidationError

from consents import services as consent_services
from consents.acts import ConsentAct, Decision
from consents.models import Action, Channel, ConsentEvent, PurposeCategory
from consents.phones import parse_phone
from groups import services
from groups.models import GroupMembership, StaffAccount, UsagePolicyVersion, WhatsAppGroup
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, withdraw
from tests.groups.factories import WhatsAppGroupFactory, group_purpose, group_with_notice

pytestmark = pytest.mark.django_db

VALID_URL = "https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv"


def _data(purpose, **extra):
    return {
        "name": "Pacientes ortodoncia",
        "purpose": purpose,
        "kind": WhatsAppGroup.Kind.CUSTOMERS,
        "invite_url": VALID_URL,
        **extra,
    }


def test_a_group_needs_a_group_membership_purpose(org):
    marketing = PurposeFactory(organisation=org, category=PurposeCategory.MARKETING)
    with pytest.raises(ValidationError, match="WhatsApp group membership"):
        services.group_save(
            group=WhatsAppGroup(), organisation=org, data=_data(marketing), admins=[]
        )
    assert not WhatsAppGroup.objects.exists()


def test_a_group_refuses_an_invite_link_that_is_not_whatsapp(org):
    for url in (
        "https://example.com/AbCdEfGhIjKlMnOpQrStUv",
        "http://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrSt",
        "https://chat.whatsapp.com/short",
    ):
        with pytest.raises(ValidationError, match="invite link"):
            services.group_save(
                group=WhatsAppGroup(),
                organisation=org,
                data=_data(group_purpose(org), invite_url=url),
                admins=[],
            )


def test_a_group_gets_an_unguessable_invite_token(org):
    group = services.group_save(
        group=WhatsAppGroup(), organisation=org, data=_data(group_purpose(org)), admins=[]
    )
    other = WhatsAppGroupFactory(organisation=org)
    assert len(group.invite_token) >= 40
    assert group.invite_token != other.invite_token


def test_another_organisations_purpose_or_admin_is_refused(org, other_org):
    with pytest.raises(ValidationError):
        services.group_save(
            group=WhatsAppGroup(), organisation=org, data=_data(group_purpose(other_org)), admins=[]
        )
    account = StaffAccount.objects.create(
        organisation=other_org, phone="+34611000001", number_type="business", app="consumer"
    )
    with pytest.raises(ValidationError, match="Unknown staff account"):
        services.group_save(
            group=WhatsAppGroup(),
            organisation=org,
            data=_data(group_purpose(org)),
            admins=[account],
        )


def test_archiving_a_group_keeps_it_with_a_date_and_refuses_changes(org):
    group = WhatsAppGroupFactory(organisation=org)
    services.group_archive(group=group)
    group.refresh_from_db()
    assert group.status == WhatsAppGroup.Status.ARCHIVED and group.archived_at
    with pytest.raises(ValidationError, match="archived"):
        services.group_archive(group=group)
    with pytest.raises(ValidationError, match="archived"):
        services.group_save(group=group, organisation=org, data={"name": "x"}, admins=[])


def test_group_changes_are_kept_in_history(org):
    group = WhatsAppGroupFactory(organisation=org)
    services.group_archive(group=group)
    assert group.history.count() == 2


def test_joining_via_invite_records_consent_by_the_person_and_the_membership(org):
    group = group_with_notice(org)
    notice = consent_services.NoticeVersion.objects.current_for(group.purpose, "es")
    membership = services.group_join_via_invite(
        group=group,
        full_name="Lucía Pérez",
        phone=parse_phone("600 12 34 56", "ES"),
        language="es",
        act=ConsentAct(
            decisions=[Decision(group.purpose, Action.GRANTED, notice)],
            channel=Channel.INVITE_LINK,
            by_subject=True,
            ip_address="203.0.113.9",
            user_agent="Mobile Safari",
        ),
    )
    event = membership.consent_event
    assert membership.joined_via == GroupMembership.JoinedVia.INVITE_LINK_WITH_CONSENT
    assert event.channel == Channel.INVITE_LINK and event.by_subject
    assert event.recorded_by is None and event.ip_address == "203.0.113.9"
    assert event.notice_version == notice and event.purpose == group.purpose


def test_joining_without_consent_to_the_group_purpose_records_nothing(org):
    group = group_with_notice(org)
    with pytest.raises(ValidationError, match="agree"):
        services.group_join_via_invite(
            group=group,
            full_name="Lucía",
            phone=parse_phone("600123456", "ES"),
            language="es",
            act=ConsentAct(
                decisions=[],
                channel=Channel.INVITE_LINK,
                by_subject=True,
                ip_address=None,
                user_agent="",
            ),
        )
    assert not ConsentEvent.objects.exists()
    assert not GroupMembership.objects.exists()


def test_a_member_added_by_number_has_no_consent_until_they_give_it(org, staff):
    group = group_with_notice(org)
    membership = services.group_member_add(
        group=group, phone=parse_phone("+34 600 99 88 77", "ES"), full_name="Ana", added_by=staff
    )
    assert membership.joined_via == GroupMembership.JoinedVia.ADDED_BY_ADMIN
    assert membership.consent_event is None and membership.added_by == staff
    with pytest.raises(ValidationError, match="in this group already"):
        services.group_member_add(group=group, phone=parse_phone("600998877", "ES"), added_by=staff)


def test_a_member_who_left_keeps_the_stay_and_may_join_again(org, staff):
    group = group_with_notice(org)
    phone = parse_phone("600998877", "ES")
    first = services.group_member_add(group=group, phone=phone, full_name="Ana", added_by=staff)
    services.group_member_leave(membership=first)
    with pytest.raises(ValidationError, match="left"):
        services.group_member_leave(membership=first)
    services.group_member_add(group=group, phone=phone, added_by=staff)
    assert GroupMembership.objects.filter(group=group).count() == 2
    assert GroupMembership.objects.filter(group=group).current().count() == 1


def test_staff_account_numbers_are_unique_per_organisation(org):
    data = {
        "phone": parse_phone("611 22 33 44", "ES"),
        "label": "Recepción",
        "employee": None,
        "number_type": StaffAccount.NumberType.PERSONAL,
        "app": StaffAccount.App.CONSUMER,
        "active": True,
    }
    services.staff_account_save(account=StaffAccount(), organisation=org, data=data)
    with pytest.raises(ValidationError, match="registered already"):
        services.staff_account_save(account=StaffAccount(), organisation=org, data=data)


def test_a_published_policy_is_frozen(org, dpo):
    policy = services.policy_save_draft(
        policy=UsagePolicyVersion(),
        organisation=org,
        data={"version": "2026-01", "text": "Solo números de empresa."},
        created_by=dpo,
    )
    services.policy_publish(policy=policy)
    policy.refresh_from_db()
    assert policy.sha256 == policy.content_digest()
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.policy_save_draft(
            policy=policy, organisation=org, data={"text": "Otra cosa"}, created_by=dpo
        )
    policy.text = "Otra cosa"
    with pytest.raises(ValidationError, match="cannot be changed"):
        policy.full_clean()


def test_a_member_acknowledges_a_policy_version_once(org, staff, outsider):
    policy = UsagePolicyVersion.objects.create(organisation=org, version="v1", text="Reglas")
    with pytest.raises(ValidationError, match="published"):
        services.policy_acknowledge(policy=policy, user=staff, ip_address=None)
    policy = services.policy_publish(policy=policy)
    first = services.policy_acknowledge(policy=policy, user=staff, ip_address="198.51.100.1")
    again = services.policy_acknowledge(policy=policy, user=staff, ip_address="198.51.100.2")
    assert first.pk == again.pk and again.ip_address == "198.51.100.1"
    with pytest.raises(ValidationError, match="members"):
        services.policy_acknowledge(policy=policy, user=outsider, ip_address=None)


def test_a_withdrawn_member_is_flagged(org):
    from groups.selectors import group_flags

    group = group_with_notice(org)
    subject = DataSubjectFactory(organisation=org)
    notice = consent_services.NoticeVersion.objects.current_for(group.purpose, "es")
    grant(subject, group.purpose, notice)
    services.group_member_add(group=group, phone=subject.phone, added_by=None)
    services.group_member_add(group=group, phone=parse_phone("600111222", "ES"), added_by=None)
    assert group_flags(group).without_consent == 1
    withdraw(subject, group.purpose)
    flags = group_flags(group)
    assert (flags.without_consent, flags.withdrawn) == (1, 1)
    assert not flags.mixes_customers_and_employees
