"""Celery tasks: thin wrappers around the services of the same name."""
from celery import shared_task

from inspections import services


@shared_task(name="inspections.tasks.sweep_overdue")
def sweep_overdue():
    return services.sweep_overdue()
