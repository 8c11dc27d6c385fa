import pytest
from django.urls import reverse

from accounts.roles import Role
from consents import demo as consents_demo
from consents.models import NoticeVersion
from groups import demo
from groups.checklist import answers, marketing_without_consent
from groups.models import GroupMembership, StaffAccount, WhatsAppGroup
from tests.accounts.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.consents.factories import PurposeFactory, published_notice

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic():
    org = OrganisationFactory(slug="sonrisa", legal_name="Clínica Dental Sonrisa S.L.")
    for email, role in (
        ("dpo@sonrisa.example", Role.DPO),
        ("staff@sonrisa.example", Role.STAFF),
        ("auditor@sonrisa.example", Role.AUDITOR),
    ):
        MembershipFactory(organisation=org, role=role, user=UserFactory(email=email))
    consents_demo.load(organisation=org)
    demo.load(organisation=org)
    return org


def test_the_demo_is_idempotent(clinic):
    assert "exist already" in demo.load(organisation=clinic)
    assert WhatsAppGroup.objects.filter(organisation=clinic).count() == 2


def test_the_checklist_answers_the_eight_questions_from_the_demo_data(clinic):
    result = {a.number: a for a in answers(clinic)}
    # The ninth and tenth come from the rights-request register and the record of processing
    # (settings.CHECKLIST_QUESTIONS).
    assert sorted(result) == list(range(1, 11))
    assert result[9].question == "Were all rights requests answered on time?"
    assert result[10].status == "no"  # this clinic has recorded no processing activity
    missing = marketing_without_consent(clinic)
    assert missing > 0
    assert result[1].status == "partly"
    assert result[1].figure == f"{missing} marketing recipients without consent"
    assert result[2].status == "partly"
    assert result[2].figure == "Group “Pacientes ortodoncia” has 4 members without consent"
    assert result[3].status == "yes"
    assert result[4].status == "yes"
    assert result[4].figure.startswith("11 of 11 current notices mention")
    assert result[5].status == "yes"
    assert (result[6].status, result[6].figure) == (
        "partly",
        "1 staff account is a personal number",
    )
    assert (result[7].status, result[7].figure) == (
        "partly",
        "2 members have not acknowledged the policy",
    )
    assert (result[8].status, result[8].figure) == ("yes", "Version 2026-01 published")


def test_the_employees_group_joined_through_the_invite_with_consent(clinic):
    team = WhatsAppGroup.objects.get(organisation=clinic, name="Equipo clínica")
    memberships = GroupMembership.objects.filter(group=team)
    assert memberships.exists()
    assert all(m.consent_event and m.consent_event.by_subject for m in memberships)


def test_an_empty_organisation_answers_no_where_nothing_exists(org):
    result = {a.number: a.status for a in answers(org)}
    assert result == {
        **{1: "no", 2: "yes", 3: "no", 4: "no", 5: "no", 6: "no", 7: "no", 8: "no"},
        9: "yes",  # no rights request was due, so none was late
        10: "no",  # no processing activity recorded
    }


def test_the_dashboard_shows_the_checklist_and_the_policy_banner(client_for, clinic):
    staff = clinic.memberships.get(role=Role.STAFF).user
    body = client_for(staff).get(reverse("accounts:dashboard", args=[clinic.slug])).content
    body = body.decode()
    assert "WhatsApp checklist" in body
    assert "has 4 members without consent" in body
    assert 'data-testid="policy-banner"' in body
    dpo = clinic.memberships.get(role=Role.DPO).user
    body = client_for(dpo).get(reverse("accounts:dashboard", args=[clinic.slug])).content
    assert b'data-testid="policy-banner"' not in body


def test_a_personal_admin_number_flags_the_group(clinic):
    from groups.selectors import group_flags

    ortho = WhatsAppGroup.objects.get(organisation=clinic, name="Pacientes ortodoncia")
    flags = group_flags(ortho)
    assert [a.number_type for a in flags.personal_admins] == [StaffAccount.NumberType.PERSONAL]
    assert flags.without_consent == 4


def test_the_policy_banner_follows_a_member_on_every_page_until_they_acknowledge(
    client_for, clinic
):
    staff = clinic.memberships.get(role=Role.STAFF).user
    client = client_for(staff)
    people = reverse("consents:subjects", kwargs={"org_slug": clinic.slug})
    assert 'data-testid="policy-banner"' in client.get(people).content.decode()
    acknowledge = reverse("groups:policy_acknowledge", kwargs={"org_slug": clinic.slug})
    assert 'data-testid="policy-banner"' not in client.get(acknowledge).content.decode()
    client.post(acknowledge)
    assert 'data-testid="policy-banner"' not in client.get(people).content.decode()


# Question 4 reads the fact recorded on each notice, so a notice in any language can pass.
NOTICES = {
    "es": ("Aviso", "Sus datos pueden transferirse a Estados Unidos (WhatsApp)."),
    "en": ("Notice", "Your data may be transferred to the United States (WhatsApp)."),
    "ar": ("إشعار", "قد تُنقل بياناتك إلى الولايات المتحدة (واتساب) وفق إطار خصوصية البيانات."),
}


def _notices(org, informing: set[str]):
    purpose = PurposeFactory(organisation=org, code="marketing", name="Ofertas")
    for language, (title, text) in NOTICES.items():
        published_notice(
            purposes=[purpose],
            language=language,
            title=title,
            text=text,
            informs_international_transfers=language in informing,
            transfer_safeguards="EU-US Data Privacy Framework" if language in informing else "",
        )


def test_an_arabic_notice_that_records_transfers_passes_question_4(org):
    _notices(org, informing={"es", "en", "ar"})
    answer = {a.number: a for a in answers(org)}[4]
    assert answer.status == "yes"
    assert answer.figure == "3 of 3 current notices mention international transfers"


def test_words_in_the_text_do_not_count_without_the_recorded_fact(org):
    # The English and Spanish texts say "transfer"/"transferirse", but only Arabic records it.
    _notices(org, informing={"ar"})
    answer = {a.number: a for a in answers(org)}[4]
    assert answer.status == "partly"
    assert answer.figure == "1 of 3 current notices mention international transfers"


def test_the_demo_notices_record_their_transfers(clinic):
    notices = NoticeVersion.objects.filter(organisation=clinic)
    assert notices.exists()
    assert all(n.informs_international_transfers and n.transfer_safeguards for n in notices)
