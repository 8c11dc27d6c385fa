"""Fill ConsentEvent.canonical_text for events written before the column existed.

The append-only trigger (consents.db_guards) refuses every UPDATE of an event, so the backfill
lifts the UPDATE guard, writes, and puts it back, all inside the migration's one transaction
(PostgreSQL: ALTER TABLE ... DISABLE/ENABLE TRIGGER; SQLite: drop and recreate the trigger).
Migrations run as the tables' owner; the application's role cannot do this.

Only text that hashes to the event's recorded hash is stored: the column is then exactly "what
was hashed". An event whose columns no longer match its hash (tampered before the backfill) is
left NULL, and verification, rebuilding it from the columns, reports it as altered.
"""

from django.db import transaction

from . import chain, db_guards

BATCH = 2000
SQLITE_UPDATE_GUARD = "consents_ledger_no_update"
POSTGRES_GUARD = "consents_ledger_append_only"


def _canonical(event) -> dict:
    # ConsentEvent.canonical() reads only plain attributes, so it works on the migration's
    # historical model too; what it returns can never change (every hash depends on it).
    from .models import ConsentEvent

    return ConsentEvent.canonical(event)


def backfill_canonical_text(event_model, connection) -> int:
    """Store the canonical text of every event that has none. Returns how many were filled."""
    missing = event_model.objects.filter(canonical_text__isnull=True).order_by("pk")
    if not missing.exists():
        return 0
    filled = 0
    # One transaction: if anything fails, the rollback puts the guard back too (DDL is
    # transactional on PostgreSQL and SQLite), so no failure leaves the ledger unguarded.
    with transaction.atomic(using=connection.alias):
        _lift_update_guard(connection)
        last_pk = 0
        while True:
            batch = list(missing.filter(pk__gt=last_pk)[:BATCH])
            if not batch:
                break
            last_pk = batch[-1].pk
            ready = []
            for event in batch:
                text = chain.canonical_json(_canonical(event))
                if chain.text_hash(event.prev_hash, text) == event.hash:
                    event.canonical_text = text
                    ready.append(event)
            event_model.objects.bulk_update(ready, ["canonical_text"], batch_size=500)
            filled += len(ready)
        _restore_update_guard(connection)
    return filled


def _lift_update_guard(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE refuses a table with deferred checks pending (rows written earlier in
            # the transaction): run them now; the backfill changes no key, so queues none.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE consents_consentevent DISABLE TRIGGER {POSTGRES_GUARD}")
        elif connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER IF EXISTS {SQLITE_UPDATE_GUARD}")
        else:
            raise NotImplementedError(f"No ledger guards for database vendor {connection.vendor!r}")


def _restore_update_guard(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE consents_consentevent ENABLE TRIGGER {POSTGRES_GUARD}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's foreign keys' default
        else:
            (statement,) = [s for s in db_guards.SQLITE_INSTALL if SQLITE_UPDATE_GUARD in s]
            cursor.execute(statement)
