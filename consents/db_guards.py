"""Database-level guards (ARCHITECTURE invariants 2 and 4): the database itself refuses

- any UPDATE or DELETE of a consent event (the ledger is append-only), and
- any UPDATE or DELETE of a published notice version (what the person read is frozen), and
- any UPDATE or DELETE of a signed ledger checkpoint (what was signed is what the chain is
  checked against).

The model layer refuses too, but raw SQL, a shell or a bug would bypass it; these triggers do not.
A table owner can still disable triggers, which is why the hash chain is the second line of defence.

Row triggers do not see TRUNCATE, which empties a table at once (and, with CASCADE, every table
whose rows point at it: truncating the organisations or the notices would take the ledger with
them). On PostgreSQL a statement-level BEFORE TRUNCATE trigger refuses it on the ledger, its head
and the published texts; it fires for tables reached by CASCADE too, so guarding the tables that
hold the evidence covers every way in (checked on PostgreSQL 15). SQLite has no TRUNCATE: its
``DELETE FROM t`` without WHERE runs the row triggers above.

The refusal gives way only when the session sets ``constancia.allow_truncate = 'on'``, which the
test suite does (tests/conftest.py) because Django empties tables with TRUNCATE after each
transactional test. Any role may set that variable, so it stops accidents and careless scripts,
not an attacker: the real defences are that the application connects as a role that owns no table
and has no TRUNCATE privilege (deploy/postgres/), so it can neither truncate nor drop or disable a
trigger, and the hash chain, which shows any gap whoever made it.
"""

SQLITE_INSTALL = [
    """CREATE TRIGGER IF NOT EXISTS consents_ledger_no_update
       BEFORE UPDATE ON consents_consentevent
       BEGIN SELECT RAISE(ABORT, 'consent ledger is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS consents_ledger_no_delete
       BEFORE DELETE ON consents_consentevent
       BEGIN SELECT RAISE(ABORT, 'consent ledger is append-only: DELETE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS consents_notice_frozen_update
       BEFORE UPDATE ON consents_noticeversion
       WHEN OLD.published_at IS NOT NULL
       BEGIN SELECT RAISE(ABORT, 'published notice version is immutable: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS consents_notice_frozen_delete
       BEFORE DELETE ON consents_noticeversion
       WHEN OLD.published_at IS NOT NULL
       BEGIN SELECT RAISE(ABORT, 'published notice version is immutable: DELETE refused'); END""",
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS consents_ledger_no_update",
    "DROP TRIGGER IF EXISTS consents_ledger_no_delete",
    "DROP TRIGGER IF EXISTS consents_notice_frozen_update",
    "DROP TRIGGER IF EXISTS consents_notice_frozen_delete",
]

POSTGRES_INSTALL = [
    """CREATE OR REPLACE FUNCTION consents_ledger_append_only() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'consent ledger is append-only: % refused', TG_OP
           USING ERRCODE = 'integrity_constraint_violation';
       END $$""",
    """CREATE OR REPLACE FUNCTION consents_notice_frozen() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         IF OLD.published_at IS NOT NULL THEN
           RAISE EXCEPTION 'published notice version is immutable: % refused', TG_OP
             USING ERRCODE = 'integrity_constraint_violation';
         END IF;
         IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
         RETURN NEW;
       END $$""",
    "DROP TRIGGER IF EXISTS consents_ledger_append_only ON consents_consentevent",
    """CREATE TRIGGER consents_ledger_append_only
       BEFORE UPDATE OR DELETE ON consents_consentevent
       FOR EACH ROW EXECUTE FUNCTION consents_ledger_append_only()""",
    "DROP TRIGGER IF EXISTS consents_notice_frozen ON consents_noticeversion",
    """CREATE TRIGGER consents_notice_frozen
       BEFORE UPDATE OR DELETE ON consents_noticeversion
       FOR EACH ROW EXECUTE FUNCTION consents_notice_frozen()""",
]
POSTGRES_REMOVE = [
    "DROP TRIGGER IF EXISTS consents_ledger_append_only ON consents_consentevent",
    "DROP TRIGGER IF EXISTS consents_notice_frozen ON consents_noticeversion",
]


# Signed checkpoints (consents/checkpoints.py) are kept as they were signed: a checkpoint deleted
# or changed in the database would let a rewound head pass the checks against it (migration 0012).
CHECKPOINT_SQLITE_INSTALL = [
    """CREATE TRIGGER IF NOT EXISTS consents_checkpoint_no_update
       BEFORE UPDATE ON consents_ledgercheckpoint
       BEGIN SELECT RAISE(ABORT, 'signed checkpoints are kept: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS consents_checkpoint_no_delete
       BEFORE DELETE ON consents_ledgercheckpoint
       BEGIN SELECT RAISE(ABORT, 'signed checkpoints are kept: DELETE refused'); END""",
]
CHECKPOINT_SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS consents_checkpoint_no_update",
    "DROP TRIGGER IF EXISTS consents_checkpoint_no_delete",
]
CHECKPOINT_POSTGRES_INSTALL = [
    """CREATE OR REPLACE FUNCTION consents_checkpoint_kept() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'signed checkpoints are kept: % refused', TG_OP
           USING ERRCODE = 'integrity_constraint_violation';
       END $$""",
    "DROP TRIGGER IF EXISTS consents_checkpoint_kept ON consents_ledgercheckpoint",
    """CREATE TRIGGER consents_checkpoint_kept
       BEFORE UPDATE OR DELETE ON consents_ledgercheckpoint
       FOR EACH ROW EXECUTE FUNCTION consents_checkpoint_kept()""",
]
CHECKPOINT_POSTGRES_REMOVE = [
    "DROP TRIGGER IF EXISTS consents_checkpoint_kept ON consents_ledgercheckpoint",
]

POSTGRES_TRUNCATE_FUNCTION = """CREATE OR REPLACE FUNCTION constancia_refuse_truncate()
   RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     -- Set only by the test suite, whose flush after transactional tests is a TRUNCATE.
     IF current_setting('constancia.allow_truncate', true) = 'on' THEN
       RETURN NULL;
     END IF;
     RAISE EXCEPTION '%: TRUNCATE of % refused', TG_ARGV[0], TG_TABLE_NAME
       USING ERRCODE = 'integrity_constraint_violation';
   END $$"""


def truncate_guard_install(connection, *, tables: dict[str, str]) -> None:
    """Refuse TRUNCATE (CASCADE included) of ``tables`` on PostgreSQL; SQLite has no TRUNCATE."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(POSTGRES_TRUNCATE_FUNCTION)
        for table, reason in tables.items():
            name = connection.ops.quote_name(f"{table}_no_truncate")
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {quoted}")
            # Trigger arguments are literals, not parameters: the reasons are our own constants.
            argument = "'" + reason.replace("'", "''") + "'"
            cursor.execute(
                f"CREATE TRIGGER {name} BEFORE TRUNCATE ON {quoted}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION constancia_refuse_truncate({argument})"
            )


def truncate_guard_remove(
    connection, *, tables: dict[str, str], drop_function: bool = False
) -> None:
    """Drop the TRUNCATE triggers of ``tables`` (and the function, once no app uses it)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            name = connection.ops.quote_name(f"{table}_no_truncate")
            cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {connection.ops.quote_name(table)}")
        if drop_function:
            cursor.execute("DROP FUNCTION IF EXISTS constancia_refuse_truncate()")


ROW_GUARDS = {
    "sqlite": (SQLITE_INSTALL, SQLITE_REMOVE),
    "postgresql": (POSTGRES_INSTALL, POSTGRES_REMOVE),
}
CHECKPOINT_GUARDS = {
    "sqlite": (CHECKPOINT_SQLITE_INSTALL, CHECKPOINT_SQLITE_REMOVE),
    "postgresql": (CHECKPOINT_POSTGRES_INSTALL, CHECKPOINT_POSTGRES_REMOVE),
}


def _apply(connection, guards: dict, *, install: bool) -> None:
    if connection.vendor not in guards:
        raise NotImplementedError(f"No ledger guards for database vendor {connection.vendor!r}")
    with connection.cursor() as cursor:
        for statement in guards[connection.vendor][0 if install else 1]:
            cursor.execute(statement)


def install(connection, *, checkpoints: bool = True) -> None:
    """The row guards; ``checkpoints=False`` for migration 0002, before that table existed."""
    _apply(connection, ROW_GUARDS, install=True)
    if checkpoints:
        _apply(connection, CHECKPOINT_GUARDS, install=True)


def remove(connection, *, checkpoints: bool = True) -> None:
    _apply(connection, ROW_GUARDS, install=False)
    if checkpoints:
        _apply(connection, CHECKPOINT_GUARDS, install=False)


def checkpoint_guards(connection, *, install: bool) -> None:
    """Only the checkpoints' row guards (migration 0012)."""
    _apply(connection, CHECKPOINT_GUARDS, install=install)
