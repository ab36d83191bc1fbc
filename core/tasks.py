"""Celery tasks of the core app.

`core.tasks.ping` is a health check: it touches nothing and returns "pong", so a monitor (or the
integration suite) can prove that a worker is consuming from the broker:
`celery -A config call core.tasks.ping` or `ping.delay().get(timeout=10)`.
"""
from celery import shared_task


@shared_task(name="core.tasks.ping", ignore_result=False)
def ping():
    return "pong"
