import pytest

from grids.models import Subject


@pytest.fixture
def subjects(district, categories):
    """Restaurants: two in street S1, one in S2; a building site in S1."""
    def make(name, grid, category, lng):
        return Subject.objects.create(name=name, category=categories[category], lat=30.25, lng=lng,
                                      grid=district[grid])

    return {
        "s1": make("S1 饭店", "S1G1", "restaurant", 120.25),
        "s1b": make("S1 面馆", "S1G2", "restaurant", 120.75),
        "s2": make("S2 饭店", "S2G1", "restaurant", 121.25),
        "site": make("S1 工地", "S1G1", "building_site", 120.3),
    }


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
