"""Fixtures for the command center (built by command_center.testing): a small published catalog, a
helper that reports events, a crew of officers, tasks inline, the push's sent messages."""
import pytest

from command_center import push, testing


@pytest.fixture
def crew(users, officers, teams, departments):
    """Officers of S1 placed north of S1_POINT at the given distances (metres)."""
    return testing.build_crew(teams, departments)


@pytest.fixture
def inline_tasks(settings):
    """Automatic dispatch is a Celery task: run it inline on both passes (no worker in the tests)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True


@pytest.fixture
def sent(monkeypatch):
    """Every group message the push sends, as (group, message), instead of the channel layer (single
    sends go through the batch sender too)."""
    out = []
    monkeypatch.setattr(push, "_group_send_many", out.extend)
    return out
