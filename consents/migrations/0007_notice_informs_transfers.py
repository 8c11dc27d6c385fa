from django.db import migrations, models

from consents import db_guards


def install_guards(apps, schema_editor):
    db_guards.install(schema_editor.connection, checkpoints=False)  # table from 0009, guards 0012


class Migration(migrations.Migration):
    """Whether a notice informs of international transfers, as a field (GDPR Art. 13(1)(f)).

    SQLite adds a NOT NULL column by rebuilding the table, which drops the table's triggers: the
    published-notice guard is installed again after the rebuild, both ways. Existing notices get
    False: a published notice is frozen, so a DPO records the fact on a new version.
    """

    dependencies = [
        ("consents", "0006_proof_file_rendition"),
    ]

    operations = [
        # Reversing removes the columns with another rebuild: put the guards back after it.
        migrations.RunPython(migrations.RunPython.noop, install_guards),
        migrations.AddField(
            model_name="noticeversion",
            name="informs_international_transfers",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "Tick if the text tells people their data are transferred outside the EEA"
                    " (WhatsApp transfers to the United States) and on which safeguard."
                ),
                verbose_name="informs of international transfers",
            ),
        ),
        migrations.AddField(
            model_name="noticeversion",
            name="transfer_safeguards",
            field=models.TextField(
                blank=True,
                help_text=(
                    "For example: United States, EU-US Data Privacy Framework and standard"
                    " contractual clauses."
                ),
                verbose_name="destination and safeguard",
            ),
        ),
        migrations.RunPython(install_guards, migrations.RunPython.noop),
    ]
