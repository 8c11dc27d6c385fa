"""A worker killed in the middle of an export leaves a job that another worker completes once.

Real workers against Redis and the test's PostgreSQL database (both needed: CI provides them).
Worker A is killed with SIGKILL while it builds an evidence pack; Redis redelivers the unacked
task once its visibility timeout passes; worker B finds the job running with a stale heartbeat,
takes it over and finishes it. One result, one "exported" entry in the audit trail.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from django.db import connection

from accounts.models import AuditEntry
from evidence.packs import PackScope
from jobs.models import Job
from jobs.tasks import run_job
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def services_for_workers():
    url = os.environ.get("REDIS_URL")
    if not url or connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.fail("CI must run this with REDIS_URL and DATABASE_URL (PostgreSQL).")
        pytest.skip("Needs REDIS_URL and a PostgreSQL DATABASE_URL shared with the workers.")
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return url, f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def start_worker(redis_url, database_url, queue, log: Path, media_root):
    env = os.environ | {
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "MEDIA_ROOT": str(media_root),
        "EXPORT_JOB_STALE_SECONDS": "3",
        "CELERY_VISIBILITY_TIMEOUT": "4",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "PACK_CERTIFICATE_LIMIT": "6",
    }
    command = [
        *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork"),
        *("--concurrency=1", "--queues", queue, "--loglevel=INFO"),
        *("--without-gossip", "--without-mingle", "--hostname", f"{uuid.uuid4().hex}@%h"),
    ]
    output = log.open("w")
    return subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: killpg takes the pool child too
    )


def wait_for(predicate, timeout, what, logs):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"Timed out waiting for {what}.\n" + "\n".join(p.read_text() for p in logs))


def test_a_job_whose_worker_dies_is_completed_by_another_exactly_once(
    services_for_workers, org, dpo, tmp_path, settings
):
    redis_url, database_url = services_for_workers
    settings.MEDIA_ROOT = tmp_path / "media"
    purpose = PurposeFactory(organisation=org, code="marketing")
    notice = published_notice(purposes=[purpose])
    for _ in range(40):
        subject = DataSubjectFactory(organisation=org)
        grant(subject, purpose, notice)
    job = Job.objects.create(
        organisation=org,
        kind="pack",
        parameters=PackScope(purposes=["marketing"]).to_parameters(),
        requested_by=dpo,
        description="takeover test",
    )
    queue = f"takeover-{uuid.uuid4().hex}"
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    run_job.apply_async(args=[job.pk], queue=queue)

    worker_a = start_worker(redis_url, database_url, queue, logs[0], settings.MEDIA_ROOT)
    try:
        wait_for(
            lambda: Job.objects.filter(pk=job.pk, status="running").exists(),
            60,
            "worker A to claim the job",
            logs[:1],
        )
    finally:
        os.killpg(worker_a.pid, signal.SIGKILL)  # no warm shutdown: the task is never acked
        worker_a.wait()
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.attempts == 1

    worker_b = start_worker(redis_url, database_url, queue, logs[1], settings.MEDIA_ROOT)
    try:
        wait_for(
            lambda: Job.objects.filter(pk=job.pk, status__in=["done", "failed"]).exists(),
            180,
            "worker B to finish the job",
            logs,
        )
    finally:
        os.killpg(worker_b.pid, signal.SIGTERM)
        worker_b.wait(timeout=60)

    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert job.attempts == 2
    assert AuditEntry.objects.filter(register="job", object_id=str(job.pk)).count() == 1
    with zipfile.ZipFile(job.result.path) as pack:
        assert "summary.pdf" in pack.namelist() and "SHA256SUMS" in pack.namelist()
        assert pack.testzip() is None
