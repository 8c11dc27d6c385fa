"""The job machinery: claimed once, taken over only when stale, results written atomically."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry
from jobs import services as jobs
from jobs.models import Job
from jobs.tasks import run_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(org, dpo):
    return Job.objects.create(
        organisation=org, kind="certificate", requested_by=dpo, description="test"
    )


def test_a_queued_job_is_claimed_exactly_once(job):
    first = jobs.job_claim(job_id=job.pk, worker="a")
    second = jobs.job_claim(job_id=job.pk, worker="b")
    assert first is not None and first.claimed_by == "a" and first.attempts == 1
    assert second is None


def test_a_running_job_is_taken_over_only_once_its_heartbeat_is_stale(job, settings):
    settings.EXPORT_JOB_STALE_SECONDS = 60
    jobs.job_claim(job_id=job.pk, worker="a")
    assert jobs.job_claim(job_id=job.pk, worker="b") is None
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    taken = jobs.job_claim(job_id=job.pk, worker="b")
    assert taken.claimed_by == "b" and taken.attempts == 2


def test_a_worker_that_lost_its_claim_can_neither_report_nor_finish(job, settings):
    settings.EXPORT_JOB_STALE_SECONDS = 0
    old = jobs.job_claim(job_id=job.pk, worker="a")
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=5))
    jobs.job_claim(job_id=job.pk, worker="b")
    with pytest.raises(jobs.ClaimLost):
        jobs.job_progress(job=old, worker="a", done=1, total=2)
    temp = jobs.temporary_result(old)
    temp.write_bytes(b"half a result")
    with pytest.raises(jobs.ClaimLost):
        jobs.job_finish(job=old, worker="a", temp=temp, filename="x.pdf")
    assert not temp.exists()
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and not job.result


def test_finishing_moves_the_result_into_place_and_puts_the_export_on_record(job, dpo):
    claimed = jobs.job_claim(job_id=job.pk, worker="a")
    temp = jobs.temporary_result(claimed)
    temp.write_bytes(b"%PDF-1.7 result")
    done = jobs.job_finish(job=claimed, worker="a", temp=temp, filename="certificate.pdf")
    assert done.status == Job.Status.DONE and not temp.exists()
    assert done.result.read() == b"%PDF-1.7 result"
    assert done.result_size == 15 and len(done.result_sha256) == 64
    assert done.expires_at > timezone.now()
    entry = AuditEntry.objects.get(action="exported")
    assert entry.user == dpo and entry.register == "job"


def test_expired_files_are_deleted_and_the_job_row_stays(job):
    claimed = jobs.job_claim(job_id=job.pk, worker="a")
    temp = jobs.temporary_result(claimed)
    temp.write_bytes(b"data")
    done = jobs.job_finish(job=claimed, worker="a", temp=temp, filename="c.pdf")
    path = done.result.path
    assert jobs.jobs_expire_files(now=timezone.now() + timedelta(days=365)) == 1
    done.refresh_from_db()
    assert done.result_expired and not done.result and done.status == Job.Status.DONE
    import os

    assert not os.path.exists(path)


def test_a_finished_job_delivered_again_is_left_alone(job):
    Job.objects.filter(pk=job.pk).update(status=Job.Status.DONE)
    assert run_job.apply(args=[job.pk]).get() == "nothing to do"
    job.refresh_from_db()
    assert job.attempts == 0


def test_a_job_whose_runner_fails_is_marked_failed_with_the_reason(job):
    job.parameters = {"subject_id": 999999}
    job.save()
    assert run_job.apply(args=[job.pk]).get() == "failed"
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "DoesNotExist" in job.error


def test_the_exports_page_says_what_a_job_covers_in_the_readers_language(client_for, org, dpo):
    # A job started from the command line used to read "all purposes (command line)" in English
    # on every page: its description is now said from its parameters, in the page's language.
    from evidence.packs import PackScope

    Job.objects.create(
        organisation=org,
        kind="pack",
        parameters={**PackScope().to_parameters(), "source": "command"},
        description="all purposes",
    )
    client = client_for(dpo)
    spanish = client.get(
        reverse("jobs:list", args=[org.slug]), HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert "todas las finalidades" in spanish and "(línea de órdenes)" in spanish
    arabic = client.get(
        reverse("jobs:list", args=[org.slug]), HTTP_ACCEPT_LANGUAGE="ar"
    ).content.decode()
    assert "جميع الأغراض" in arabic and "all purposes" not in arabic
