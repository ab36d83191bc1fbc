"""Thin Celery wrappers (beat schedule in config/settings.py)."""
from celery import shared_task

from analytics import caching, services


@shared_task(name="analytics.tasks.check_hotspots")
def check_hotspots():
    return services.check_hotspots()


@shared_task(name="analytics.tasks.refresh_figures")
def refresh_figures():
    return caching.refresh_figures()
