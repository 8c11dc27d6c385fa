from django.db import migrations

from consents import db_guards


def install(apps, schema_editor):
    # The checkpoints' guards came with their table (0012).
    db_guards.install(schema_editor.connection, checkpoints=False)


def remove(apps, schema_editor):
    db_guards.remove(schema_editor.connection, checkpoints=False)


class Migration(migrations.Migration):
    dependencies = [("consents", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
