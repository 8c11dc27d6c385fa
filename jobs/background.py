"""The in-process background runner: jobs run beside the web process when no Celery worker is
configured (settings.JOBS_RUNNER = "thread", the default without REDIS_URL).

A page that starts a job returns at once; one of a few daemon threads delivers the job through
jobs.services.job_deliver, the very path a Celery worker takes (claim, runner, atomic finish,
failure with its reason), so the Exports page polls the same row and progress either way.

Nothing runs twice: every delivery claims the row first. A job that is busy elsewhere or hit a
transient error is tried again later, as Celery would (same limits). On start (the first request
or the first job of the process) the runner takes up what a previous process left unfinished:
queued jobs at once, running jobs once their heartbeat is stale (EXPORT_JOB_STALE_SECONDS), so a
job that is still alive in another process keeps its claim. When the process exits normally
(Ctrl-C on `make run`), the jobs it holds are handed back as queued, so the next start runs them
without waiting for the heartbeat to go stale; a killed process leaves that to the stale rule.
"""

import atexit
import heapq
import itertools
import logging
import threading
import time

from django.conf import settings
from django.db import connections
from django.utils import timezone

from . import services as jobs
from .models import Job
from .services import MAX_RETRIES, retry_countdown

log = logging.getLogger(__name__)

_RECOVER = 0  # not a job id (they start at 1): "take up what a previous process left"


class BackgroundRunner:
    def __init__(self, *, threads: int):
        self._cond = threading.Condition()
        self._due: list[tuple[float, int, int, int]] = []  # (when, order, job id, retries)
        self._order = itertools.count()
        self._running = 0
        self._holding: dict[str, int] = {}  # worker name of each delivery -> its job id
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._work, name=f"jobs-{n}", daemon=True)
            for n in range(max(1, threads))
        ]

    def start(self) -> None:
        self.submit(_RECOVER)
        for thread in self._threads:
            thread.start()
        atexit.register(self.hand_back)

    def submit(self, job_id: int, *, delay: float = 0.0, retries: int = 0) -> None:
        with self._cond:
            item = (time.monotonic() + delay, next(self._order), job_id, retries)
            heapq.heappush(self._due, item)
            self._cond.notify()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no delivery is running or due now (later retries may still be waiting)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._running or (self._due and self._due[0][0] <= time.monotonic()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
            return True

    def stop(self, timeout: float = 10.0) -> None:
        """Take no more jobs; wait for the running ones (tests end each runner with this)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)
        atexit.unregister(self.hand_back)

    def hand_back(self) -> None:
        """At exit: queue again the jobs our threads still hold. The update is fenced on our claim,
        so a delivery that finished meanwhile keeps its result, and one still running can no
        longer report or finish (ClaimLost): the next process runs the job once, from the start."""
        with self._cond:
            self._stopping = True
            holding = dict(self._holding)
            self._cond.notify_all()
        for worker, job_id in holding.items():
            try:
                Job.objects.filter(pk=job_id, claimed_by=worker, status=Job.Status.RUNNING).update(
                    status=Job.Status.QUEUED, claimed_by="", heartbeat_at=None
                )
            except Exception:  # the process is ending: the stale rule will free the job instead
                log.exception("could not hand job %s back", job_id)

    def _next(self):
        with self._cond:
            while not self._stopping:
                if self._due:
                    wait = self._due[0][0] - time.monotonic()
                    if wait <= 0:
                        self._running += 1
                        return heapq.heappop(self._due)
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    def _work(self) -> None:
        while (item := self._next()) is not None:
            _, _, job_id, retries = item
            try:
                if job_id == _RECOVER:
                    self._recover()
                else:
                    self._deliver(job_id, retries)
            except Exception:  # a thread that died here would silently stop running jobs
                log.exception("background runner: job %s", job_id)
            finally:
                # Each thread has its own connections: close them rather than leave SQLite
                # handles or PostgreSQL sessions open between jobs.
                connections.close_all()
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

    def _deliver(self, job_id: int, retries: int) -> None:
        worker = jobs.worker_name()
        with self._cond:
            self._holding[worker] = job_id
        try:
            outcome, error = jobs.job_deliver(job_id=job_id, worker=worker)
        except jobs.TRANSIENT_ERRORS as lookup_error:  # the database failed before the runner ran
            outcome, error = jobs.TRANSIENT, lookup_error
        finally:
            with self._cond:
                self._holding.pop(worker, None)
        log.info("job %s: %s", job_id, outcome)
        if retries >= MAX_RETRIES:
            if outcome in (jobs.BUSY, jobs.TRANSIENT):
                log.error("job %s: giving up after %s tries (%s)", job_id, retries + 1, error)
            return
        if outcome == jobs.BUSY:
            delay = jobs.stale_after().total_seconds() + 1
            self.submit(job_id, delay=delay, retries=retries + 1)
        elif outcome == jobs.TRANSIENT:
            self.submit(job_id, delay=retry_countdown(retries), retries=retries + 1)

    def _recover(self) -> None:
        now = timezone.now()
        stale = jobs.stale_after()
        unfinished = Job.objects.filter(
            status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
        ).values_list("pk", "status", "heartbeat_at")
        for job_id, status, heartbeat in unfinished.order_by("pk"):
            delay = 0.0
            if status == Job.Status.RUNNING and heartbeat and heartbeat > now - stale:
                # Perhaps alive in another process: try once its heartbeat could be stale.
                delay = (heartbeat + stale - now).total_seconds() + 1
            log.info("job %s left %s by an earlier process: taken up", job_id, status)
            self.submit(job_id, delay=delay)


_runner: BackgroundRunner | None = None
_runner_lock = threading.Lock()


def runner() -> BackgroundRunner:
    """This process's runner, started on first use."""
    global _runner
    with _runner_lock:
        if _runner is None:
            _runner = BackgroundRunner(threads=settings.JOBS_THREADS)
            _runner.start()
        return _runner


def submit(job_id: int) -> None:
    runner().submit(job_id)


def start_with_first_request(**kwargs) -> None:
    """request_started receiver: a restarted server takes up unfinished jobs before anyone asks
    for a new one (the Exports page's polling is enough)."""
    if _runner is None and settings.JOBS_RUNNER == "thread":
        runner()


def shutdown(timeout: float = 10.0) -> None:
    """Stop this process's runner and forget it: the next use starts a fresh one."""
    global _runner
    with _runner_lock:
        if _runner is not None:
            _runner.stop(timeout)
        _runner = None
