"""Celery tasks of the core app.

`core.tasks.ping` is a health check: it touches nothing and returns "pong", so a monitor (or the
integration suite) can prove that a worker is consuming from the broker:
`celery -A config call core.tasks.ping` or `ping.delay().get(timeout=10)`.
"""
from celery import shared_task

from core import outbox


@shared_task(name="core.tasks.ping", ignore_result=False)
def ping():
    return "pong"


@shared_task(name=outbox.PROCESS_TASK, ignore_result=True)
def process_outbox(ids):
    """The deferred follow-ups a commit just wrote (core.outbox), run by a worker right after it."""
    return outbox.process(ids)


@shared_task(name="core.tasks.drain_outbox", ignore_result=True)
def drain_outbox():
    """The outbox's safety net (Celery beat, every second): follow-ups their process left undone."""
    return outbox.drain()
