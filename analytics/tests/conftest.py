"""Fixtures for the figures (on the root conftest's catalog and reporter; helpers in analytics.testing)."""
import pytest

from analytics import testing


@pytest.fixture
def event_at(report):
    """event_at(created, accepted=+s, arrived=+s, resolved=+s, point=…, **fields): see analytics.testing."""
    return testing.event_maker(report)


@pytest.fixture
def visits(district, categories, departments):
    """November's inspections of analytics.testing.build_inspections (S1 and S2)."""
    return testing.build_inspections(district, categories, departments)


@pytest.fixture
def cases(district, categories, departments, catalog, users):
    """November's cases of analytics.testing.build_cases (S1 and S2)."""
    return testing.build_cases(district, categories, departments, users)
