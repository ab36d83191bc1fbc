"""Thin Celery wrappers (beat schedule in config/settings.py)."""
from celery import shared_task

from analytics import services


@shared_task(name="analytics.tasks.check_hotspots")
def check_hotspots():
    return services.check_hotspots()
