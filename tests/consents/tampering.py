"""What an attacker with SQL access could do to the ledger behind the application's back: for
tests that show verification catches it. The append-only triggers are dropped only for the
change and put back even when it fails, so the rest of the test runs guarded again."""

from contextlib import contextmanager

from django.db import connection

from consents import db_guards
from consents.models import ConsentEvent


@contextmanager
def guards_dropped():
    """The block runs with the append-only triggers dropped; they are put back after it."""
    db_guards.remove(connection)
    try:
        yield
    finally:
        db_guards.install(connection)


def tamper(statement, params):
    """Alter the ledger behind the application's back, as an attacker with SQL access could."""
    with guards_dropped(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def rewind(org, keep: int) -> None:
    """Delete the events after #keep and their states, and move the head back to #keep: a chain
    that is sound in itself, only shorter."""
    last_kept = ConsentEvent.objects.get(organisation=org, sequence=keep)
    with guards_dropped(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM consents_consentstate WHERE organisation_id = %s", [org.pk])
        cursor.execute(
            "DELETE FROM consents_consentevent WHERE organisation_id = %s AND sequence > %s",
            [org.pk, keep],
        )
        cursor.execute(
            "UPDATE consents_ledgerhead SET sequence = %s, hash = %s WHERE organisation_id = %s",
            [keep, last_kept.hash, org.pk],
        )
