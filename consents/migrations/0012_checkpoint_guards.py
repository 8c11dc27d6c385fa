from django.db import migrations

from consents import db_guards

# Listed here, not in db_guards: what a migration did must not change later.
TABLES = {"consents_ledgercheckpoint": "signed checkpoints are kept"}


def install(apps, schema_editor):
    db_guards.checkpoint_guards(schema_editor.connection, install=True)
    db_guards.truncate_guard_install(schema_editor.connection, tables=TABLES)


def remove(apps, schema_editor):
    db_guards.truncate_guard_remove(schema_editor.connection, tables=TABLES)
    db_guards.checkpoint_guards(schema_editor.connection, install=False)


class Migration(migrations.Migration):
    """The database refuses UPDATE, DELETE and (PostgreSQL) TRUNCATE of signed checkpoints: with
    the checkpoints gone, nothing would remember how far the chain had reached."""

    dependencies = [
        ("consents", "0011_subject_rights_and_suppression"),
    ]

    operations = [migrations.RunPython(install, remove)]
