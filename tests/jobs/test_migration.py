"""The move of evidence.ExportJob to jobs.Job keeps every row, its id and its file."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("evidence", "0003_job_outcome"), ("jobs", "0001_job")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_every_export_job_becomes_a_job_with_its_id_file_and_outcome(org, dpo):
    old = _migrate(BEFORE)
    ExportJob = old.get_model("evidence", "ExportJob")
    done = ExportJob.objects.create(
        organisation_id=org.pk,
        kind="pack",
        status="done",
        requested_by_id=dpo.pk,
        description="all purposes",
        result=f"exports/{org.pk}/41/evidence-pack.zip",
        result_name="evidence-pack.zip",
        result_sha256="ab" * 32,
        result_size=1234,
        id=41,
    )
    ExportJob.objects.create(
        organisation_id=org.pk, kind="import", status="done", outcome={"events": 4}, id=42
    )

    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    new = _migrate(leaves)

    Job = new.get_model("jobs", "Job")
    copied = Job.objects.get(pk=done.pk)
    assert (copied.kind, copied.status, copied.result.name, copied.result_sha256) == (
        "pack",
        "done",
        f"exports/{org.pk}/41/evidence-pack.zip",
        "ab" * 32,
    )
    assert copied.requested_by_id == dpo.pk and copied.description == "all purposes"
    assert Job.objects.get(pk=42).outcome == {"events": 4}
    # The next job gets a fresh id: the sequence moved past the copied ones.
    assert Job.objects.create(organisation_id=org.pk, kind="certificate").pk > 42
