"""Fixtures for the figures (on the root conftest's catalog and reporter; helpers in analytics.testing)."""
import pytest

from analytics import testing


@pytest.fixture
def event_at(report):
    """event_at(created, accepted=+s, arrived=+s, resolved=+s, point=…, **fields): see analytics.testing."""
    return testing.event_maker(report)
