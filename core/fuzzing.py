"""Test support for the schema-driven fuzz tests (schemathesis): how many examples, and the API's own
OpenAPI schema loaded so that its requests go through Django's real WSGI handler. The fixtures
`api_schema` and `auth_headers` (root conftest.py) wrap these; core imports no app."""
import json
import os

import schemathesis
from django.core.cache import cache
from django.test import Client
from rest_framework.authtoken.models import Token

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
COVERAGE = os.environ.get("FUZZ_COVERAGE", "") == "1"


def json_bodies_only(raw: dict) -> dict:
    """Keep only the JSON variant of each request body.

    drf-spectacular also lists form-urlencoded and multipart bodies; schemathesis' negative cases for
    them (a list or a bare string as a "form") cannot be encoded by the WSGI client, which fails on our
    side before a request is sent. The server's parsing is the same for every variant, so JSON covers it.
    """
    for ops in raw.get("paths", {}).values():
        for op in ops.values():
            if not isinstance(op, dict):  # path-level "parameters" is a list
                continue
            content = op.get("requestBody", {}).get("content")
            if content and "application/json" in content:
                op["requestBody"]["content"] = {"application/json": content["application/json"]}
    return raw


def load_api_schema():
    """The schema, served by /api/schema/; its requests go through Django's real WSGI handler, on the
    test's own connection and inside its transaction (so the fixtures' data is there)."""
    from config.wsgi import application

    cache.clear()  # the token endpoint's anonymous throttle counts live in the cache
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200, response.content[:500]
    loaded = schemathesis.openapi.from_dict(json_bodies_only(json.loads(response.content)))
    loaded.app = application
    loaded.location = "/api/schema/"
    # (The real handler's close_old_connections() would close the test's connection on PostgreSQL:
    # the root conftest's _keep_test_connection_across_requests prevents it.)
    return loaded


def token_headers(user):
    token, _ = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}
