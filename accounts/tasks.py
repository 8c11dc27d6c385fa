"""Celery health check: proves a worker takes tasks from the broker and returns results."""

import os
import socket

from celery import shared_task


@shared_task(name="accounts.ping", acks_late=True, time_limit=30, soft_time_limit=20)
def ping(token: str) -> dict:
    """Answer ``token`` back, with which worker process answered.

    Used by operators (``celery -A config call accounts.ping --args='["x"]'``) and by the
    worker test, which checks the answer came from another process, i.e. through Redis.
    """
    return {"pong": f"pong:{token}", "hostname": socket.gethostname(), "pid": os.getpid()}
