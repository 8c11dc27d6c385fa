"""Celery app: tasks come from each app's tasks.py, settings from CELERY_* in Django."""

import os

from celery import Celery
from celery.signals import worker_process_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("constancia")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_shutdown.connect
def _remove_fonts(**kwargs):
    """A pool process ends with os._exit, which runs no atexit handler: remove its copy of the
    evidence fonts (evidence.pdf.fonts_remove) here."""
    from evidence.pdf import fonts_remove

    fonts_remove()
