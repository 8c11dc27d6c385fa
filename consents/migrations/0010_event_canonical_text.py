from django.db import migrations, models

from consents.backfill import backfill_canonical_text


def backfill(apps, schema_editor):
    backfill_canonical_text(apps.get_model("consents", "ConsentEvent"), schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("consents", "0009_ledger_checkpoint"),
    ]

    operations = [
        migrations.AddField(
            model_name="consentevent",
            name="canonical_text",
            field=models.TextField(blank=True, editable=False, null=True),
        ),
        # Events already in the ledger get the text they were hashed over (consents.backfill).
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
