"""The command center's follow-ups survive a process killed right after its commit: intake's automatic
dispatch, push and webhooks, and a sweep's breach push and webhooks are outbox rows written in the same
transaction. Simulated crash: the commit happens, its on-commit callbacks never run; then the drain
(another process) runs them, each exactly once however often it runs."""
from datetime import timedelta

import pytest
from django.utils import timezone

from command_center import push
from command_center.choices import Status
from command_center.models import Assignment, WebhookDelivery
from command_center.services import sweep
from command_center.testing import Receiver, rule
from core import outbox
from core.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _dispatchable_officers():
    """These tests count the shared officers as created (as test_dispatch does)."""


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]  # the local receiver (webhooks refuse loopback otherwise)
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def hooked(receiver, users):
    from command_center.models import WebhookSubscription

    return WebhookSubscription.objects.create(client=users["platform"], url=receiver.url, secret="s3cret",
                                              kinds=["event.created", "assignment.changed", "sla.breached"])


def later(seconds=3):
    return timezone.now() + timedelta(seconds=seconds)


def drain(capture, **kw):
    """The drain, as another process runs it (what its handlers commit runs its own follow-ups)."""
    with capture(execute=True):
        return outbox.drain(now=later(), **kw)


def created_pushes(sent_messages, event_id):
    return [m["payload"] for g, m in sent_messages
            if g == push.DISTRICT_GROUP and m["payload"]["type"] == "event.created" and m["payload"]["event"]["id"] == event_id]


def hook_kinds(receiver, event_id):
    import json

    bodies = [json.loads(r["body"]) for r in receiver.requests]
    return sorted(b["kind"] for b in bodies if b["event"]["id"] == event_id)


def test_intake_killed_after_its_commit_is_dispatched_pushed_and_delivered_once(
        report, crew, inline_tasks, sent, receiver, hooked, django_capture_on_commit_callbacks):  # noqa: F811
    rule(mode="automatic")
    with django_capture_on_commit_callbacks(execute=False) as lost:
        event = report()
    assert lost  # the work that followed the commit in memory: gone with the process
    event.refresh_from_db()
    assert event.status == Status.NEW and sent == [] and receiver.requests == []
    assert sorted(OutboxMessage.objects.filter(done_at__isnull=True).values_list("kind", flat=True)) == [
        "command_center.dispatch.auto", "command_center.push.event", "command_center.webhooks.event"]

    assert drain(django_capture_on_commit_callbacks) == 3
    event.refresh_from_db()
    assert event.status == Status.DISPATCHED and event.officer == crew["near"]
    assert Assignment.objects.filter(event=event).count() == 1
    assert len(created_pushes(sent, event.pk)) == 1
    assert hook_kinds(receiver, event.pk) == ["assignment.changed", "event.created"]

    # Drained again, and again later: nothing runs twice.
    before = (len(sent), len(receiver.requests))
    assert drain(django_capture_on_commit_callbacks) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.drain(now=later(3600)) == 0
    assert (len(sent), len(receiver.requests)) == before
    assert Assignment.objects.filter(event=event).count() == 1
    assert not OutboxMessage.objects.filter(done_at__isnull=True).exists()


def test_a_row_run_again_after_its_runner_died_does_nothing_twice(
        report, crew, inline_tasks, sent, receiver, hooked, settings, django_capture_on_commit_callbacks):  # noqa: F811
    """The runner did the work, then died before marking the rows done: their claims go stale and the
    drain runs them again; dispatch, push and the webhook deliveries each still happen once."""
    rule(mode="automatic")
    with django_capture_on_commit_callbacks(execute=True):
        event = report()
    event.refresh_from_db()
    assert event.status == Status.DISPATCHED
    counts = (len(created_pushes(sent, event.pk)), WebhookDelivery.objects.count(), len(receiver.requests))
    assert counts == (1, 2, 2)
    mine = OutboxMessage.objects.filter(payload__event_id=event.pk, payload__kind="event.created")
    assert mine.count() == 3
    mine.update(done_at=None, claimed_at=timezone.now() - timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS + 1))
    assert drain(django_capture_on_commit_callbacks) == 3
    assert (len(created_pushes(sent, event.pk)), WebhookDelivery.objects.count(), len(receiver.requests)) == counts
    assert Assignment.objects.filter(event=event).count() == 1


def test_a_retry_of_the_request_after_the_crash_does_not_lose_the_follow_ups(
        report, crew, inline_tasks, sent, django_capture_on_commit_callbacks):  # noqa: F811
    """The client saw no answer and retries with the same key: 200 with the first event (before, that
    retry never queued the dispatch again); the drain dispatches it."""
    rule(mode="automatic")
    with django_capture_on_commit_callbacks(execute=False):
        first = report(key="retry-1")
    with django_capture_on_commit_callbacks(execute=True):
        again = report(key="retry-1")
    assert again.pk == first.pk
    drain(django_capture_on_commit_callbacks)
    first.refresh_from_db()
    assert first.status == Status.DISPATCHED and len(created_pushes(sent, first.pk)) == 1


def test_a_sweep_killed_after_its_commit_pushes_and_delivers_its_breaches_once(
        report, inline_tasks, sent, receiver, hooked, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        event = report()
    with django_capture_on_commit_callbacks(execute=False):
        assert sweep.sweep_due_deadlines(now=timezone.now() + timedelta(days=1)) > 0
    breaches = [m for _g, m in sent if m["payload"]["type"] == "sla.breached"]
    assert breaches == [] and hook_kinds(receiver, event.pk) == ["event.created"]
    drain(django_capture_on_commit_callbacks)
    drain(django_capture_on_commit_callbacks)
    fired = event.breaches.count()
    pushed = [m for g, m in sent if g == push.DISTRICT_GROUP and m["payload"]["type"] == "sla.breached"]
    assert fired >= 1 and len(pushed) == fired
    assert hook_kinds(receiver, event.pk).count("sla.breached") == fired
