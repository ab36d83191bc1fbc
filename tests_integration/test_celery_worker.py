"""A real Celery worker (its own process, Redis broker, PostgreSQL settings) runs a registered task."""
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
