"""Schemathesis over the WHOLE schema, on the test district, as two roles (the district dispatcher and a
street team leader): no 5xx, and every answer whose status the schema declares matches its schema (the
error answers are declared by core.api.schema, so refusals are checked too, not only successes).

Bounded for the integration pass (FUZZ_SCHEMA_EXAMPLES per operation, default 6, derandomized: about
3 minutes on a 2-core machine); FUZZ_RANDOM=1 explores new inputs. Path ids are aimed at rows that
exist: a generated small id is replaced by one of the ids the operation's list endpoint shows the role.
"""
import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from command_center.testing import make_dispatchable
from core.fuzzing import token_headers

pytestmark = [pytest.mark.integration, pytest.mark.fuzz]

MAX_EXAMPLES = int(os.environ.get("FUZZ_SCHEMA_EXAMPLES", "6"))
ROLES = ("dispatcher", "leader_s1")  # the district's dispatcher, one street's team leader (root conftest)
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def demo_schema(api_schema, report, users, officers, subjects):
    """The conftest district with its catalog, subjects, two events (one dispatched), a dispatch rule
    nobody edited (updated_by null), and the schema."""
    from command_center.models import DispatchRule
    from command_center.services import transitions

    make_dispatchable(officers)  # on duty with a fresh position: a desk's pick needs no override
    DispatchRule.objects.create(street=None, severity="yellow", mode="manual")
    report()
    transitions.dispatch(users["dispatcher"], report(point=(30.3, 120.3)), officers["s1"])
    return api_schema


@pytest.fixture
def role_headers(demo_schema, users):
    return {role: token_headers(users[role]) for role in ROLES}


_ids_seen: dict = {}


def existing_ids(case, headers) -> list[int]:
    """Ids the role sees at the list endpoint above the operation's first {id} (cached per test run)."""
    list_path = re.sub(r"\{id\}.*$", "", case.path)
    key = (list_path, headers["Authorization"])
    if key not in _ids_seen:
        from django.test import Client

        answer = Client().get(list_path, {"page_size": 20}, HTTP_AUTHORIZATION=headers["Authorization"])
        rows = answer.json() if answer.status_code == 200 else []
        rows = rows.get("results", rows) if isinstance(rows, dict) else rows
        _ids_seen[key] = [r["id"] for r in rows if isinstance(r, dict) and isinstance(r.get("id"), int)]
    return _ids_seen[key]


schema = schemathesis.pytest.from_fixture("demo_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES, deadline=None, database=None,
    derandomize=os.environ.get("FUZZ_RANDOM", "") != "1",
    suppress_health_check=list(HealthCheck), print_blob=True,
    phases=[Phase.generate, Phase.target, Phase.shrink],
)
def test_whole_schema_as_two_roles(case, role_headers):
    _ids_seen.clear() if len(_ids_seen) > 500 else None
    if case.media_type == "multipart/form-data" and not isinstance(case.body, dict):
        return  # multipart is a set of named parts: the test transport cannot encode a non-object body
    case.cookies = {}  # token auth only (a generated session cookie is not what this run is about)
    for role in ROLES:
        headers = role_headers[role]
        value = (case.path_parameters or {}).get("id")
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1000:
            ids = existing_ids(case, headers)
            if ids:
                case.path_parameters["id"] = ids[value % len(ids)]
        case.call_and_validate(headers=headers, checks=CHECKS)
