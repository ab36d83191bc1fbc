"""A real Celery worker (its own process, Redis broker, PostgreSQL settings) runs a registered task."""
import threading
import time
import uuid

import pytest
from django.db import connection

from config.celery import app
from core.tasks import ping
from tests_integration.conftest import LiveProcess, live_env, python_cmd

pytestmark = pytest.mark.integration


@pytest.mark.django_db
def test_worker_runs_the_ping_task_through_the_broker(tmp_path):
    queue = f"it-{uuid.uuid4().hex[:12]}"  # a queue of our own: no other worker steals the task
    env = live_env(connection.settings_dict["NAME"])
    cmd = python_cmd("-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1", "-Q", queue,
                     "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
                     "-n", f"{queue}@%h")
    with LiveProcess(cmd, env, tmp_path / "worker.log") as worker:
        result = ping.apply_async(queue=queue)
        try:
            assert result.get(timeout=30) == "pong"
        except Exception as exc:
            pytest.fail(f"the worker did not answer ({exc!r}); its log:\n{worker.output()}")
        assert result.successful()
        assert "core.tasks.ping" in worker.output()


def test_ping_is_registered():
    assert "core.tasks.ping" in app.tasks


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_deferred_rows_whose_commits_shared_one_message(tmp_path, monkeypatch, settings):
    """core.outbox in production's shape: commits hand their deferred rows to this process's sender, which
    sends what piled up during a send in flight as one `process_outbox` message; a real worker runs them all."""
    from core import outbox
    from core.models import OutboxMessage
    from credit.services.rescoring import RESCORE_IN_WORKER_TOPIC
    from django.db import transaction

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.control.purge()  # messages an earlier test queued must not run against this one's rows
    real_send, messages, first_in_flight, release = outbox.enqueue_deferred, [], threading.Event(), threading.Event()

    def held_first(ids, producer=None):
        first_in_flight.set()
        assert release.wait(30)
        messages.append(list(ids))
        real_send(ids, producer)

    monkeypatch.setattr(outbox, "enqueue_deferred", held_first)
    gone = {"subject_id": 10**9, "cause": "fact_posted", "fact_id": None, "actor_id": None}  # done at once
    ids = []
    for i in range(6):
        with transaction.atomic():
            ids += outbox.publish(RESCORE_IN_WORKER_TOPIC, gone)
        if i == 0:
            assert first_in_flight.wait(10)
    release.set()
    assert outbox.wait_sent(30)
    assert messages == [ids[:1], ids[1:]]  # six commits, two messages
    env = live_env(connection.settings_dict["NAME"])  # no beat: nothing but the worker runs the rows
    cmd = python_cmd("-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
                     "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
                     "-n", f"it-outbox-{uuid.uuid4().hex[:8]}@%h")
    with LiveProcess(cmd, env, tmp_path / "worker.log") as worker:
        deadline = time.monotonic() + 60
        while OutboxMessage.objects.filter(pk__in=ids, done_at__isnull=True).exists():
            if time.monotonic() > deadline or worker.proc.poll() is not None:
                pytest.fail(f"the worker did not run the rows; its log:\n{worker.output()}")
            time.sleep(0.1)
        received = [line for line in worker.output().splitlines() if "process_outbox[" in line and "received" in line]
        assert len(received) == 2, worker.output()
    assert OutboxMessage.objects.filter(pk__in=ids, attempts=1, last_error="").count() == 6
