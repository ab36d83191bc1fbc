"""Celery tasks: thin wrappers around cases.services."""
from celery import shared_task

from cases import services


@shared_task(name="cases.tasks.check_deadlines")
def check_deadlines():
    return services.check_deadlines()
