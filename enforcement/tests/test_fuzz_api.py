"""Schema-driven fuzzing of the catalog API (as core/tests/test_fuzz_api.py does for grids): generated
requests, valid and invalid, at every enforcement endpoint, as district bureau staff. No 5xx, whatever
the input, and documented responses match their schema. FUZZ_EXAMPLES / FUZZ_RANDOM as there."""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from core import fuzzing
from enforcement.services import catalog as catalog_services
from enforcement.services import checklists as checklists_services
from enforcement.services import scenarios as scenarios_services
from enforcement.models import Delegation, Matter, TierTemplate
from enforcement.testing import build_catalog
from grids import services as grid_services

pytestmark = pytest.mark.fuzz

PATHS = (r"^/api/v1/(catalog/versions|matters|delegations|tier-templates|problem-types|checklists|scenarios|routing"
         r"|subjects/\{id\}/checklist)/")
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))  # 29 operations: ~30 s at 12


@pytest.fixture
def api_schema(district, users, categories, departments, teams):
    return fuzzing.load_api_schema()


@pytest.fixture
def known_ids(district, categories, departments, teams):
    version = build_catalog(district, departments, teams)
    catalog_services.set_tier_template(None, tier="urban", matter_codes=["SR-001"])
    cl, _ = checklists_services.save_checklist(None, code="CL", name="清单", category=categories["food"])
    checklists_services.save_checklist_item(None, cl, code="1", area_name="A", matter_code="SR-001", text="检查")
    scenario = scenarios_services.create_scenario(None, code="SC1", name="场景", categories=[categories["food"]],
                                        items=[{"kind": "enforcement", "matter_code": "SR-001"}])
    subject = grid_services.insert_subject(None, name="面馆", category=categories["restaurant"],
                                           lat=30.2, lng=120.2)
    return {
        "versions": [version.pk], "matters": list(Matter.objects.values_list("pk", flat=True)),
        "delegations": list(Delegation.objects.values_list("pk", flat=True)), "checklists": [cl.pk],
        "scenarios": [scenario.pk], "subjects": [subject.pk],
        "tier-templates": list(TierTemplate.objects.values_list("pk", flat=True)),
    }


@pytest.fixture
def auth_headers(users):
    token, _ = Token.objects.get_or_create(user=users["bureau"])
    return {"Authorization": f"Token {token.key}"}


def aim_at_known_ids(case, known_ids):
    value = (case.path_parameters or {}).get("id")
    parts = [p for p in case.path.split("/") if p]
    resource = parts[3] if parts[2] == "catalog" else parts[2]
    ids = known_ids.get(resource)
    if ids and isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1000:
        case.path_parameters["id"] = ids[value % len(ids)]


schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex=PATHS)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
          derandomize=os.environ.get("FUZZ_RANDOM", "") != "1", suppress_health_check=list(HealthCheck),
          print_blob=True, phases=[Phase.generate, Phase.target, Phase.shrink])
def test_catalog_api_never_500(case, auth_headers, known_ids):
    aim_at_known_ids(case, known_ids)
    case.call_and_validate(headers=auth_headers,
                           checks=[not_a_server_error, response_schema_conformance, content_type_conformance])
