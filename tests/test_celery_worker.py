"""A real Celery worker takes a task through Redis and sends the result back."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from accounts.tasks import ping

pytestmark = pytest.mark.worker

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must set REDIS_URL: the worker test may not be skipped there.")
        pytest.skip("REDIS_URL is not set: no broker to run a real Celery worker against.")
    return url


@pytest.fixture
def worker(redis_url, tmp_path):
    """A `celery worker` subprocess on a queue of its own, so it takes only this test's tasks."""
    queue = f"test-{uuid.uuid4().hex}"
    log = tmp_path / "worker.log"
    env = os.environ | {"REDIS_URL": redis_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    command = [
        *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"),
        *("--queues", queue, "--loglevel=INFO", "--without-gossip", "--without-mingle"),
        *("--hostname", f"{queue}@%h"),
    ]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield queue, process, log
    finally:
        process.send_signal(signal.SIGTERM)  # warm shutdown
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_worker_answers_a_ping_sent_through_redis(worker):
    queue, process, log = worker
    result = ping.apply_async(args=["constancia"], queue=queue)
    try:
        answer = result.get(timeout=60)
    except Exception:
        pytest.fail(f"No answer from the worker (exit code {process.poll()}):\n{log.read_text()}")

    assert answer["pong"] == "pong:constancia"
    # Answered by the worker process, not run eagerly in this one.
    assert answer["pid"] != os.getpid()
    assert answer["pid"] == process.pid
    assert result.successful()


def test_worker_tests_opt_out_of_eager_mode(settings):
    # Every other test runs tasks in-process (tests/conftest.py); these must reach the broker.
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
    assert ping.app.conf.task_always_eager is False


def test_a_pool_process_removes_its_copy_of_the_fonts_as_it_ends(monkeypatch):
    from celery.signals import worker_process_shutdown

    from evidence import pdf

    removed = []
    monkeypatch.setattr(pdf, "fonts_remove", lambda: removed.append(True))
    worker_process_shutdown.send(sender=None, pid=1, exitcode=0)
    assert removed == [True]
