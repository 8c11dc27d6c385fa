"""What each right does to the person's data (rights_requests.fulfilment), service by service."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from consents import chain, services
from consents.acts import ConsentAct, Decision, PersonDetails
from consents.models import (
    Action,
    Channel,
    ConsentEvent,
    ConsentLink,
    ConsentState,
    DataSubject,
    PurposeCategory,
    SuppressedNumber,
)
from consents.phones import parse_phone
from consents.selectors import is_suppressed, subject_search
from groups.models import GroupMembership
from rights_requests import fulfilment
from rights_requests.choices import ErasureException, RequestChannel, RequestStatus, Right
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice
from tests.rights_requests.fulfil_factories import group_member, rights_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def purposes(org):
    marketing = PurposeFactory(organisation=org, code="offers", name="Ofertas")
    newsletter = PurposeFactory(organisation=org, code="news", name="Boletín")
    appointments = PurposeFactory(
        organisation=org, code="citas", name="Citas", category=PurposeCategory.APPOINTMENTS
    )
    notice = published_notice(purposes=[marketing, newsletter, appointments])
    return {"offers": marketing, "news": newsletter, "citas": appointments, "notice": notice}


@pytest.fixture
def person(org, purposes):
    subject = DataSubjectFactory(
        organisation=org, full_name="Lucía Pérez", phone="+34612345678", email="lucia@example.org"
    )
    for code in ("offers", "news", "citas"):
        grant(subject, purposes[code], purposes["notice"])
    return subject


def _ledger_ok(org) -> bool:
    return services.ledger_verify(organisation=org).ok


# --- may it be carried out? -----------------------------------------------------------------


def test_an_unverified_identity_is_refused_and_nothing_changes(person, dpo):
    request = rights_request(person, Right.WITHDRAWAL, verified=False)
    with pytest.raises(ValidationError, match="not verified"):
        fulfilment.withdrawal_carry_out(rights_request=request, user=dpo)
    assert not ConsentState.objects.filter(subject=person, action=Action.WITHDRAWN).exists()
    request.refresh_from_db()
    assert request.carried_out_at is None


def test_a_request_through_the_persons_own_link_needs_no_separate_verification(person, dpo):
    request = rights_request(
        person, Right.WITHDRAWAL, verified=False, channel=RequestChannel.PERSONAL_LINK
    )
    fulfilment.withdrawal_carry_out(rights_request=request, user=dpo)
    assert request.carried_out_at is not None


def test_a_closed_request_and_a_second_carry_out_are_refused(person, dpo):
    closed = rights_request(person, Right.WITHDRAWAL, status=RequestStatus.REJECTED)
    with pytest.raises(ValidationError, match="closed"):
        fulfilment.withdrawal_carry_out(rights_request=closed, user=dpo)
    request = rights_request(person, Right.WITHDRAWAL)
    fulfilment.withdrawal_carry_out(rights_request=request, user=dpo)
    events = ConsentEvent.objects.count()
    with pytest.raises(ValidationError, match="carried out already"):
        fulfilment.withdrawal_carry_out(rights_request=request, user=dpo)
    assert ConsentEvent.objects.count() == events


def test_a_request_must_be_matched_to_a_person_and_carried_out_as_its_own_right(org, dpo, person):
    unmatched = rights_request(None, Right.WITHDRAWAL, organisation=org)
    with pytest.raises(ValidationError, match="Match the request"):
        fulfilment.withdrawal_carry_out(rights_request=unmatched, user=dpo)
    access = rights_request(person, Right.ACCESS)
    with pytest.raises(ValidationError, match="cannot be carried out as another right"):
        fulfilment.withdrawal_carry_out(rights_request=access, user=dpo)


# --- rectification --------------------------------------------------------------------------


def test_rectification_keeps_before_and_after_and_leaves_the_ledger_untouched(org, person, dpo):
    group_member(person, group_name="Pacientes")
    hmacs = list(ConsentEvent.objects.values_list("hash", "subject_hmac"))
    before = chain.identifiers_hmac(person.identifiers())
    request = rights_request(person, Right.RECTIFICATION)

    fulfilment.rectification_carry_out(
        rights_request=request,
        user=dpo,
        changes={"full_name": "Lucía Pérez Gil", "phone": parse_phone("611 22 33 44", "ES")},
    )

    person.refresh_from_db()
    assert person.full_name == "Lucía Pérez Gil" and person.phone.as_e164 == "+34611223344"
    latest, previous = person.history.all()[:2]
    assert (previous.full_name, latest.full_name) == ("Lucía Pérez", "Lucía Pérez Gil")
    assert (previous.phone.as_e164, latest.phone.as_e164) == ("+34612345678", "+34611223344")
    assert latest.history_user == dpo
    # The ledger still holds the old identity's fingerprint, and still verifies.
    assert list(ConsentEvent.objects.values_list("hash", "subject_hmac")) == hmacs
    assert {h for _e, h in hmacs} == {before}
    assert _ledger_ok(org)
    summary = request.carried_out
    assert summary["fields"] == ["full_name", "phone"] and summary["ledger"] == "untouched"
    kinds = [(r["kind"], r.get("name")) for r in summary["recipients"]]
    assert ("whatsapp_group", "Pacientes") in kinds and ("processor", "WhatsApp (Meta)") in kinds


def test_rectification_to_another_persons_number_or_to_nothing_is_refused(org, person, dpo):
    DataSubjectFactory(organisation=org, phone="+34699000111")
    request = rights_request(person, Right.RECTIFICATION)
    with pytest.raises(ValidationError, match="Another person"):
        fulfilment.rectification_carry_out(
            rights_request=request, user=dpo, changes={"phone": parse_phone("699000111", "ES")}
        )
    with pytest.raises(ValidationError, match="Nothing to rectify"):
        fulfilment.rectification_carry_out(
            rights_request=request, user=dpo, changes={"full_name": "Lucía Pérez"}
        )
    request.refresh_from_db()
    person.refresh_from_db()
    assert request.carried_out_at is None and person.phone.as_e164 == "+34612345678"


# --- erasure --------------------------------------------------------------------------------


def test_erasure_withdraws_every_consent_blocks_and_sets_the_purge_date(org, person, dpo):
    group = group_member(person, group_name="Pacientes").group
    link = services.consent_link_for_subject(subject=person, created_by=dpo)
    request = rights_request(person, Right.ERASURE)

    with time_machine.travel(datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.UTC)):
        fulfilment.erasure_carry_out(rights_request=request, user=dpo)

    person.refresh_from_db()
    assert person.status == DataSubject.Status.BLOCKED
    assert person.purge_after == datetime.date(2029, 3, 10)  # 3 years, the default period
    assert person.erasure_request_pk == request.pk
    withdrawals = ConsentEvent.objects.filter(subject=person, action=Action.WITHDRAWN)
    assert withdrawals.count() == 3
    assert set(withdrawals.values_list("idempotency_key", flat=True)) == {
        f"rights-request-{request.pk}-erasure"
    }
    assert all(e.proof.note.startswith("Rights request") for e in withdrawals)
    assert str(request.pk) in withdrawals.first().proof.note
    assert request.carried_out["withdrawn_events"] == sorted(
        withdrawals.values_list("sequence", flat=True)
    )
    assert not GroupMembership.objects.filter(subject=person).current().exists()
    assert request.carried_out["groups_left"] == [group.pk]
    link.refresh_from_db()
    assert link.is_revoked
    assert _ledger_ok(org)
    # Blocked: out of search, and nothing more can be recorded for the number.
    assert not subject_search(org, "Lucía").exists()
    assert not subject_search(org, "612 34 56 78").exists()
    with pytest.raises(ValidationError, match="blocked"):
        services.consent_capture(
            organisation=org,
            person=PersonDetails(phone=parse_phone("612345678", "ES"), full_name="Lucía"),
            act=ConsentAct(
                decisions=[Decision(PurposeFactory(organisation=org), Action.REFUSED)],
                channel=Channel.IN_PERSON,
                recorded_by=dpo,
            ),
        )


def test_an_exception_over_all_the_data_erases_nothing_and_says_why(org, person, dpo):
    request = rights_request(person, Right.ERASURE)
    fulfilment.erasure_carry_out(
        rights_request=request,
        user=dpo,
        exception=ErasureException.LEGAL_CLAIMS,
        exception_scope=fulfilment.SCOPE_ALL,
        exception_note="Pending claim 123/2026 before the courts of Madrid.",
    )
    person.refresh_from_db()
    request.refresh_from_db()
    assert person.status == DataSubject.Status.ACTIVE
    assert not ConsentEvent.objects.filter(action=Action.WITHDRAWN).exists()
    assert request.erasure_exception == ErasureException.LEGAL_CLAIMS
    assert request.carried_out["erased"] is False
    assert "123/2026" in request.carried_out["exception_note"]


def test_an_exception_over_part_blocks_and_keeps_until_a_later_date(org, person, dpo):
    request = rights_request(person, Right.ERASURE)

    def keep_invoices_until(day):
        fulfilment.erasure_carry_out(
            rights_request=request,
            user=dpo,
            exception=ErasureException.LEGAL_OBLIGATION,
            exception_scope=fulfilment.SCOPE_PART,
            exception_note="Invoices: 6 years (Código de Comercio art. 30).",
            keep_until=day,
        )

    too_soon = timezone.localdate() + datetime.timedelta(days=30)
    with pytest.raises(ValidationError, match="Keep the data until after"):
        keep_invoices_until(too_soon)
    person.refresh_from_db()
    assert person.status == DataSubject.Status.ACTIVE
    later = timezone.localdate() + datetime.timedelta(days=6 * 365)
    keep_invoices_until(later)
    person.refresh_from_db()
    assert person.status == DataSubject.Status.BLOCKED and person.purge_after == later


def test_an_exception_needs_its_scope_and_what_it_keeps(person, dpo):
    request = rights_request(person, Right.ERASURE)
    with pytest.raises(ValidationError, match="all of the data or part"):
        fulfilment.erasure_carry_out(
            rights_request=request, user=dpo, exception=ErasureException.ARCHIVING
        )
    with pytest.raises(ValidationError, match="what the Art. 17\\(3\\) exception keeps"):
        fulfilment.erasure_carry_out(
            rights_request=request,
            user=dpo,
            exception=ErasureException.ARCHIVING,
            exception_scope=fulfilment.SCOPE_ALL,
        )


# --- restriction ----------------------------------------------------------------------------


def test_restriction_refuses_capture_and_links_until_it_is_lifted(org, person, purposes, dpo):
    request = rights_request(person, Right.RESTRICTION)
    fulfilment.restriction_carry_out(rights_request=request, user=dpo, ground="accuracy")
    person.refresh_from_db()
    assert person.status == DataSubject.Status.RESTRICTED
    assert person.restriction_request_pk == request.pk
    # Still in the register (flagged), but nothing new is processed.
    assert subject_search(org, "Lucía").exists()
    with pytest.raises(ValidationError, match="restricted") as caught:
        grant(person, purposes["offers"], purposes["notice"])
    assert caught.value.code == "restricted"
    with pytest.raises(ValidationError, match="restricted"):
        services.consent_link_create(organisation=org, created_by=dpo, subject=person)
    # Withdrawing only reduces what is done: it still works.
    from tests.consents.factories import withdraw

    withdraw(person, purposes["news"])

    with pytest.raises(ValidationError, match="Say why"):
        fulfilment.restriction_lift(rights_request=request, user=dpo, reason=" ")
    fulfilment.restriction_lift(rights_request=request, user=dpo, reason="Data checked: correct.")
    person.refresh_from_db()
    request.refresh_from_db()
    assert person.status == DataSubject.Status.ACTIVE
    assert request.carried_out["lifted"]["reason"] == "Data checked: correct."
    assert [h.status for h in person.history.all()[:2]] == ["active", "restricted"]
    grant(person, purposes["news"], purposes["notice"])
    with pytest.raises(ValidationError, match="lifted already"):
        fulfilment.restriction_lift(rights_request=request, user=dpo, reason="Again")


# --- objection and withdrawal ---------------------------------------------------------------


def test_objection_withdraws_every_marketing_consent_and_suppresses_the_number(
    org, person, purposes, dpo
):
    request = rights_request(person, Right.OBJECTION)
    fulfilment.objection_carry_out(rights_request=request, user=dpo)

    states = dict(
        ConsentState.objects.filter(subject=person).values_list("purpose__code", "action")
    )
    assert states == {"offers": "withdrawn", "news": "withdrawn", "citas": "granted"}
    events = ConsentEvent.objects.filter(
        subject=person, idempotency_key=f"rights-request-{request.pk}-objection"
    )
    assert sorted(events.values_list("purpose__code", flat=True)) == ["news", "offers"]
    assert request.carried_out["purposes"] == ["news", "offers"]
    assert _ledger_ok(org)
    entry = SuppressedNumber.objects.get(organisation=org)
    assert entry.request_pk == request.pk and "612345678" not in entry.phone_hmac
    assert entry.phone_hmac == chain.phone_hmac(org.pk, "+34612345678")
    for typed in ("+34612345678", "612 34 56 78", "0034 612-345-678", person.phone):
        assert is_suppressed(org, typed)
    assert not is_suppressed(org, "+34699999999") and not is_suppressed(org, "not a number")
    # A new marketing grant is refused with the reason; other purposes are not affected.
    with pytest.raises(ValidationError, match="objected to direct marketing") as caught:
        grant(person, purposes["offers"], purposes["notice"])
    assert caught.value.code == "suppressed"
    grant(person, purposes["citas"], purposes["notice"])


def test_the_suppression_outlives_the_person_and_refuses_their_number_again(
    org, person, purposes, dpo
):
    fulfilment.objection_carry_out(rights_request=rights_request(person, Right.OBJECTION), user=dpo)
    DataSubject.objects.filter(pk=person.pk).update(
        phone=None, full_name="", status=DataSubject.Status.PURGED
    )
    with pytest.raises(ValidationError, match="objected to direct marketing"):
        services.consent_capture(
            organisation=org,
            person=PersonDetails(phone=parse_phone("612345678", "ES"), full_name="Otra"),
            act=ConsentAct(
                decisions=[Decision(purposes["offers"], Action.GRANTED, purposes["notice"])],
                channel=Channel.IN_PERSON,
                recorded_by=dpo,
            ),
        )


def test_withdrawal_of_all_consents_withdraws_each_one_naming_the_request(org, person, dpo):
    request = rights_request(person, Right.WITHDRAWAL)
    fulfilment.withdrawal_carry_out(rights_request=request, user=dpo)
    assert not ConsentState.objects.filter(subject=person, action=Action.GRANTED).exists()
    assert request.carried_out["purposes"] == ["citas", "news", "offers"]
    assert len(request.carried_out["withdrawn_events"]) == 3
    assert _ledger_ok(org)
    assert request.history.first().history_user == dpo
    assert not fulfilment.must_carry_out_before_answering(request)
    assert fulfilment.must_carry_out_before_answering(rights_request(person, Right.ACCESS))


def test_withdrawal_with_nothing_granted_is_carried_out_and_says_so(org, dpo):
    subject = DataSubjectFactory(organisation=org)
    request = rights_request(subject, Right.WITHDRAWAL)
    fulfilment.withdrawal_carry_out(rights_request=request, user=dpo)
    assert request.carried_out["withdrawn_events"] == []
    assert not ConsentLink.objects.exists()


def test_may_i_message_answers_no_with_the_reason_for_each_right_exercised(
    org, person, purposes, dpo
):
    from consents.selectors import may_message

    assert may_message(org, "612 34 56 78", purposes["offers"]) == (True, "")
    assert may_message(org, "+34699999999", purposes["offers"])[0] is False  # never consented
    fulfilment.objection_carry_out(rights_request=rights_request(person, Right.OBJECTION), user=dpo)
    allowed, reason = may_message(org, PHONE_TYPED, purposes["offers"])
    assert not allowed and "objected to direct marketing" in reason
    assert may_message(org, PHONE_TYPED, purposes["citas"]) == (True, "")
    fulfilment.restriction_carry_out(
        rights_request=rights_request(person, Right.RESTRICTION), user=dpo, ground="accuracy"
    )
    allowed, reason = may_message(org, PHONE_TYPED, purposes["citas"])
    assert not allowed and "restricted" in reason


PHONE_TYPED = "0034 612 345 678"
