import pytest

from credit.testing import build_subjects


@pytest.fixture
def subjects(district, categories):
    """Restaurants: two in street S1, one in S2; a building site in S1."""
    return build_subjects(district, categories)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (the rescore) inside the test's transaction."""
    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.fixture
def eager(settings):
    """Policy changes rescore through a Celery task: inline here, also on the PostgreSQL + Redis pass
    (Celery reads its config from the Django settings on each access)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True
