from celery import shared_task

from .reminders import reminders_send


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def send_deadline_reminders() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): the deadline reminders of every organisation. Safe to run
    twice: each stage is sent once per request and due date (rights_requests.reminders)."""
    return reminders_send()
