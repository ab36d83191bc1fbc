"""Celery tasks: thin wrappers around the services of the same name."""
from celery import shared_task

from command_center import signals
from command_center.services import sweep as sla_sweep
from core import outbox


@shared_task(name="command_center.tasks.sweep", ignore_result=True)
def sweep():
    """The SLA clock's tick, sent every second by Celery beat (CELERY_BEAT_SCHEDULE) in production: fires
    what is due and keeps firing deadlines as they fall due until about the next tick."""
    return sla_sweep.keep_sweeping()


@shared_task(name="command_center.tasks.process_event_submissions", ignore_result=True)
def process_event_submissions():
    """Asynchronous intake's worker, sent every second by Celery beat: processes submissions for up to
    EVENT_SUBMISSION_WORK_SECONDS (command_center.submissions.work)."""
    from command_center import submissions

    return submissions.work()


@shared_task(name="command_center.tasks.queue_breach_webhooks", ignore_result=True)
def queue_breach_webhooks(breaches):
    """Webhook deliveries for a sweep's batch of breaches. The sweep now queues them through the outbox
    (core.tasks.process_outbox); kept for messages queued before that."""
    from command_center import webhooks

    return len(webhooks.queue_breaches(breaches))


@shared_task(bind=True, name="command_center.tasks.deliver_webhook", ignore_result=True, max_retries=None)
def deliver_webhook(self, delivery_id, attempts_before=None):
    """One attempt at a webhook delivery (command_center.webhooks). A failure is retried by Celery with the
    backoff in production; in eager mode (the embedded default) `retry_due_webhooks` picks it up when due."""
    from command_center import webhooks

    outcome = webhooks.deliver(delivery_id, attempts_before)
    if outcome.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=outcome.retry_in, args=[delivery_id],
                         kwargs={"attempts_before": outcome.attempt})


@shared_task(name="command_center.tasks.retry_due_webhooks", ignore_result=True)
def retry_due_webhooks():
    """Failed webhook deliveries whose next attempt is due (Celery beat, every minute)."""
    from command_center import webhooks

    return webhooks.retry_due()


@shared_task(name="command_center.tasks.auto_dispatch", ignore_result=True)
def auto_dispatch(event_id):
    """Automatic dispatch of a committed event (command_center.services.transitions.auto_dispatch). Intake
    now queues it through the outbox (core.tasks.process_outbox); kept for messages queued before that."""
    from command_center.services import transitions

    event = transitions.auto_dispatch(event_id)
    return event.pk if event is not None else None


def enqueue_deliveries(payload, message):
    """Outbox handler (`signals.webhook_deliveries`, run right after the commit that made the deliveries):
    one `deliver_webhook` task each. Run again, it sends nothing twice: each attempt is claimed."""
    for delivery_id in payload["delivery_ids"]:
        deliver_webhook.delay(delivery_id)


def connect():
    """Called from CommandCenterConfig.ready(): webhooks makes deliveries, the tasks here send them, and
    the outbox carries one to the other (webhooks never imports the tasks)."""
    outbox.register(signals.webhook_deliveries, "command_center.tasks.deliver_webhook", enqueue_deliveries)
