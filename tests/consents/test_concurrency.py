"""Concurrent writers never fork or skip the chain (ARCHITECTURE invariant 2).

Real threads with their own database connections, so this needs PostgreSQL (CI runs it there);
SQLite serialises writers by design and has no row locks to test.
"""

import threading

import pytest
from django.db import connection, connections, transaction

from consents import services
from consents.acts import ConsentAct, Decision
from consents.models import Action, Channel, ConsentEvent, ConsentState
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
