"""The ledger's reads and writes around the chain head, in as few round trips as the chain allows.

Only consents.services calls these (it is still the one module that appends to the ledger): they
hold no rule. Every append waits for the one before it to commit, so how long the head is held
is the ledger's speed limit (issue 10, bench/README.md).

On PostgreSQL the statements are hand-written, server-bound and prepared once per connection
(accounts.rows.run), and the event rows, their ConsentState upserts and the head's move are one
statement: write() moves the head only if it is still the one the events link to (optimistic),
write_chained() numbers and hashes the events itself under the lock it takes. Elsewhere (SQLite,
the embedded default) the writes are the ORM's, one after the other, under head_lock.
"""

import re
from dataclasses import dataclass
from functools import cache
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, connection, connections

from accounts.rows import Part, Rows, in_list, run

from . import chain
from .models import GENESIS_HASH, ConsentEvent, ConsentState, LedgerHead


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _head_query(vendor: str, lock: bool = True) -> str:
    # FOR UPDATE: two writers would otherwise both link to the same prev_hash and fork the chain
    # (or take the same sequence). SQLite has no row locks: its IMMEDIATE transaction serialises
    # writers instead (config.settings).
    suffix = " FOR UPDATE" if lock and vendor == "postgresql" else ""
    return f"SELECT sequence, hash FROM consents_ledgerhead WHERE organisation_id = %s{suffix}"  # noqa: S608


def _head(organisation_id: int, sequence: int, hash_: str) -> LedgerHead:
    names = ["organisation_id", "sequence", "hash"]
    return LedgerHead.from_db(connection.alias, names, [organisation_id, sequence, hash_])


def _head_create(organisation_id: int) -> None:
    """The head an organisation's first event moves (the genesis hash, sequence 0)."""
    LedgerHead.objects.get_or_create(
        organisation_id=organisation_id, defaults={"hash": GENESIS_HASH}
    )


def head_lock(organisation_id: int) -> LedgerHead:
    """The organisation's chain head, locked until the end of the current transaction."""
    rows = run(_head_query(connection.vendor), [organisation_id])
    if not rows:
        _head_create(organisation_id)
        rows = run(_head_query(connection.vendor), [organisation_id])
    ((sequence, hash_),) = rows
    known = _known().get(organisation_id)
    if known is not None:
        # Still the head this connection moved last: nobody else appended meanwhile, so the
        # next append may go optimistic again.
        known.contended = (known.sequence, known.hash) != (sequence, hash_)
    return _head(organisation_id, sequence, hash_)


@dataclass
class _Known:
    sequence: int
    hash: str
    contended: bool = False


# The head each PostgreSQL connection last moved, per organisation. One writer appending again
# and again (the usual case) knows the head without asking; whatever this says, write() links
# to it only if it is still the head, so a stale entry (another writer since, or a transaction
# rolled back) costs one refused statement and a retry under the lock, never a fork. Where
# other writers keep moving the head, optimism would cost that every time: a connection that
# found the head moved takes the lock first, until it finds under the lock that nobody else
# wrote since its own last append.
_moved: WeakKeyDictionary = WeakKeyDictionary()


def _known() -> dict[int, _Known]:
    if connection.vendor != "postgresql" or connection.connection is None:
        return {}
    return _moved.setdefault(connection.connection, {})


def _remember(organisation_id: int, sequence: int, hash_: str) -> None:
    """This connection has just moved the organisation's head to (sequence, hash_)."""
    known = _known().get(organisation_id)
    if known is None:
        _known()[organisation_id] = _Known(sequence, hash_)
    else:
        known.sequence, known.hash = sequence, hash_


def head_seen(organisation_id: int) -> LedgerHead | None:
    """The chain head as this connection last moved or saw it, not locked, for an optimistic
    append; None where appends must lock first (SQLite, an organisation without a head, or a
    head other writers are moving)."""
    if connection.vendor != "postgresql":
        return None
    connection.ensure_connection()
    known = _known().get(organisation_id)
    if known is not None:
        return None if known.contended else _head(organisation_id, known.sequence, known.hash)
    rows = run(_head_query(connection.vendor, lock=False), [organisation_id])
    if not rows:
        return None
    ((sequence, hash_),) = rows
    return _head(organisation_id, sequence, hash_)


@cache
def _events() -> Rows:
    return Rows(Part(ConsentEvent, "e"))


def events_with_keys(organisation_id: int, keys: list[str]) -> list[ConsentEvent]:
    """The events already recorded under any of ``keys`` (idempotency keys), by sequence."""
    rows = _events()
    clause, params = in_list(keys)
    sql = (
        f"SELECT {rows.select} FROM consents_consentevent e"  # noqa: S608 (columns from _meta)
        f" WHERE e.organisation_id = %s AND e.idempotency_key <> '' AND e.idempotency_key {clause}"
        " ORDER BY e.sequence"
    )
    return [event for (event,) in rows.fetch(sql, [organisation_id, *params])]


def current_actions(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """The ConsentState action of each (subject, purpose) in ``pairs`` that has one."""
    subjects, subjects_params = in_list(sorted({s for s, _p in pairs}))
    purposes, purposes_params = in_list(sorted({p for _s, p in pairs}))
    sql = (
        "SELECT subject_id, purpose_id, action FROM consents_consentstate"  # noqa: S608
        f" WHERE subject_id {subjects} AND purpose_id {purposes}"
    )
    return {
        (subject_id, purpose_id): action
        for subject_id, purpose_id, action in run(sql, [*subjects_params, *purposes_params])
        if (subject_id, purpose_id) in pairs
    }


@cache
def _written_fields() -> list:
    return [f for f in ConsentEvent._meta.concrete_fields if not f.primary_key]


def _params(events: list[ConsentEvent], fields: list, db) -> list:
    """Each event's value of each of ``fields``, as the ORM would send it, in VALUES order."""
    return [
        field.get_db_prep_save(getattr(e, field.attname), db) for e in events for field in fields
    ]


def _saved(event: ConsentEvent, pk: int, db) -> None:
    """``event`` as the ORM leaves an instance it has just inserted."""
    event.pk = pk
    event._state.adding = False
    event._state.db = db.alias


# The CTE that upserts the state of each (subject, purpose) the events in ``ev`` touch, from the
# latest of them (invariant 5).
_STATES = (
    "st AS (INSERT INTO consents_consentstate"
    " (organisation_id, subject_id, purpose_id, event_id, action, captured_at)"
    " SELECT DISTINCT ON (subject_id, purpose_id)"
    " organisation_id, subject_id, purpose_id, id, action, captured_at FROM ev"
    " ORDER BY subject_id, purpose_id, sequence DESC"
    " ON CONFLICT (subject_id, purpose_id) DO UPDATE SET event_id = EXCLUDED.event_id,"
    " action = EXCLUDED.action, captured_at = EXCLUDED.captured_at)"
)


def _cast(field) -> str:
    # A VALUES list under a SELECT gives its parameters no column to take a type from; the
    # column's type without its length (an explicit cast to varchar(n) would truncate, while the
    # INSERT refuses a value too long, as the ORM's does).
    return re.sub(r"\(.*\)", "", field.db_type(connection))


@cache
def _write_query(count: int) -> str:
    """One statement: move the head if it is still the one the events link to, and only then
    INSERT the events and upsert the latest per (subject, purpose) into ConsentState
    (invariant 5); it returns the events' ids by sequence, none if the head had moved.

    The UPDATE locks the head row until the transaction ends, as SELECT ... FOR UPDATE does; a
    writer waiting on it reads the head again once the first commits (READ COMMITTED), finds it
    moved and writes nothing."""
    fields = _written_fields()
    columns = ", ".join(_quote(f.column) for f in fields)
    row = "(" + ", ".join(f"%s::{_cast(f)}" for f in fields) + ")"
    values = ", ".join([row] * count)
    return (
        "WITH hd AS (UPDATE consents_ledgerhead SET sequence = %s, hash = %s"  # noqa: S608
        " WHERE organisation_id = %s AND sequence = %s AND hash = %s RETURNING organisation_id),"
        f" ev AS (INSERT INTO consents_consentevent ({columns})"  # columns from _meta
        f" SELECT v.* FROM (VALUES {values}) AS v, hd"
        " RETURNING id, organisation_id, subject_id, purpose_id, action, captured_at, sequence),"
        f" {_STATES}"
        " SELECT id FROM ev ORDER BY sequence"
    )


# Up to this many events the statement is written for its exact count and prepared (a capture
# has one per purpose, a handful); a larger batch (an import) goes in chunks of this size.
WRITE_CHUNK = 64


def alone(events: int) -> bool:
    """Whether ``events`` can be appended by one statement in a transaction of its own: on
    PostgreSQL, outside any transaction (a request in autocommit, a worker, the API), and few
    enough for one write."""
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and connection.get_autocommit()
        and events <= WRITE_CHUNK
    )


# The one place a sequence number sits in an event's canonical text (keys sorted: "sequence" comes
# between "recorded_by" and "subject"; a string value cannot hold it, its quotes are escaped).
_SEQUENCE_MARK = ',"sequence":0,"subject":'


@cache
def _chained_fields() -> list:
    # The columns the statement takes from the events; sequence, the hashes and the text it
    # computes itself from the head it locks.
    computed = {"sequence", "prev_hash", "hash", "canonical_text"}
    return [f for f in _written_fields() if f.attname not in computed]


@cache
def _chained_query(count: int) -> str:
    """One statement that appends ``count`` events after whatever the head is when it gets the
    lock: it locks the head (SELECT ... FOR UPDATE returns the head as the writer before left
    it), gives each event the next sequence, its text (sent split around the sequence number)
    and its hash, SHA-256 of the previous hash and the text, exactly as consents.chain does,
    writes the events and their states, and moves the head. The head is held only while this
    statement runs."""
    fields = _chained_fields()
    columns = [_quote(f.column) for f in fields]
    links, rows = [], []
    previous = "old.hash"
    for n in range(1, count + 1):
        links.append(
            f" CROSS JOIN LATERAL (SELECT t{n}, encode(sha256(convert_to({previous} || t{n},"  # noqa: S608
            f" 'UTF8')), 'hex') AS h{n} FROM (SELECT %s::text || (old.sequence + {n})::text"
            f" || %s::text AS t{n}) x) c{n}"
        )
        cells = ", ".join(f"%s::{_cast(f)}" for f in fields)
        rows.append(f"({cells}, old.sequence + {n}, {previous}, h{n}, t{n})")
        previous = f"h{n}"
    every = ", ".join([*columns, "sequence", "prev_hash", "hash", "canonical_text"])
    return (
        "WITH old AS (SELECT sequence, hash FROM consents_ledgerhead"  # noqa: S608
        " WHERE organisation_id = %s FOR UPDATE),"
        f" ev AS (INSERT INTO consents_consentevent ({every})"
        f" SELECT v.* FROM old{''.join(links)} CROSS JOIN LATERAL (VALUES {', '.join(rows)}) v"
        " RETURNING id, organisation_id, subject_id, purpose_id, action, captured_at, sequence,"
        " prev_hash, hash),"
        f" {_STATES},"
        " hd AS (UPDATE consents_ledgerhead h SET sequence = e.sequence, hash = e.hash"
        " FROM (SELECT sequence, hash FROM ev ORDER BY sequence DESC LIMIT 1) e"
        " WHERE h.organisation_id = %s)"
        " SELECT id, sequence, prev_hash, hash FROM ev ORDER BY sequence"
    )


def write_chained(organisation_id: int, events: list[ConsentEvent]) -> None:
    """Append ``events`` (in order, with sequence 0 and no hashes) after the head as it is when
    the statement gets the lock; for a caller outside any transaction (alone), as the statement
    commits by itself. Sets each event's sequence, prev_hash, hash, canonical text and primary
    key to what was written."""
    fields = _chained_fields()
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: the proxy costs a lookup per use
    halves = []
    for event in events:
        text = chain.canonical_json(event.canonical())  # its sequence 0: the mark below
        before, after = text.split(_SEQUENCE_MARK)
        halves.append((before + ',"sequence":', ',"subject":' + after))
    params = [
        organisation_id,
        *(half for pair in halves for half in pair),
        *_params(events, fields, db),
        organisation_id,
    ]
    rows = run(_chained_query(len(events)), params)
    if not rows:  # the organisation's first event: it has no head to lock yet
        _head_create(organisation_id)
        rows = run(_chained_query(len(events)), params)
    for event, (before, after), (pk, *chained) in zip(events, halves, rows, strict=True):
        event.sequence, event.prev_hash, event.hash = chained
        event.canonical_text = f"{before}{event.sequence}{after}"
        _saved(event, pk, db)
    _remember(organisation_id, events[-1].sequence, events[-1].hash)


def duplicate_key(error: Exception) -> bool:
    """Whether ``error`` is PostgreSQL refusing an event whose idempotency key (for its purpose)
    is already on record: the unique index ledger_idempotent_capture."""
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == "ledger_idempotent_capture"


class HeadMoved(Exception):
    """The head was not the one the events link to (see write)."""


def write(head: LedgerHead, events: list[ConsentEvent]) -> None:
    """Insert ``events`` (chained, in sequence order, ending at ``head``), upsert their states
    and move the head to ``head``; sets each event's primary key.

    If the head is no longer the one the first event links to (its sequence less one, its
    prev_hash), nothing is written and HeadMoved is raised: the caller decides again under
    head_lock. On SQLite the caller holds the lock already (head_lock), and the ORM writes."""
    if connection.vendor != "postgresql":
        _write_orm(head, events)
        return
    fields = _written_fields()
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: the proxy costs a lookup per use
    before = (events[0].sequence - 1, events[0].prev_hash)
    for start in range(0, len(events), WRITE_CHUNK):
        chunk = events[start : start + WRITE_CHUNK]
        last = chunk[-1]
        params = [last.sequence, last.hash, head.organisation_id, *before]
        params += _params(chunk, fields, db)
        ids = run(_write_query(len(chunk)), params)
        if not ids:
            if start:  # the first chunk's UPDATE holds the head: nothing can move it
                raise RuntimeError("the chain head moved while this transaction held it")
            known = _known().get(head.organisation_id)
            if known is not None:
                known.contended = True
            raise HeadMoved
        for event, (pk,) in zip(chunk, ids, strict=True):
            _saved(event, pk, db)
        before = (last.sequence, last.hash)
    _remember(head.organisation_id, *before)


def _write_orm(head: LedgerHead, events: list[ConsentEvent]) -> None:
    ConsentEvent.objects.bulk_create(events, batch_size=1000)
    latest = {(e.subject_id, e.purpose_id): e for e in events}  # the last one by sequence wins
    ConsentState.objects.bulk_create(
        [
            ConsentState(
                organisation_id=event.organisation_id,
                subject_id=event.subject_id,
                purpose_id=event.purpose_id,
                event=event,
                action=event.action,
                captured_at=event.captured_at,
            )
            for event in latest.values()
        ],
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["subject", "purpose"],
        update_fields=["event", "action", "captured_at"],
    )
    head.save(update_fields=["sequence", "hash"])
