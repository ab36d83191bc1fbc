"""Schema-driven fuzzing of the credit endpoints (subject credit and override, policies, sensor readings,
effort, effort rules, colours): whatever the input, no 5xx, and documented responses match their schema."""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from core.fuzzing import MAX_EXAMPLES

pytestmark = pytest.mark.fuzz

schema = schemathesis.pytest.from_fixture("api_schema").include(
    path_regex=r"^/api/v1/(subjects/\{[a-z_]+\}/credit/|credit/(policies|effort|effort-rules|colors)/|sensor-readings/)")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
          derandomize=os.environ.get("FUZZ_RANDOM", "") != "1", suppress_health_check=list(HealthCheck),
          phases=[Phase.generate, Phase.target, Phase.shrink])
def test_credit_api_never_500(case, auth_headers):
    case.call_and_validate(headers=auth_headers,
                           checks=[not_a_server_error, response_schema_conformance, content_type_conformance])
