"""A small published catalog on top of the shared test district (streets S1 urban, S2 general)."""
import pytest

from enforcement.testing import build_catalog


@pytest.fixture
def catalog(district, departments, teams):
    """V1 published: S1 holds SR-001 and SC-001 from 2026-01-01; S2 holds SR-001 2026-06-01…2026-12-31."""
    return build_catalog(district, departments, teams)
