"""Celery app. With REDIS_URL set, Redis is the broker and workers + beat run the tasks; without it
(the embedded default) tasks run inline in the calling process (CELERY_TASK_ALWAYS_EAGER)."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("enforcement_center")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
