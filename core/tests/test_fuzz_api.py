"""Schema-driven fuzzing of the API: schemathesis reads /api/schema/ and throws generated requests
(valid and invalid) at every grids endpoint, authenticated as a district-wide bureau_staff user.

The rule that must hold: no 5xx, whatever the input. Responses that are documented must also match
their documented schema (status codes the schema leaves out, e.g. 400/404 on every operation, are
not held against it: our error bodies are described once, in core.api.errors).

Bounded: FUZZ_EXAMPLES (default 25) generated examples per operation, derandomized so CI is
repeatable; FUZZ_RANDOM=1 explores new inputs on each run; FUZZ_COVERAGE=1 adds schemathesis'
coverage phase (boundary and type-confused values for every parameter: thorough, but minutes).
Runs in the fast pass (SQLite) and again in the integration pass (PostgreSQL, which rejects
NUL characters and out-of-range integers differently).
"""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)

from core.fuzzing import COVERAGE, MAX_EXAMPLES
from grids import services

pytestmark = pytest.mark.fuzz

# The grids endpoints of issue 2 (+ the token endpoint). New apps add their own fuzz runs or widen this.
GRIDS_PATHS = (
    r"^/api/v1/(areas|grids/locate|subjects|subject-categories|departments|teams|officers|auth/token)/"
)
@pytest.fixture
def known_ids(district, officers, categories, departments, teams):
    """Ids that exist, per resource, so that part of the generated paths reach real objects."""
    s1 = services.insert_subject(None, name="老王面馆", category=categories["restaurant"],
                                 lat=30.2, lng=120.2, licence_no="91330105MA0000001X", contact_phone="13900001111")
    s2 = services.insert_subject(None, name="城北工地", category=categories["building_site"],
                                 lat=30.7, lng=121.7, tags=["重点"])
    return {
        "areas": [a.pk for a in district.values()],
        "subjects": [s1.pk, s2.pk],
        "subject-categories": [c.pk for c in categories.values()],
        "departments": [d.pk for d in departments.values()],
        "teams": [t.pk for t in teams.values()],
        "officers": [o.pk for o in officers.values()],
    }


def aim_at_known_ids(case, known_ids):
    """Generated ids are mostly 0 or huge; small non-negative ones are mapped onto existing objects
    (deterministically, so hypothesis can still shrink). Negative, huge and non-integer ids stay as they are."""
    value = (case.path_parameters or {}).get("id")
    resource = case.path.split("/")[3] if case.path.count("/") > 3 else ""
    ids = known_ids.get(resource)
    if ids and isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1000:
        case.path_parameters["id"] = ids[value % len(ids)]


schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex=GRIDS_PATHS)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the checkout
    derandomize=os.environ.get("FUZZ_RANDOM", "") != "1",
    suppress_health_check=list(HealthCheck),
    print_blob=True,
    # schemathesis' coverage phase (boundary values for every parameter, in Phase.explicit) costs
    # ~3,000 requests for these endpoints: opt in with FUZZ_COVERAGE=1.
    phases=list(Phase) if COVERAGE else [Phase.generate, Phase.target, Phase.shrink],
)
def test_api_never_500(case, auth_headers, known_ids):
    aim_at_known_ids(case, known_ids)
    case.call_and_validate(
        headers=auth_headers,
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance,
                response_headers_conformance],
    )
