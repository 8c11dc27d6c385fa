"""Every row of evidence.ExportJob becomes a jobs.Job with the same id, so result files (kept
under exports/<organisation>/<id>/) and audit entries naming a job id stay true."""

from django.core.management.color import no_style
from django.db import migrations

FIELDS = [
    "id",
    "organisation_id",
    "kind",
    "parameters",
    "description",
    "requested_by_id",
    "status",
    "progress_done",
    "progress_total",
    "result",
    "result_name",
    "result_sha256",
    "result_size",
    "result_expired",
    "error",
    "outcome",
    "attempts",
    "claimed_by",
    "heartbeat_at",
    "created_at",
    "started_at",
    "finished_at",
    "expires_at",
]


def _copy(source, target, schema_editor):
    rows = [target(**{f: getattr(row, f) for f in FIELDS}) for row in source.objects.all()]
    target.objects.bulk_create(rows, batch_size=1000)
    if rows:
        # Ids were given explicitly: move the id sequence past them (PostgreSQL), or the next
        # job would collide with a copied one.
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [target]):
                cursor.execute(statement)


def forwards(apps, schema_editor):
    _copy(apps.get_model("evidence", "ExportJob"), apps.get_model("jobs", "Job"), schema_editor)


def backwards(apps, schema_editor):
    _copy(apps.get_model("jobs", "Job"), apps.get_model("evidence", "ExportJob"), schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0001_job"),
        ("evidence", "0003_job_outcome"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
