"""Concurrent writers never fork or skip the chain (ARCHITECTURE invariant 2).

Real threads with their own database connections, so this needs PostgreSQL (CI runs it there);
SQLite serialises writers by design and has no row locks to test.
"""

import threading

import pytest
from django.db import connection, connections

from consents import services
from consents.acts import ConsentAct, Decision
from consents.models import Action, Channel, ConsentEvent, ConsentState
from tests.consents.factories import DataSubjectFactory, PurposeFactory, published_notice

THREADS = 8
EACH = 500


@pytest.fixture
def postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL row locks (set DATABASE_URL; CI does).")


def test_eight_threads_appending_500_events_each_leave_one_valid_chain(postgres_only, org):
    purpose = PurposeFactory(organisation=org)
    notice = published_notice(purposes=[purpose])
    subjects = [DataSubjectFactory(organisation=org) for _ in range(THREADS)]
    errors = []
    start = threading.Barrier(THREADS)

    def writer(subject):
        try:
            start.wait()
            for i in range(EACH):
                action = Action.GRANTED if i % 2 == 0 else Action.REFUSED
                # Every third act carries an idempotency key: those are linked to the head as
                # last seen (or decided under the lock), the others chained by PostgreSQL under
                # it, all at once on the same head.
                key = f"{subject.pk}-{i}" if i % 3 == 0 else ""
                services.consent_record(
                    organisation=org,
                    act=ConsentAct(
                        subject=subject,
                        decisions=[Decision(purpose, action, notice)],
                        channel=Channel.WEB_FORM,
                        idempotency_key=key,
                    ),
                )
        except Exception as error:  # reported below: a thread's exception would be lost
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(s,)) for s in subjects]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    sequences = list(
        ConsentEvent.objects.filter(organisation=org)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert sequences == list(range(1, THREADS * EACH + 1))
    result = services.ledger_verify_chain(organisation=org)
    assert result.ok and result.events_checked == THREADS * EACH
    assert ConsentState.objects.filter(organisation=org).count() == THREADS
