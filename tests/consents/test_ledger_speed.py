"""The ledger at scale (issue 10): each event keeps the canonical text it was hashed over, so
verification is SHA-256 over stored text plus a check that the columns still say the same, and
an append makes few round trips while it holds the chain head. Runs on SQLite and PostgreSQL
(DATABASE_URL), where verification is one SQL statement."""

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from consents import appends, backfill, chain, services, signals
from consents.acts import ConsentAct, Decision
from consents.models import GENESIS_HASH, Action, Channel, ConsentEvent, ConsentState, LedgerHead
from consents.uploads import InspectedUpload
from tests.consents.factories import DataSubjectFactory, PurposeFactory, published_notice
from tests.consents.tampering import tamper

pytestmark = pytest.mark.django_db


@pytest.fixture
def purpose(org):
    return PurposeFactory(organisation=org)


@pytest.fixture
def notice(purpose):
    return published_notice(purposes=[purpose])


@pytest.fixture
def subject(org):
    return DataSubjectFactory(organisation=org, full_name="Mariam Ḥaddād", phone="+34600123999")


def record(org, subject, purpose, notice, action=Action.GRANTED, **act):
    act.setdefault("channel", Channel.WHATSAPP)
    return services.consent_record(
        organisation=org,
        act=ConsentAct(subject=subject, decisions=[Decision(purpose, action, notice)], **act),
    )


def withdraw(org, subject, purpose):
    return services.consent_record(
        organisation=org,
        act=ConsentAct(
            subject=subject,
            decisions=[Decision(purpose, Action.WITHDRAWN)],
            channel=Channel.WHATSAPP,
        ),
    )


def _with_proof(org, subject, purpose, notice):
    proof = services.proof_create(
        organisation=org,
        subject=subject,
        quote='Sí, "acepto" \\ تمام',
        files=[
            InspectedUpload(name="form.pdf", content=b"%PDF-1.4 a", content_type="application/pdf"),
            InspectedUpload(
                name="chat.jpg", content=b"\xff\xd8\xff jpeg", content_type="image/jpeg"
            ),
        ],
    )
    return record(
        org,
        subject,
        purpose,
        notice,
        proof=proof,
        ip_address="203.0.113.7",
        user_agent='Mozilla/5.0 "quoted"\tWhatsApp',
    )


def test_each_new_event_stores_exactly_the_canonical_text_its_hash_covers(
    org, subject, purpose, notice, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    record(org, subject, purpose, notice)
    _with_proof(org, subject, purpose, notice)
    for event in ConsentEvent.objects.filter(organisation=org):
        # The pack's hashed_fields (canonical()) and the stored text are one and the same.
        assert event.canonical_text == chain.canonical_json(event.canonical())
        assert event.hash == chain.event_hash(event.prev_hash, event.canonical())
        assert event.hash == chain.text_hash(event.prev_hash, event.canonical_text)


def test_a_ledger_with_proofs_quotes_and_browsers_verifies(
    org, subject, purpose, notice, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    for _ in range(3):
        _with_proof(org, subject, purpose, notice)
    record(org, subject, purpose, notice, action=Action.WITHDRAWN)
    result = services.ledger_verify_chain(organisation=org)
    assert result.ok, result.reason
    assert result.events_checked == result.head_sequence == 4


def test_a_column_changed_under_an_intact_text_is_caught_as_altered(org, subject, purpose, notice):
    for _ in range(4):
        record(org, subject, purpose, notice)
    tamper("UPDATE consents_consentevent SET subject_hmac = %s WHERE sequence = %s", ["f" * 64, 3])
    result = services.ledger_verify_chain(organisation=org)
    assert not result.ok
    assert result.broken_sequence == 3
    assert "altered" in result.reason
    assert result.events_checked == 2


def test_a_changed_time_is_caught_as_altered(org, subject, purpose, notice):
    for _ in range(3):
        record(org, subject, purpose, notice)
    event = ConsentEvent.objects.get(organisation=org, sequence=2)
    moved = event.captured_at.replace(microsecond=(event.captured_at.microsecond + 1) % 1_000_000)
    tamper("UPDATE consents_consentevent SET captured_at = %s WHERE id = %s", [moved, event.pk])
    result = services.ledger_verify_chain(organisation=org)
    assert (result.ok, result.broken_sequence) == (False, 2)
    assert "altered" in result.reason


@pytest.mark.parametrize("text", ['{"action":"granted"}', "not json at all", ""])
def test_a_rewritten_stored_text_is_caught_as_altered(org, subject, purpose, notice, text):
    for _ in range(3):
        record(org, subject, purpose, notice)
    tamper("UPDATE consents_consentevent SET canonical_text = %s WHERE sequence = %s", [text, 2])
    result = services.ledger_verify_chain(organisation=org)
    assert (result.ok, result.broken_sequence) == (False, 2)
    assert "altered" in result.reason


def test_events_written_before_the_text_existed_still_verify(org, subject, purpose, notice):
    for _ in range(4):
        record(org, subject, purpose, notice)
    tamper("UPDATE consents_consentevent SET canonical_text = NULL WHERE sequence <= %s", [3])
    assert services.ledger_verify_chain(organisation=org).ok
    # ... and are still checked from their columns.
    tamper("UPDATE consents_consentevent SET channel = %s WHERE sequence = %s", ["in_person", 2])
    result = services.ledger_verify_chain(organisation=org)
    assert (result.ok, result.broken_sequence) == (False, 2)


def test_the_backfill_stores_the_hashed_text_and_puts_the_guard_back(org, subject, purpose, notice):
    for _ in range(4):
        record(org, subject, purpose, notice)
    expected = dict(ConsentEvent.objects.values_list("sequence", "canonical_text"))
    tamper("UPDATE consents_consentevent SET canonical_text = NULL", [])
    # Event 4 was tampered with before the backfill: its text is not made up from its columns.
    tamper("UPDATE consents_consentevent SET channel = %s WHERE sequence = %s", ["in_person", 4])

    assert backfill.backfill_canonical_text(ConsentEvent, connection) == 3

    stored = dict(ConsentEvent.objects.values_list("sequence", "canonical_text"))
    assert stored == {**expected, 4: None}
    result = services.ledger_verify_chain(organisation=org)
    assert (result.ok, result.broken_sequence) == (False, 4)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE consents_consentevent SET canonical_text = 'x'")


def test_a_removed_head_event_and_a_broken_link_are_still_named(org, subject, purpose, notice):
    for _ in range(5):
        record(org, subject, purpose, notice)
    tamper("UPDATE consents_consentevent SET prev_hash = %s WHERE sequence = %s", ["0" * 64, 4])
    result = services.ledger_verify_chain(organisation=org)
    assert (result.ok, result.broken_sequence) == (False, 4)
    assert "does not link" in result.reason
    assert result.head_hash == ConsentEvent.objects.get(organisation=org, sequence=3).hash


def test_the_lowest_broken_sequence_is_named_whatever_breaks_later(org, subject, purpose, notice):
    for _ in range(6):
        record(org, subject, purpose, notice)
    tamper("UPDATE consents_consentevent SET prev_hash = %s WHERE sequence = %s", ["0" * 64, 5])
    tamper("UPDATE consents_consentevent SET channel = %s WHERE sequence = %s", ["in_person", 3])
    result = services.ledger_verify_chain(organisation=org)
    assert (result.ok, result.broken_sequence, result.events_checked) == (False, 3, 2)
    assert "altered" in result.reason
    assert result.head_hash == ConsentEvent.objects.get(organisation=org, sequence=2).hash


def test_one_append_makes_few_statements(org, subject, purpose, notice):
    record(org, subject, purpose, notice)  # the notice's purposes are now known to the process
    with CaptureQueriesContext(connection) as queries:
        record(org, subject, purpose, notice)
    statements = [q["sql"] for q in queries.captured_queries]
    ours = [s for s in statements if "SAVEPOINT" not in s.upper()]
    # On PostgreSQL one statement moves the head this connection last moved (locking it), writes
    # the event and upserts the state; elsewhere the head lock, the event INSERT, the state
    # upsert and the head UPDATE. Nothing reads the notice or the state. A marketing grant also
    # asks the suppression list once per batch (GDPR Art. 21(3)).
    assert purpose.category == "marketing"
    assert len(ours) == (2 if connection.vendor == "postgresql" else 5), statements
    if connection.vendor == "postgresql":
        (write,) = [s for s in ours if "INSERT INTO consents_consentevent" in s]
        assert "INSERT INTO consents_consentstate" in write
        assert "UPDATE consents_ledgerhead" in write
    assert sum("consents_suppressednumber" in s for s in ours) == 1
    assert not any("consents_noticeversion_purposes" in s for s in statements)
    state = ConsentState.objects.get(subject=subject, purpose=purpose)
    assert state.event == ConsentEvent.objects.get(organisation=org, sequence=2)


def test_a_withdrawal_reads_the_state_once_and_the_state_follows(org, subject, purpose, notice):
    record(org, subject, purpose, notice)
    with CaptureQueriesContext(connection) as queries:
        withdraw(org, subject, purpose)
    ours = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"].upper()]
    # The state read (GDPR Art. 7(3)), then the write, which on PostgreSQL moves the head only
    # if it is still the one the state was read at (elsewhere: the head lock before the read,
    # then INSERT, upsert and head UPDATE).
    assert len(ours) == (2 if connection.vendor == "postgresql" else 5), ours
    assert sum("FROM consents_consentstate" in s for s in ours) == 1
    assert ConsentState.objects.get(subject=subject, purpose=purpose).action == Action.WITHDRAWN
    assert services.ledger_verify_chain(organisation=org).ok


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL path runs on PostgreSQL")
def test_postgresql_checks_quoted_browsers_and_proofs_itself_without_python(
    org, subject, purpose, notice, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    _with_proof(org, subject, purpose, notice)  # a browser with a tab: Python checks that one
    record(org, subject, purpose, notice, user_agent='Mozilla/5.0 "quoted" \\ WhatsApp/2.24')
    record(org, subject, purpose, notice, ip_address="2001:db8::1")
    with connection.cursor() as cursor:
        cursor.execute(services._CONTENT_SQL, {"org": org.pk, "end": 10})
        altered, rechecks = cursor.fetchone()
    assert (altered, rechecks) == (None, 1)
    assert services.ledger_verify_chain(organisation=org).ok


def test_a_quote_smuggled_into_a_column_cannot_pass_for_the_next_field(
    org, subject, purpose, notice
):
    # Plain quoting of a choice column would let '"' move the field boundaries; such a row goes
    # to Python, which rebuilds the text and finds the change.
    for _ in range(3):
        record(org, subject, purpose, notice)
    tamper(
        "UPDATE consents_consentevent SET subject_hmac = %s WHERE sequence = %s",
        ['0","given_by":"x', 2],
    )
    result = services.ledger_verify_chain(organisation=org)
    assert (result.ok, result.broken_sequence) == (False, 2)
    assert "altered" in result.reason


def test_a_batch_larger_than_one_write_keeps_the_chain_the_states_and_the_head(
    org, subject, purpose, notice
):
    # consents.appends writes at most WRITE_CHUNK events per statement: a batch of 150 acts
    # spans three, and the same (person, purpose) granted, then withdrawn, then granted again
    # within one batch leaves its state on the last of them.
    others = DataSubjectFactory.create_batch(147, organisation=org)
    acts = [
        ConsentAct(
            subject=s,
            decisions=[Decision(purpose, Action.GRANTED, notice)],
            channel=Channel.WHATSAPP,
        )
        for s in others
    ]
    for action in (Action.GRANTED, Action.WITHDRAWN, Action.GRANTED):
        notice_or_none = None if action == Action.WITHDRAWN else notice
        acts.append(
            ConsentAct(
                subject=subject,
                decisions=[Decision(purpose, action, notice_or_none)],
                channel=Channel.WHATSAPP,
            )
        )
    results = services.consent_record_many(organisation=org, acts=acts)
    events = [event for recorded in results for event in recorded]
    assert [e.sequence for e in events] == list(range(1, 151))
    stored = {e.pk: e for e in ConsentEvent.objects.filter(organisation=org)}
    assert sorted(stored) == sorted(e.pk for e in events)
    assert all(stored[e.pk].hash == e.hash and stored[e.pk].sequence == e.sequence for e in events)
    assert ConsentState.objects.filter(organisation=org).count() == 148
    state = ConsentState.objects.get(subject=subject, purpose=purpose)
    assert (state.event_id, state.action) == (events[-1].pk, Action.GRANTED)
    assert ConsentState.objects.get(subject=others[70], purpose=purpose).event_id == events[70].pk
    org.ledger_head.refresh_from_db()
    assert (org.ledger_head.sequence, org.ledger_head.hash) == (150, events[-1].hash)
    assert services.ledger_verify_chain(organisation=org).ok


class _Undone(Exception):
    pass


def test_an_append_rolled_back_is_not_linked_to_afterwards(org, subject, purpose, notice):
    # On PostgreSQL the connection remembers the head it last moved; the transaction that moved
    # it is undone, so the next append finds that head gone, and links to the real one.
    record(org, subject, purpose, notice)
    with pytest.raises(_Undone), transaction.atomic():
        record(org, subject, purpose, notice)
        raise _Undone
    (event,) = record(org, subject, purpose, notice, action=Action.REFUSED)
    first = ConsentEvent.objects.get(organisation=org, sequence=1)
    assert (event.sequence, event.prev_hash) == (2, first.hash)
    assert ConsentEvent.objects.filter(organisation=org).count() == 2
    assert ConsentState.objects.get(subject=subject, purpose=purpose).event == event
    assert services.ledger_verify_chain(organisation=org).ok


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the optimistic path is PostgreSQL's")
def test_a_head_moved_by_another_writer_is_seen_and_nothing_is_written_twice(
    org, subject, purpose, notice
):
    record(org, subject, purpose, notice)
    # What another connection's append would leave: the head moved past what this one knows.
    appends._moved[connection.connection][org.pk] = appends._Known(0, "0" * 64)
    with CaptureQueriesContext(connection) as queries:
        (event,) = record(org, subject, purpose, notice, action=Action.REFUSED)
    statements = [q["sql"] for q in queries.captured_queries]
    writes = [s for s in statements if "INSERT INTO consents_consentevent" in s]
    locks = [s for s in statements if "FOR UPDATE" in s]
    assert (len(writes), len(locks)) == (2, 1)  # the refused write, then the one under the lock
    assert event.sequence == 2
    assert ConsentEvent.objects.filter(organisation=org).count() == 2
    assert ConsentState.objects.get(subject=subject, purpose=purpose).action == Action.REFUSED
    assert services.ledger_verify_chain(organisation=org).ok
    known = appends._moved[connection.connection][org.pk]
    assert (known.sequence, known.hash, known.contended) == (2, event.hash, True)

    # Another writer was seen: the next append locks first, finds nobody else wrote since, and
    # the one after goes optimistic again.
    for locks_taken in (1, 0):
        with CaptureQueriesContext(connection) as queries:
            record(org, subject, purpose, notice)
        assert sum("FOR UPDATE" in q["sql"] for q in queries.captured_queries) == locks_taken
    assert services.ledger_verify_chain(organisation=org).ok


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the optimistic path is PostgreSQL's")
def test_a_withdrawal_refused_on_a_stale_head_is_decided_again_under_the_lock(
    org, subject, purpose, notice
):
    # Refused, so there is nothing to withdraw: read on the head as seen, the withdrawal fails,
    # and that answer is only given once the lock says it is the current one.
    record(org, subject, purpose, notice, action=Action.REFUSED)
    with CaptureQueriesContext(connection) as queries, pytest.raises(ValidationError):
        withdraw(org, subject, purpose)
    assert sum("FOR UPDATE" in q["sql"] for q in queries.captured_queries) == 1
    assert ConsentEvent.objects.filter(organisation=org).count() == 1


def test_every_append_writes_no_index_another_one_already_leads_with():
    # Each index of the ledger and of ConsentState is a page every append changes: those that
    # only repeated the leading column of another index are gone (migration 0013), the ones
    # that cover them remain, and so does the append-only guard.
    with connection.cursor() as cursor:
        introspection = connection.introspection
        event = introspection.get_constraints(cursor, "consents_consentevent")
        state = introspection.get_constraints(cursor, "consents_consentstate")
    columns = {
        table: sorted(tuple(c["columns"]) for c in constraints.values() if c["index"])
        for table, constraints in (("event", event), ("state", state))
    }
    for table, gone in (
        ("event", [("organisation_id",), ("subject_id",)]),
        ("state", [("organisation_id",), ("subject_id",), ("event_id",)]),
    ):
        assert not set(gone) & set(columns[table]), columns[table]
    assert ("subject_id", "purpose_id", "sequence") in columns["event"]
    # Unique constraints are indexes too (PostgreSQL lists them as such, SQLite not always).
    assert ("subject_id", "purpose_id") in [tuple(c["columns"]) for c in state.values()]
    assert ("organisation_id", "sequence") in [tuple(c["columns"]) for c in event.values()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the optimistic path is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_one_statement_is_the_whole_append(
    org, subject, purpose, notice, monkeypatch
):
    purpose.category = "service"  # not marketing: the suppression list is not asked
    purpose.save()
    record(org, subject, purpose, notice)
    heard, commits = [], []
    monkeypatch.setattr(connection, "commit", lambda: commits.append(1))  # not sent at all
    signals.events_recorded.connect(
        lambda **kw: heard.append(kw["events"]), weak=False, dispatch_uid="t"
    )
    try:
        assert not connection.in_atomic_block
        with CaptureQueriesContext(connection) as queries:
            (event,) = record(org, subject, purpose, notice, action=Action.REFUSED)
    finally:
        signals.events_recorded.disconnect(dispatch_uid="t")
        monkeypatch.undo()
    assert len(queries.captured_queries) == 1, queries.captured_queries
    assert commits == []  # no transaction was opened: the statement committed itself
    assert heard == [[event]]  # announced at once: it was committed by its own statement
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT action FROM consents_consentstate"
                " WHERE subject_id = %s AND purpose_id = %s",
                [subject.pk, purpose.pk],
            )
            assert cursor.fetchone() == (Action.REFUSED,)
    finally:
        other.close()
    assert services.ledger_verify_chain(organisation=org).ok


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL chains them itself")
@pytest.mark.django_db(transaction=True)
def test_events_postgresql_chains_are_those_python_would_have_chained(org, subject):
    # Outside a transaction, an act that needs nothing read first (no key, no withdrawal) is
    # numbered and hashed by the statement that writes it, under the head lock: three
    # purposes, three events linked to each other, each with the text and hash Python gives it.
    purposes = [PurposeFactory(organisation=org) for _ in range(3)]
    notice = published_notice(purposes=purposes)
    record(org, subject, purposes[0], notice)
    before = ConsentEvent.objects.get(organisation=org, sequence=1)
    with CaptureQueriesContext(connection) as queries:
        events = services.consent_record(
            organisation=org,
            act=ConsentAct(
                subject=subject,
                decisions=[Decision(p, Action.GRANTED, notice) for p in purposes],
                channel=Channel.WHATSAPP,
            ),
        )
    (write,) = [q["sql"] for q in queries.captured_queries if "consents_consentevent" in q["sql"]]
    assert "FOR UPDATE" in write and "sha256" in write
    assert [e.sequence for e in events] == [2, 3, 4]
    assert [e.prev_hash for e in events] == [before.hash, events[0].hash, events[1].hash]
    for event in events:
        stored = ConsentEvent.objects.get(pk=event.pk)
        assert event.canonical_text == chain.canonical_json(stored.canonical())
        assert stored.canonical_text == event.canonical_text
        assert stored.hash == event.hash == chain.text_hash(event.prev_hash, event.canonical_text)
    head = LedgerHead.objects.get(organisation=org)
    assert (head.sequence, head.hash) == (4, events[-1].hash)
    states = ConsentState.objects.filter(subject=subject).values_list("event_id", flat=True)
    assert set(states) == {e.pk for e in events}
    assert services.ledger_verify_chain(organisation=org).ok


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL chains them itself")
@pytest.mark.django_db(transaction=True)
def test_an_organisations_first_event_chained_by_postgresql_starts_the_chain(
    subject, purpose, notice
):
    org = subject.organisation
    (event,) = record(org, subject, purpose, notice)
    assert (event.sequence, event.prev_hash) == (1, GENESIS_HASH)
    assert services.ledger_verify_chain(organisation=org).ok


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL chains them itself")
@pytest.mark.django_db(transaction=True)
def test_a_keyed_act_is_chained_by_postgresql_and_its_retry_returns_its_events(
    org, subject, purpose, notice
):
    # The capture form, a group invite and the API send an idempotency key with every act: the
    # key is read first (no lock), then PostgreSQL chains the act in one statement.
    purpose.category = "service"  # not marketing: the suppression list is not asked
    purpose.save()
    record(org, subject, purpose, notice)
    with CaptureQueriesContext(connection) as queries:
        (event,) = record(org, subject, purpose, notice, idempotency_key="capture-1")
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 2, statements  # the key looked up, the chained write
    assert "FOR UPDATE" in statements[1] and "sha256" in statements[1]
    assert (event.sequence, event.idempotency_key) == (2, "capture-1")

    with CaptureQueriesContext(connection) as queries:
        (again,) = record(org, subject, purpose, notice, idempotency_key="capture-1")
    assert len(queries.captured_queries) == 1  # found: nothing written
    assert (again.pk, again.hash) == (event.pk, event.hash)
    assert ConsentEvent.objects.filter(organisation=org).count() == 2
    assert services.ledger_verify_chain(organisation=org).ok


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL chains them itself")
@pytest.mark.django_db(transaction=True)
def test_a_key_another_writer_recorded_meanwhile_returns_that_writers_events(
    org, subject, purpose, notice, monkeypatch
):
    (first,) = record(org, subject, purpose, notice, idempotency_key="double-tap")
    head = LedgerHead.objects.get(organisation=org)
    real = appends.events_with_keys
    reads = []

    def read_before_the_other_writer_committed(organisation_id, keys):
        reads.append(keys)
        return [] if len(reads) == 1 else real(organisation_id, keys)

    monkeypatch.setattr(appends, "events_with_keys", read_before_the_other_writer_committed)
    refused = []
    write_chained = appends.write_chained

    def watched(organisation_id, events):
        try:
            write_chained(organisation_id, events)
        except DatabaseError as error:
            refused.append(appends.duplicate_key(error))
            raise

    monkeypatch.setattr(appends, "write_chained", watched)
    with CaptureQueriesContext(connection) as queries:
        (event,) = record(org, subject, purpose, notice, idempotency_key="double-tap")

    assert refused == [True]  # refused whole by the unique index on the keys
    assert len(reads) == 2  # and the key read again under the lock
    assert sum("FOR UPDATE" in q["sql"] for q in queries.captured_queries) == 1
    assert (event.pk, event.hash) == (first.pk, first.hash)
    assert ConsentEvent.objects.filter(organisation=org).count() == 1
    assert LedgerHead.objects.get(organisation=org).hash == head.hash
    assert services.ledger_verify_chain(organisation=org).ok
