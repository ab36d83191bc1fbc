"""Schema-driven fuzzing of the review queue (GET /api/v1/review/), as a team leader: never a 5xx,
documented responses match their schema."""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from core.fuzzing import MAX_EXAMPLES, token_headers

pytestmark = pytest.mark.fuzz


schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex=r"^/api/v1/review/")


@pytest.fixture
def under_review(report, users, officers):
    from command_center.services import review, transitions

    review.install_default_rules()
    e = transitions.dispatch(users["dispatcher"], report(), officers["s1"])
    e = transitions.accept(users["officer_s1"], e)
    e = transitions.arrive(users["officer_s1"], e)
    return transitions.resolve(users["officer_s1"], e, "已处置")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
          derandomize=os.environ.get("FUZZ_RANDOM", "") != "1", suppress_health_check=list(HealthCheck),
          print_blob=True, phases=[Phase.generate, Phase.target, Phase.shrink])
def test_review_api_never_500(case, users, under_review):
    case.cookies = {}
    case.call_and_validate(headers=token_headers(users["leader_s1"]),
                           checks=[not_a_server_error, response_schema_conformance, content_type_conformance])
