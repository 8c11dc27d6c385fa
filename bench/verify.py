"""Verify one organisation's whole chain in a process of its own, so its peak memory is its own.

`run` starts `python -m bench verify --org SLUG` and reads the JSON line it prints.
"""

import hashlib
import json
import sys
import time

from django.db import connection, transaction

from accounts.models import Organisation
from consents.models import GENESIS_HASH, LedgerHead
from consents.services import _CONTENT_SQL, _LINKS_SQL, ledger_verify_chain

from .report import current_rss_mb, peak_rss_mb


def verify_json(*, slug: str) -> str:
    organisation = Organisation.objects.get(slug=slug)
    # Connected and imported: what is left to grow is the verification itself.
    LedgerHead.objects.filter(organisation=organisation).exists()
    baseline = current_rss_mb()
    started = time.perf_counter()
    result = ledger_verify_chain(organisation=organisation)
    seconds = time.perf_counter() - started
    hashing, messages = hashlib_reference(organisation.pk)
    floors = verification_floors(organisation.pk, result.head_sequence)
    return json.dumps(
        {
            "ok": result.ok,
            "events_checked": result.events_checked,
            "head_sequence": result.head_sequence,
            "broken_sequence": result.broken_sequence,
            "reason": str(result.reason),
            "seconds": seconds,
            "hashlib_seconds": hashing,
            "hashlib_mb": messages / 1e6,
            "floors": floors,
            "rss_baseline_mb": baseline,
            "rss_peak_mb": peak_rss_mb(),
            "python": sys.version.split()[0],
        }
    )


def hashlib_reference(organisation_id: int) -> tuple[float, int]:
    """The reference the issue measures verification against: hashlib SHA-256 over the same
    messages (prev_hash + canonical text of every event), timing the hashing only, not the
    fetch. Returns (seconds, bytes hashed)."""
    hashing, size = 0.0, 0
    with transaction.atomic():
        connection.ensure_connection()
        with connection.connection.cursor(name="bench_hashlib") as cursor:
            cursor.execute(
                "SELECT prev_hash, canonical_text FROM consents_consentevent"
                " WHERE organisation_id = %s AND canonical_text IS NOT NULL ORDER BY sequence",
                [organisation_id],
            )
            while rows := cursor.fetchmany(20_000):
                messages = [(prev + text).encode("utf-8") for prev, text in rows]
                begun = time.perf_counter()
                for message in messages:
                    hashlib.sha256(message).hexdigest()
                hashing += time.perf_counter() - begun
                size += sum(len(m) for m in messages)
    return hashing, size


_READ_SQL = """
SELECT sum(length(prev_hash) + length(canonical_text)) FROM consents_consentevent
WHERE organisation_id = %(org)s
"""
_HASH_SQL = """
SELECT count(*) FROM consents_consentevent
WHERE organisation_id = %(org)s
  AND encode(sha256(convert_to(prev_hash || canonical_text, 'UTF8')), 'hex') <> hash
"""


# Two of verification_floors' steps, named for bench.run, which adds them up against the goal.
LINKS = "links, in sequence order (verification's 1st statement)"
HASHES = "floor: PostgreSQL's SHA-256 of every stored text"


def verification_floors(organisation_id: int, head_sequence: int) -> dict[str, float]:
    """Seconds for each statement of the verification alone, and for what any verification in
    the database must at least do: read every stored text, and hash it. If reading and hashing
    alone take longer than the goal allows, no SQL will meet it."""
    params = {"org": organisation_id, "genesis": GENESIS_HASH, "end": head_sequence}
    steps = {
        LINKS: _LINKS_SQL,
        "each hash and its columns (verification's 2nd statement)": _CONTENT_SQL,
        "floor: PostgreSQL reading every stored text": _READ_SQL,
        HASHES: _HASH_SQL,
    }
    seconds = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")  # as the verification runs them
        for label, sql in steps.items():
            begun = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            seconds[label] = time.perf_counter() - begun
    return seconds
