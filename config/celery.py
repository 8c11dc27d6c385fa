"""Celery app: tasks come from each app's tasks.py, settings from CELERY_* in Django."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("constancia")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
