"""Schema-driven fuzzing of the cases endpoints (cases, their steps and documents, disclosures, filing from
an event): whatever the input, no 5xx, and documented responses match their schema."""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from core.fuzzing import MAX_EXAMPLES

pytestmark = pytest.mark.fuzz

schema = schemathesis.pytest.from_fixture("api_schema").include(
    path_regex=r"^/api/v1/(cases/|color-appeals/|disclosures/|events/\{id\}/file-case/)")


@pytest.fixture
def case_headers(users, file_case):
    """A handler's token, with a case of theirs for generated ids to reach."""
    file_case()
    token, _ = Token.objects.get_or_create(user=users["officer_s1"])
    return {"Authorization": f"Token {token.key}"}


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
          derandomize=os.environ.get("FUZZ_RANDOM", "") != "1", suppress_health_check=list(HealthCheck),
          phases=[Phase.generate, Phase.target, Phase.shrink])
def test_cases_api_never_500(case, case_headers):
    from cases.models import Case

    value = (case.path_parameters or {}).get("id")
    if case.path.startswith("/api/v1/cases/") and isinstance(value, int) and not isinstance(value, bool) \
            and 0 <= value < 1000:
        case.path_parameters["id"] = Case.objects.values_list("pk", flat=True).first()
    case.call_and_validate(headers=case_headers,
                           checks=[not_a_server_error, response_schema_conformance, content_type_conformance])
