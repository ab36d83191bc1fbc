"""Celery tasks: thin wrappers around the services of the same name."""
from celery import shared_task

from command_center import services


@shared_task(name="command_center.tasks.sweep", ignore_result=True)
def sweep():
    """The SLA sweep, run every second by Celery beat (CELERY_BEAT_SCHEDULE) in production."""
    return services.sweep_due_deadlines()
