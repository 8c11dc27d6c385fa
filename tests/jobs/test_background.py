"""Without Redis, jobs run in a thread of the web process: the page returns at once and the job
row shows the same progress and result a Celery worker would leave (JOBS_RUNNER = "thread").

The threads have their own database connections, so these tests commit for real. The test
database on SQLite is an in-memory one with a shared cache, where two connections that touch a
table at the same moment fail with "table is locked" (no busy timeout there, unlike the file
databases of a real server); so each test lets the runner work only while the test itself waits
without touching the database, and the runner has one thread.
"""

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.signals import request_started
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from jobs import background, registry
from jobs import services as jobs
from jobs.models import Job
from jobs.registry import JobKind
from jobs.tasks import job_enqueue
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def thread_runner(settings):
    """The background runner of a fresh process, started and done with its start-up sweep."""
    settings.JOBS_RUNNER = "thread"
    settings.JOBS_THREADS = 1
    runner = background.runner()
    assert runner.wait_idle(30)
    yield runner
    background.shutdown()


def write_note(*, job, worker, on_progress=None):
    jobs.job_progress(job=job, worker=worker, done=0, total=1)
    temp = jobs.temporary_result(job)
    temp.write_bytes(b"a note")
    jobs.job_finish(job=job, worker=worker, temp=temp, filename="note.txt")


@pytest.fixture
def kind(monkeypatch):
    """kind(runner) -> the code of a job kind that runs it, registered for this test only."""

    def register(runner, code="test-note"):
        monkeypatch.setitem(registry._KINDS, code, JobKind(code=code, label=code, runner=runner))
        return code

    return register


def gate_deliveries(monkeypatch) -> threading.Event:
    """Hold every delivery of the runner until the returned event is set."""
    release = threading.Event()
    deliver = jobs.job_deliver

    def held(**kwargs):
        assert release.wait(60), "the test never released the job"
        return deliver(**kwargs)

    monkeypatch.setattr(jobs, "job_deliver", held)
    return release


def test_asking_for_a_certificate_returns_before_the_job_runs_and_the_job_then_finishes(
    thread_runner, client_for, org, dpo, monkeypatch
):
    purpose = PurposeFactory(organisation=org)
    person = DataSubjectFactory(organisation=org, full_name="Lucía Pérez")
    grant(person, purpose, published_notice(purposes=[purpose]))
    release = gate_deliveries(monkeypatch)
    client = client_for(dpo)

    started = time.monotonic()
    response = client.post(
        reverse("evidence:certificate", kwargs={"org_slug": org.slug, "pk": person.pk}),
        {"language": "es"},
    )
    elapsed = time.monotonic() - started

    # The job cannot have run: its delivery is held until now, after the page came back.
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.status == Job.Status.QUEUED and not job.result
    assert elapsed < 5
    release.set()
    assert thread_runner.wait_idle(120)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert job.result.read().startswith(b"%PDF-")
    assert job.progress_done == job.progress_total == 1 and job.attempts == 1
    row = client.get(reverse("jobs:status", kwargs={"org_slug": org.slug, "pk": job.pk}))
    assert 'data-status="done"' in row.content.decode()


def test_a_runner_that_fails_leaves_the_job_failed_with_its_reason(thread_runner, kind, org, dpo):
    def broken(*, job, worker, on_progress=None):
        raise ValueError("the purpose has no notice in Arabic")

    job = job_enqueue(organisation=org, kind=kind(broken), parameters={}, requested_by=dpo)
    assert thread_runner.wait_idle(30)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error == "ValueError: the purpose has no notice in Arabic"
    assert job.finished_at is not None


def test_a_transient_database_error_hands_the_job_back_and_it_is_tried_again(
    thread_runner, kind, org, dpo, monkeypatch
):
    monkeypatch.setattr(background, "retry_countdown", lambda retries: 0)
    calls = []

    def flaky(*, job, worker, on_progress=None):
        calls.append(worker)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        write_note(job=job, worker=worker)

    job = job_enqueue(organisation=org, kind=kind(flaky), parameters={}, requested_by=dpo)
    assert thread_runner.wait_idle(30)
    job.refresh_from_db()
    assert len(calls) == 2 and job.attempts == 2
    assert job.status == Job.Status.DONE and job.result.read() == b"a note"


def test_a_restarted_server_takes_up_the_jobs_an_earlier_process_left(settings, kind, org, dpo):
    settings.JOBS_RUNNER = "thread"
    settings.JOBS_THREADS = 1
    settings.EXPORT_JOB_STALE_SECONDS = 60
    code = kind(write_note)

    def claimed(worker, heartbeat_at):
        """A job ``worker`` claimed once and last reported on at ``heartbeat_at``."""
        return Job.objects.create(
            organisation=org,
            kind=code,
            requested_by=dpo,
            status=Job.Status.RUNNING,
            claimed_by=worker,
            heartbeat_at=heartbeat_at,
            attempts=1,
        )

    queued = Job.objects.create(organisation=org, kind=code, requested_by=dpo)
    dead = claimed("host:1:dead", heartbeat_at=timezone.now() - timedelta(seconds=61))
    alive = claimed("host:2:alive", heartbeat_at=timezone.now())
    try:
        # The first request a server answers starts its runner, which sweeps for such jobs.
        request_started.send(sender=None)
        assert background._runner is not None and background._runner.wait_idle(30)
    finally:
        background.shutdown()
    for job in (queued, dead, alive):
        job.refresh_from_db()
    assert queued.status == dead.status == Job.Status.DONE
    assert queued.attempts == 1 and dead.attempts == 2
    assert dead.result.read() == b"a note"
    # A heartbeat that is still fresh may be a live worker elsewhere: its claim is respected.
    assert alive.status == Job.Status.RUNNING and alive.claimed_by == "host:2:alive"


def test_requests_start_no_runner_when_jobs_run_elsewhere(settings):
    settings.JOBS_RUNNER = "celery"
    request_started.send(sender=None)
    assert background._runner is None


def test_a_job_held_at_exit_is_handed_back_queued_and_its_old_delivery_cannot_finish(
    thread_runner, kind, org, dpo, settings
):
    claimed = threading.Event()
    release = threading.Event()

    def slow(*, job, worker, on_progress=None):
        claimed.set()
        release.wait(30)
        write_note(job=job, worker=worker)

    job = job_enqueue(organisation=org, kind=kind(slow), parameters={}, requested_by=dpo)
    assert claimed.wait(30)
    thread_runner.hand_back()
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.claimed_by == ""
    release.set()
    assert thread_runner.wait_idle(30)
    job.refresh_from_db()
    # The abandoned delivery lost its claim: no result, the job waits for the next process.
    assert job.status == Job.Status.QUEUED and not job.result
    assert not list((Path(settings.MEDIA_ROOT) / "exports").rglob(f"job{job.pk}-*"))


def _settings_in_a_fresh_process(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "JOBS_RUNNER")}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.JOBS_RUNNER)",
        ],
        cwd=BASE_DIR,
        env=clean | {"DJANGO_SETTINGS_MODULE": "config.settings"} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "runner"),
    [({}, "thread"), ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, "celery")],
)
def test_jobs_run_in_threads_without_redis_and_in_celery_with_it(env, runner):
    result = _settings_in_a_fresh_process(**env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == runner


def test_celery_without_a_broker_is_refused_rather_than_blocking_pages():
    result = _settings_in_a_fresh_process(JOBS_RUNNER="celery")
    assert result.returncode != 0
    assert "JOBS_RUNNER=celery needs REDIS_URL" in result.stderr
