from django.db import migrations

from consents import db_guards

# The tables are listed here, not in db_guards: what a migration did must not change later.
# The head is guarded too: emptied, the next append would try to restart the chain at sequence 1.
TABLES = {
    "consents_consentevent": "consent ledger is append-only",
    "consents_ledgerhead": "consent ledger is append-only",
    "consents_noticeversion": "published notice versions are immutable",
}


def install(apps, schema_editor):
    db_guards.truncate_guard_install(schema_editor.connection, tables=TABLES)


def remove(apps, schema_editor):
    db_guards.truncate_guard_remove(schema_editor.connection, tables=TABLES, drop_function=True)


class Migration(migrations.Migration):
    """Refuse TRUNCATE of the ledger, its head and the notices on PostgreSQL (invariants 2 and 4).

    Row triggers (0002) do not see TRUNCATE, and TRUNCATE of the organisations or notices with
    CASCADE empties the ledger too. SQLite has no TRUNCATE, so this does nothing there.
    """

    dependencies = [
        ("consents", "0007_notice_informs_transfers"),
    ]

    operations = [migrations.RunPython(install, remove)]
