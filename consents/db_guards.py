"""Database-level guards (ARCHITECTURE invariants 2 and 4): the database itself refuses

- any UPDATE or DELETE of a consent event (the ledger is append-only), and
- any UPDATE or DELETE of a published notice version (what the person read is frozen).

The model layer refuses too, but raw SQL, a shell or a bug would bypass it; these triggers do not.
A table owner can still disable triggers, which is why the hash chain is the second line of defence.
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


def _statements(vendor: str, install: bool) -> list[str]:
    if vendor == "sqlite":
        return SQLITE_INSTALL if install else SQLITE_REMOVE
    if vendor == "postgresql":
        return POSTGRES_INSTALL if install else POSTGRES_REMOVE
    raise NotImplementedError(f"No ledger guards for database vendor {vendor!r}")


def install(connection) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, install=True):
            cursor.execute(statement)


def remove(connection) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, install=False):
            cursor.execute(statement)
