"""Fixtures for the command center (built by command_center.testing): a crew of officers, tasks inline,
the push's sent messages, the shared officers on duty."""
import pytest

from command_center import push, testing


@pytest.fixture(autouse=True)
def _dispatchable_officers(request):
    """The shared officers as the desk meets them in the command center's tests: on duty, a fresh position
    at their street's point, 李四 also qualified for the comprehensive enforcement
    department's matters, so the desk's pick needs no override (dispatching.OVERRIDABLE). Tests of the
    ranking or the override set them otherwise."""
    if "officers" not in request.fixturenames:
        return
    testing.make_dispatchable(request.getfixturevalue("officers"))


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
