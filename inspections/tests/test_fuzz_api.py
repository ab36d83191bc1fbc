"""Schema-driven fuzzing of the inspections API (as core/tests/test_fuzz_api.py does for grids):
generated requests, valid and invalid, at every inspections operation, as the S1 team leader. No 5xx,
and documented responses match their schema. FUZZ_EXAMPLES / FUZZ_RANDOM as there."""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from core import fuzzing
from inspections import services
from inspections.testing import month_str

pytestmark = pytest.mark.fuzz

PATHS = r"^/api/v1/(inspection-plans|inspections|inspection-results)/"
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))


@pytest.fixture
def api_schema(world):
    return fuzzing.load_api_schema()


@pytest.fixture
def known_ids(world, users):
    plan = services.draft_plan(users["leader_s1"], street="S1", month=month_str(world["month"]),
                               subjects=[world["subjects"][0].pk])
    return {"inspection-plans": [plan.pk], "inspections": list(plan.visits.values_list("pk", flat=True))}


@pytest.fixture
def auth_headers(users):
    token, _ = Token.objects.get_or_create(user=users["leader_s1"])
    return {"Authorization": f"Token {token.key}"}


schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex=PATHS)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
          derandomize=os.environ.get("FUZZ_RANDOM", "") != "1", suppress_health_check=list(HealthCheck),
          print_blob=True, phases=[Phase.generate, Phase.target, Phase.shrink])
def test_inspections_api_never_500(case, auth_headers, known_ids):
    value = (case.path_parameters or {}).get("id")
    ids = known_ids.get(case.path.split("/")[3])
    if ids and isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1000:
        case.path_parameters["id"] = ids[value % len(ids)]
    case.call_and_validate(headers=auth_headers,
                           checks=[not_a_server_error, response_schema_conformance, content_type_conformance])
