"""Concurrent writers never fork or skip the chain (ARCHITECTURE invariant 2).

Real threads with their own database connections, so this needs PostgreSQL (CI runs it there);
SQLite serialises writers by design and has no row locks to test.
"""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from consents import services
from consents.acts import ConsentAct, Decision, PersonDetails, ProofInput
from consents.models import (
    Action,
    Channel,
    ConsentEvent,
    ConsentState,
    DataSubject,
    LedgerHead,
    Proof,
)
from consents.phones import parse_phone
from tests.consents.factories import DataSubjectFactory, PurposeFactory, published_notice

THREADS = 8
EACH = 500


def _in_threads(work, arguments) -> list[Exception]:
    """Run ``work(argument)`` in a thread of its own for each argument, all released at once,
    each with its own database connection; the exceptions they raised."""
    errors = []
    start = threading.Barrier(len(arguments))

    def run(argument):
        try:
            start.wait()
            work(argument)
        except Exception as error:  # returned: a thread's exception would be lost
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(a,)) for a in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.fixture
def postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL row locks (set DATABASE_URL; CI does).")


def test_eight_threads_appending_500_events_each_leave_one_valid_chain(postgres_only, org):
    purpose = PurposeFactory(organisation=org)
    notice = published_notice(purposes=[purpose])
    subjects = [DataSubjectFactory(organisation=org) for _ in range(THREADS)]

    def writer(subject):
        for i in range(EACH):
            action = Action.GRANTED if i % 2 == 0 else Action.REFUSED
            # Every path on the same head at once: acts chained by PostgreSQL under the head
            # lock (every third with an idempotency key), and withdrawals (after a grant)
            # and acts inside a transaction, linked to the head as last seen or decided
            # under the lock.
            decision = Decision(purpose, action, notice)
            if i % 6 == 1:
                decision = Decision(purpose, Action.WITHDRAWN)
            act = ConsentAct(
                subject=subject,
                decisions=[decision],
                channel=Channel.WEB_FORM,
                idempotency_key=f"{subject.pk}-{i}" if i % 3 == 0 else "",
            )
            if i % 10 == 5:
                with transaction.atomic():
                    services.consent_record(organisation=org, act=act)
            else:
                services.consent_record(organisation=org, act=act)

    assert _in_threads(writer, subjects) == []
    sequences = list(
        ConsentEvent.objects.filter(organisation=org)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert sequences == list(range(1, THREADS * EACH + 1))
    result = services.ledger_verify_chain(organisation=org)
    assert result.ok and result.events_checked == THREADS * EACH
    assert ConsentState.objects.filter(organisation=org).count() == THREADS


def test_the_same_keys_sent_by_eight_writers_at_once_are_recorded_once(postgres_only, org):
    # A double tap, a retried API call: eight writers send the same 100 acts, keys and all, at
    # the same moment. Each key is recorded once and every writer gets the same events back.
    purpose = PurposeFactory(organisation=org)
    notice = published_notice(purposes=[purpose])
    subjects = [DataSubjectFactory(organisation=org) for _ in range(10)]
    acts = [
        ConsentAct(
            subject=subjects[i % 10],
            decisions=[Decision(purpose, Action.GRANTED, notice)],
            channel=Channel.WEB_FORM,
            idempotency_key=f"tap-{i}",
        )
        for i in range(100)
    ]
    returned = [[] for _ in range(THREADS)]

    def writer(mine):
        for act in acts:
            (event,) = services.consent_record(organisation=org, act=act)
            mine.append(event.pk)

    assert _in_threads(writer, returned) == []
    events = ConsentEvent.objects.filter(organisation=org).order_by("sequence")
    assert [e.sequence for e in events] == list(range(1, 101))
    assert sorted(e.idempotency_key for e in events) == sorted(a.idempotency_key for a in acts)
    by_key = {e.idempotency_key: e.pk for e in events}
    assert all(mine == [by_key[a.idempotency_key] for a in acts] for mine in returned)
    assert services.ledger_verify_chain(organisation=org).ok


def _capture(org, purpose, notice, phone: str, key: str, quote: str):
    return services.consent_capture(
        organisation=org,
        person=PersonDetails(phone=parse_phone(phone, "ES"), full_name="Ana Ruiz"),
        act=ConsentAct(
            decisions=[Decision(purpose, Action.GRANTED, notice)],
            channel=Channel.WHATSAPP,
            idempotency_key=key,
        ),
        proof=ProofInput(quote=quote),
    )


def test_staff_capturing_at_once_find_or_create_each_person_once(postgres_only, org):
    # Eight staff capture at once, without waiting for each other's whole capture: 40 people,
    # each captured by two of them (the same number), each capture with its own key and quote.
    purpose = PurposeFactory(organisation=org)
    notice = published_notice(purposes=[purpose])

    def staff(number):
        for n in range(40):
            phone = f"+34 611 000 {n:03d}"
            _capture(org, purpose, notice, phone, f"staff{number}-{n}", f"Sí ({number})")

    assert _in_threads(staff, range(THREADS)) == []
    assert DataSubject.objects.filter(organisation=org).count() == 40
    assert ConsentEvent.objects.filter(organisation=org).count() == THREADS * 40
    assert Proof.objects.filter(organisation=org).count() == THREADS * 40
    result = services.ledger_verify_chain(organisation=org)
    assert result.ok and result.events_checked == THREADS * 40


def test_one_capture_sent_by_eight_requests_at_once_is_recorded_once(postgres_only, org):
    # A double-tapped form (or a retried API call) eight times over, all at the same moment, for
    # a person not yet known: one person, one event, one proof; every request gets that event.
    purpose = PurposeFactory(organisation=org)
    notice = published_notice(purposes=[purpose])
    answers = []

    def request(_number):
        result = _capture(org, purpose, notice, "+34 622 000 001", "tap-tap", "Sí, acepto")
        answers.append((result.subject.pk, [e.pk for e in result.events], result.replayed))

    assert _in_threads(request, range(THREADS)) == []
    (event,) = ConsentEvent.objects.filter(organisation=org)
    assert DataSubject.objects.filter(organisation=org).count() == 1
    assert Proof.objects.filter(organisation=org).get().pk == event.proof_id  # none left over
    assert {(subject, tuple(events)) for subject, events, _ in answers} == {
        (event.subject_id, (event.pk,))
    }
    assert sorted(replayed for *_, replayed in answers) == [False] + [True] * (THREADS - 1)


def test_a_capture_waits_for_the_head_only_to_write_its_events(postgres_only, org):
    # Another writer holds the head. A capture finds or creates its person and keeps its proof
    # meanwhile, and waits only at the statement that writes its events.
    purpose = PurposeFactory(organisation=org)
    notice = published_notice(purposes=[purpose])
    LedgerHead.objects.get_or_create(organisation=org)
    holder = connections.create_connection("default")
    holder.set_autocommit(False)
    errors, waiting = [], None
    try:
        with holder.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM consents_ledgerhead WHERE organisation_id = %s FOR UPDATE",
                [org.pk],
            )
        capture = threading.Thread(
            target=lambda: errors.extend(
                _in_threads(
                    lambda _n: _capture(org, purpose, notice, "+34 633 000 001", "k", "Sí"), [0]
                )
            )
        )
        capture.start()
        with connection.cursor() as cursor:  # autocommit: each look is a fresh snapshot
            for _ in range(200):
                cursor.execute(
                    "SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database()"
                )
                row = cursor.fetchone()
                if row:
                    waiting = row[0]
                    break
                time.sleep(0.05)
    finally:
        holder.rollback()
        holder.close()
    capture.join()
    assert errors == []
    assert waiting is not None and "INSERT INTO consents_consentevent" in waiting, waiting
    assert ConsentEvent.objects.filter(organisation=org).count() == 1
