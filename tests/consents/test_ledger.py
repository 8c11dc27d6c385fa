"""The consent ledger (ARCHITECTURE invariants 2-5): append-only, chained, derived state."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from consents import chain, services
from consents.acts import ConsentAct, Decision, PersonDetails
from consents.models import (
    Action,
    Channel,
    ConsentEvent,
    ConsentState,
    GivenBy,
    LedgerHead,
    NoticeVersion,
)
from consents.phones import parse_phone
from tests.consents.factories import DataSubjectFactory, PurposeFactory, published_notice, withdraw
from tests.consents.tampering import tamper

pytestmark = pytest.mark.django_db


@pytest.fixture
def purposes(org):
    return [PurposeFactory(organisation=org, code=c, name=c) for c in ("marketing", "documents")]


@pytest.fixture
def notice(purposes):
    return published_notice(purposes=purposes)


@pytest.fixture
def subject(org):
    return DataSubjectFactory(organisation=org, full_name="Lucía Pérez", phone="+34600123456")


def grant(org, subject, purpose, notice, **kwargs):
    kwargs.setdefault("channel", Channel.WHATSAPP)
    return services.consent_record(
        organisation=org,
        act=ConsentAct(
            subject=subject, decisions=[Decision(purpose, Action.GRANTED, notice)], **kwargs
        ),
    )


def test_one_capture_appends_one_event_per_purpose_in_a_contiguous_chain(
    org, subject, purposes, notice, staff
):
    events = services.consent_record(
        organisation=org,
        act=ConsentAct(
            subject=subject,
            decisions=[Decision(p, Action.GRANTED, notice) for p in purposes],
            channel=Channel.IN_PERSON,
            recorded_by=staff,
        ),
    )
    events += grant(org, subject, purposes[0], notice)
    assert [e.sequence for e in events] == [1, 2, 3]
    assert events[0].prev_hash == "0" * 64
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    for event in events:
        assert event.hash == chain.event_hash(event.prev_hash, event.canonical())
        assert event.notice_sha256 == notice.sha256
    head = LedgerHead.objects.get(organisation=org)
    assert (head.sequence, head.hash) == (3, events[2].hash)


def test_sequences_are_per_organisation(org, other_org, subject, purposes, notice):
    grant(org, subject, purposes[0], notice)
    other_purpose = PurposeFactory(organisation=other_org)
    other_notice = published_notice(purposes=[other_purpose])
    other_subject = DataSubjectFactory(organisation=other_org)
    (event,) = grant(other_org, other_subject, other_purpose, other_notice)
    assert event.sequence == 1


def test_a_bad_purpose_in_a_capture_records_nothing_at_all(
    org, other_org, subject, purposes, notice
):
    foreign = PurposeFactory(organisation=other_org)
    with pytest.raises(ValidationError):
        services.consent_record(
            organisation=org,
            act=ConsentAct(
                subject=subject,
                decisions=[
                    Decision(purposes[0], Action.GRANTED, notice),
                    Decision(foreign, "granted"),
                ],
                channel=Channel.WHATSAPP,
            ),
        )
    assert not ConsentEvent.objects.exists()
    assert not ConsentState.objects.exists()


def test_consent_needs_a_published_notice_covering_the_purpose(org, subject, purposes):
    draft = NoticeVersion.objects.create(
        organisation=org, language="es", version="d", title="t", summary="s", text="x"
    )
    draft.purposes.set(purposes)
    with pytest.raises(ValidationError, match="published"):
        grant(org, subject, purposes[0], draft)
    with pytest.raises(ValidationError, match="informed"):
        grant(org, subject, purposes[0], None)
    other = PurposeFactory(organisation=org)
    only_other = published_notice(purposes=[other])
    with pytest.raises(ValidationError, match="does not cover"):
        grant(org, subject, purposes[0], only_other)
    assert not ConsentEvent.objects.exists()


def test_a_refusal_is_recorded_too(org, subject, purposes, notice):
    services.consent_record(
        organisation=org,
        act=ConsentAct(
            subject=subject,
            decisions=[Decision(purposes[0], Action.REFUSED, notice)],
            channel=Channel.PHONE_CALL,
        ),
    )
    assert ConsentState.objects.get(subject=subject, purpose=purposes[0]).action == "refused"


def test_the_same_idempotency_key_records_once(org, subject, purposes, notice):
    first = grant(org, subject, purposes[0], notice, idempotency_key="form-1")
    again = grant(org, subject, purposes[0], notice, idempotency_key="form-1")
    assert [e.pk for e in again] == [e.pk for e in first]
    assert ConsentEvent.objects.count() == 1


def test_withdrawal_appends_an_event_and_updates_the_state(org, subject, purposes, notice, staff):
    grant(org, subject, purposes[0], notice)
    event = withdraw(subject, purposes[0], recorded_by=staff)
    assert event.action == Action.WITHDRAWN and event.sequence == 2
    state = ConsentState.objects.get(subject=subject, purpose=purposes[0])
    assert state.event == event and state.action == Action.WITHDRAWN


def test_nothing_to_withdraw_is_a_clear_error_and_appends_nothing(org, subject, purposes):
    with pytest.raises(ValidationError, match="no consent to withdraw"):
        withdraw(subject, purposes[0])
    assert not ConsentEvent.objects.exists()


def test_the_moment_of_consent_cannot_be_in_the_future(org, subject, purposes, notice):
    with pytest.raises(ValidationError, match="future"):
        grant(org, subject, purposes[0], notice, captured_at=timezone.now() + timedelta(days=1))
    assert not ConsentEvent.objects.exists()


def test_a_blocked_subject_cannot_be_recorded(org, subject, purposes, notice):
    subject.status = subject.Status.BLOCKED
    subject.blocked_at = timezone.now()
    subject.purge_after = timezone.localdate() + timedelta(days=1)
    subject.save()
    with pytest.raises(ValidationError, match="blocked"):
        grant(org, subject, purposes[0], notice)


def test_the_ledger_holds_no_plaintext_personal_data(org, purposes, notice):
    subject = DataSubjectFactory(
        organisation=org, full_name="مريم العلوي", phone="+34611222333", email="m@example.org"
    )
    proof = services.proof_create(organisation=org, subject=subject, quote="Sí, acepto. Mariam")
    grant(org, subject, purposes[0], notice, proof=proof)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM consents_consentevent")
        row = " ".join(str(v) for v in cursor.fetchone())
    for secret in ("مريم", "611222333", "m@example.org", "Mariam", "acepto"):
        assert secret not in row
    event = ConsentEvent.objects.get()
    assert event.subject_hmac == chain.identifiers_hmac(subject.identifiers())
    assert event.proof_digests[0]["kind"] == "quote"


def test_an_arabic_name_round_trips(org):
    DataSubjectFactory(organisation=org, full_name="يوسف بنعلي", phone="+34622000111")
    assert ConsentState.objects.count() == 0
    assert org.subjects.get(phone="+34622000111").full_name == "يوسف بنعلي"


def test_under_14_the_guardian_consents(org, purposes, notice):
    def capture_minor(**guardian):
        return services.consent_capture(
            organisation=org,
            person=PersonDetails(
                phone=parse_phone("600 99 88 77", "ES"),
                full_name="Niño Pérez",
                kind="customer",
                is_minor=True,
                **guardian,
            ),
            act=ConsentAct(
                recorded_by=None,
                decisions=[Decision(purposes[0], Action.GRANTED, notice)],
                channel=Channel.PAPER_FORM,
            ),
        )

    with pytest.raises(ValidationError, match="guardian"):
        capture_minor()
    result = capture_minor(guardian_name="Marta Pérez")
    assert result.events[0].given_by == GivenBy.GUARDIAN
    assert result.subject.guardian_name == "Marta Pérez"


def test_capture_finds_the_existing_subject_by_phone_in_any_format(org, purposes, notice):
    def capture(raw, key):
        return services.consent_capture(
            organisation=org,
            person=PersonDetails(phone=parse_phone(raw, "ES"), full_name="Ana", kind="customer"),
            act=ConsentAct(
                recorded_by=None,
                decisions=[Decision(purposes[0], Action.GRANTED, notice)],
                channel=Channel.WHATSAPP,
                idempotency_key=key,
            ),
        )

    first = capture("600 12 34 56", "a")
    second = capture("0034 600-123-456", "b")
    third = capture("+34600123456", "c")
    assert first.subject_created and not second.subject_created
    assert first.subject == second.subject == third.subject
    assert org.subjects.count() == 1


def test_raw_sql_cannot_update_or_delete_an_event(org, subject, purposes, notice):
    grant(org, subject, purposes[0], notice)
    for statement in (
        "UPDATE consents_consentevent SET action = 'refused'",
        "DELETE FROM consents_consentevent",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert ConsentEvent.objects.get().action == Action.GRANTED


def test_a_published_notice_is_frozen_in_the_database_and_the_model(org, purposes, notice):
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE consents_noticeversion SET text = 'changed'")
    with pytest.raises(ValidationError):
        services.notice_update_draft(notice=notice, data={"text": "changed"}, purposes=purposes)
    notice.refresh_from_db()
    assert notice.sha256 == notice.content_digest()


def test_publishing_freezes_the_digest_and_supersedes_the_previous_version(org, purposes):
    old = published_notice(purposes=purposes[:1], version="2025")
    new = published_notice(purposes=purposes[:1], version="2026", text="Texto nuevo")
    assert old.sha256 and new.sha256 and old.sha256 != new.sha256
    assert NoticeVersion.objects.current_for(purposes[0], "es") == new


def test_verification_passes_on_an_untouched_ledger(org, subject, purposes, notice):
    for _ in range(3):
        grant(org, subject, purposes[0], notice)
    check = services.ledger_verify(organisation=org)
    assert check.ok and check.events_checked == 3 and check.head_sequence == 3


def test_an_altered_event_is_caught_at_exactly_its_sequence(org, subject, purposes, notice):
    for _ in range(5):
        grant(org, subject, purposes[0], notice)
    tamper(
        "UPDATE consents_consentevent SET channel = %s WHERE sequence = %s",
        [Channel.IN_PERSON, 3],
    )
    check = services.ledger_verify(organisation=org)
    assert not check.ok
    assert check.broken_sequence == 3
    assert "altered" in check.reason


def test_a_removed_event_is_caught(org, subject, purposes, notice):
    for _ in range(4):
        grant(org, subject, purposes[0], notice)
    ConsentState.objects.all().delete()
    tamper("DELETE FROM consents_consentevent WHERE sequence = %s", [2])
    check = services.ledger_verify(organisation=org)
    assert not check.ok and check.broken_sequence == 2


def test_the_verify_command_reports_ok_or_the_break(org, subject, purposes, notice, capsys):
    grant(org, subject, purposes[0], notice)
    call_command("verify_ledger", "--org", org.slug)
    assert f"{org.slug}: OK, 1 events" in capsys.readouterr().out
    tamper("UPDATE consents_consentevent SET captured_at = %s", [timezone.now()])
    with pytest.raises(Exception, match="broken"):
        call_command("verify_ledger", "--org", org.slug)
    assert "BROKEN at sequence 1" in capsys.readouterr().out


def test_rebuilding_the_state_gives_identical_rows(org, purposes, notice):
    subjects = [DataSubjectFactory(organisation=org) for _ in range(4)]
    for i, subject in enumerate(subjects):
        grant(org, subject, purposes[0], notice)
        if i % 2:
            withdraw(subject, purposes[0], channel="whatsapp")
        services.consent_record(
            organisation=org,
            act=ConsentAct(
                subject=subject,
                decisions=[Decision(purposes[1], Action.REFUSED, notice)],
                channel="in_person",
            ),
        )

    def snapshot():
        return sorted(
            ConsentState.objects.values_list("subject_id", "purpose_id", "event_id", "action")
        )

    before = snapshot()
    call_command("rebuild_consent_state", "--org", org.slug)
    assert snapshot() == before and len(before) == 8


def test_the_nightly_task_verifies_every_organisation(org, subject, purposes, notice):
    from consents.tasks import verify_all_ledgers

    grant(org, subject, purposes[0], notice)
    assert verify_all_ledgers.delay().get()[org.slug] is True
    assert org.integrity_checks.first().triggered_by == "nightly check"
