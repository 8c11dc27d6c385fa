"""Celery tasks of the rights-request register: thin, idempotent, acks_late."""

from celery import shared_task

from . import purge
from .reminders import reminders_send


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def send_deadline_reminders() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): the deadline reminders of every organisation. Safe to run
    twice: each stage is sent once per request and due date (rights_requests.reminders)."""
    return reminders_send()


@shared_task(
    name="rights_requests.tasks.purge_blocked_subjects",
    acks_late=True,
    time_limit=3600,
    soft_time_limit=3300,
)
def purge_blocked_subjects() -> list[int]:
    """Nightly: purge every blocked person whose blocking period has ended (LOPDGDD Art. 32).
    Idempotent: a purged person is a tombstone and is not purged again; a run that dies
    part-way leaves the rest for the next night (each person is one transaction)."""
    return purge.purge_due()
