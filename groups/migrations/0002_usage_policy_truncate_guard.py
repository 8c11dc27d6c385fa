from django.db import migrations

from consents import db_guards

TABLES = {"groups_usagepolicyversion": "published usage policy versions are immutable"}


def install(apps, schema_editor):
    db_guards.truncate_guard_install(schema_editor.connection, tables=TABLES)


def remove(apps, schema_editor):
    db_guards.truncate_guard_remove(schema_editor.connection, tables=TABLES)


class Migration(migrations.Migration):
    """Refuse TRUNCATE of the WhatsApp usage policies people acknowledged, on PostgreSQL.

    What staff acknowledged is frozen once published, like a consent notice (invariant 4).
    The trigger function comes from consents' migration, hence the dependency.
    """

    dependencies = [
        ("groups", "0001_initial"),
        ("consents", "0008_ledger_truncate_guard"),
    ]

    operations = [migrations.RunPython(install, remove)]
