"""Schema-driven fuzzing of /api/v1/events/ (schemathesis), as core/tests/test_fuzz_api.py does for the
grids endpoints: whatever the input, never a 5xx, and documented responses match their schema.
Authenticated as a district-wide dispatcher, so the actions are reachable."""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from core.fuzzing import MAX_EXAMPLES, token_headers

pytestmark = pytest.mark.fuzz


@pytest.fixture
def event_ids(report, users, officers):
    from command_center.services import transitions

    a, b = report(), report(point=(30.7, 121.7))
    transitions.dispatch(users["dispatcher"], b, officers["s2"])
    return [a.pk, b.pk]


schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex=r"^/api/v1/events/")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES, deadline=None, database=None,
    derandomize=os.environ.get("FUZZ_RANDOM", "") != "1",
    suppress_health_check=list(HealthCheck), print_blob=True,
    phases=[Phase.generate, Phase.target, Phase.shrink],
)
def test_events_api_never_500(case, users, event_ids):
    value = (case.path_parameters or {}).get("id")
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1000:
        case.path_parameters["id"] = event_ids[value % len(event_ids)]
    if case.media_type == "multipart/form-data" and not isinstance(case.body, dict):
        return  # multipart is a set of named parts: the test transport cannot even encode a non-object body
    # Token auth only: a generated session cookie with a NUL in it fails in Django's session loading on
    # PostgreSQL before any of our code runs (the core fuzz run covers authentication).
    case.cookies = {}
    case.call_and_validate(
        headers=token_headers(users["dispatcher"]),
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
