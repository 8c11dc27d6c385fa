import django.db.models.deletion
from django.db import migrations, models

# The indexes Django made for these foreign keys, by the names it gave them (the same on SQLite
# and PostgreSQL). Listed here: what a migration did must not change later.
INDEXES = {
    "consents_consentevent_organisation_id_acd7997e": ("consents_consentevent", "organisation_id"),
    "consents_consentevent_subject_id_913b4900": ("consents_consentevent", "subject_id"),
    "consents_consentstate_event_id_43ac622a": ("consents_consentstate", "event_id"),
    "consents_consentstate_organisation_id_a2c034ba": ("consents_consentstate", "organisation_id"),
    "consents_consentstate_subject_id_59d7b7e9": ("consents_consentstate", "subject_id"),
}


def drop(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def create(apps, schema_editor):
    quote = schema_editor.quote_name
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote(table)} ({quote(column)})"
        )


class Migration(migrations.Migration):
    """Five indexes fewer for every append to write (issue 10, bench/README.md): each was the
    leading column of another index, (organisation, sequence), (subject, purpose, sequence),
    (subject, purpose) or the register's (organisation, ...), or, for a state's event, never
    read. Dropped by name, not by AlterField: on SQLite, AlterField copies the ledger into a new
    table, which would leave it without its append-only triggers."""

    dependencies = [
        ("accounts", "0003_organisation_holidays_blocking"),
        ("consents", "0012_checkpoint_guards"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="consentevent",
                    name="organisation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="consent_events",
                        to="accounts.organisation",
                    ),
                ),
                migrations.AlterField(
                    model_name="consentevent",
                    name="subject",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="consents.datasubject",
                    ),
                ),
                migrations.AlterField(
                    model_name="consentstate",
                    name="event",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="consents.consentevent",
                    ),
                ),
                migrations.AlterField(
                    model_name="consentstate",
                    name="organisation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.organisation",
                    ),
                ),
                migrations.AlterField(
                    model_name="consentstate",
                    name="subject",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="states",
                        to="consents.datasubject",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop, create)],
        ),
    ]
