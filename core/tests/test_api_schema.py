"""The OpenAPI schema declares the error answers (core.api.schema), per operation, with the one shape
core.api.errors gives them, and says null where answers hold null."""
import json

import pytest
from django.test import Client


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():  # generated once for the module: it reads no rows
        response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def _responses(schema, path, method):
    return schema["paths"][path][method]["responses"]


def test_error_components(schema):
    components = schema["components"]["schemas"]
    assert components["Error"]["required"] == ["detail", "code"]
    assert components["ValidationError"]["type"] == "object"


def test_every_operation_declares_its_errors(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            codes = set(operation["responses"])
            assert "503" in codes, (method, path)
            if path not in ("/api/v1/auth/token/", "/api/v1/disclosures/", "/api/v1/inspection-results/"):  # AllowAny
                assert "403" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method in ("post", "put", "patch", "delete"):
                assert {"409", "422"} <= codes, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "415"} <= codes, (method, path)
            for code, answer in operation["responses"].items():
                if code.startswith(("4", "5")):
                    ref = json.dumps(answer["content"]["application/json"]["schema"])
                    assert "#/components/schemas/Error" in ref, (method, path, code)


def test_statuses_follow_the_view(schema):
    token = _responses(schema, "/api/v1/auth/token/", "post")
    assert {"400", "413", "415", "429"} <= set(token) and "403" not in token and "401" not in token
    dispatch = _responses(schema, "/api/v1/events/{id}/dispatch/", "post")
    assert {"412", "428", "404", "409"} <= set(dispatch)
    areas = _responses(schema, "/api/v1/areas/", "get")
    assert {"400", "403", "404"} <= set(areas) and "409" not in areas and "413" not in areas
    # Session authentication comes first: an anonymous request is 403, never 401.
    assert not any("401" in op["responses"] for item in schema["paths"].values() for op in item.values()
                   if isinstance(op, dict) and "responses" in op)
    # A status a view declares itself stays as declared.
    assert "$ref" in json.dumps(_responses(schema, "/api/v1/events/", "post")["201"])


def test_hand_declared_field_over_a_nullable_column_is_nullable(schema):
    rule = schema["components"]["schemas"]["DispatchRule"]["properties"]
    assert rule["updated_by"].get("nullable") is True
    event = schema["components"]["schemas"]["EventDetail"]["properties"]
    assert not event["deadlines"].get("nullable")  # a reverse relation is a list, never null


def test_drf_errors_carry_a_code(users, api):
    assert api().get("/api/v1/areas/").json()["code"] == "not_authenticated"
    answer = api(users["dispatcher"]).get("/api/v1/areas/999999/")
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"


@pytest.mark.parametrize("when", ["0316-11-04T11:41:57.685+19:11", "1900-06-01T00:00:00+08:00",
                                  "9999-12-31T23:59:59-12:00"])
def test_times_outside_1970_9000_are_refused(users, api, officers, when):
    """Found by schemathesis: a ping of year 316 was stored and answered as "…+08:05:43" (Shanghai's local
    mean time before 1901), not a valid date-time."""
    officer = officers["s1"]
    answer = api(users["officer_s1"]).post(f"/api/v1/officers/{officer.pk}/position/",
                                           {"lat": 30.2, "lng": 120.2, "recorded_at": when}, format="json")
    assert answer.status_code == 400 and "recorded_at" in answer.json()


def test_a_bare_list_error_gets_the_documented_shape(users, api):
    """Found by schemathesis: DRF's search filter refuses a NUL with a bare list, ["…"], which is neither
    documented shape."""
    answer = api(users["bureau"]).get("/api/v1/subject-categories/", {"search": "a\x00b"})
    assert answer.status_code == 400
    body = answer.json()
    assert isinstance(body, dict) and body["code"] and body["detail"]
