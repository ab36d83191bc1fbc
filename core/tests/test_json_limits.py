"""Bodies from strangers: JSON nested 1,000 deep or over the size cap is a clear 4xx at every entry point
(the DRF API, the unauthenticated token endpoint included, and the websockets), never a 500 or a dead socket."""
import json

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.test import Client

from core import safejson

DEEP = "[" * 1000 + "]" * 1000  # 2 KB: RecursionError in json.loads before core.safejson


@pytest.mark.parametrize("data, limit, deeper", [
    (b'{"a": [1, 2, {"b": [3]}]}', 4, False),
    (b'{"a": [1, 2, {"b": [3]}]}', 3, True),
    (b'[' * 65 + b']' * 65, 64, True),
    (b'[' * 64 + b']' * 64, 64, False),
    (b'[' + b'[],' * 10_000 + b'[]]', 2, False),          # wide, not deep
    (b'["' + b'[' * 500 + b'"]', 2, False),                 # brackets inside a string nest nothing
    (b'["\\"' + b'{' * 500 + b'"]', 2, False),              # ... after an escaped quote too
    (b'[' * 5000, 64, False),                                # unbalanced: left to the parser
])
def test_depth_count(data, limit, deeper):
    assert safejson.deeper_than(data, limit) is deeper


def test_loads_never_raises_recursion_error():
    with pytest.raises(safejson.JsonRejected) as err:
        safejson.loads(DEEP)
    assert err.value.kind == "too_deep"
    with pytest.raises(safejson.JsonRejected) as err:  # unbalanced: the count leaves it, the guard catches it
        safejson.loads("[" * 100_000)
    assert err.value.kind == "too_deep"
    with pytest.raises(safejson.JsonRejected) as err:
        safejson.loads("[1]", limit_bytes=2)
    assert err.value.kind == "too_large"
    assert safejson.loads('{"a": ["[{"]}') == {"a": ["[{"]}


def test_token_endpoint_unauthenticated_deep_json_is_400(db):
    cache.clear()
    response = Client().post("/api/v1/auth/token/", DEEP, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    body = response.json()
    assert body["code"] == "too_deep" and "64" in body["detail"]


def test_token_endpoint_body_over_the_cap_is_413(db, settings):
    cache.clear()
    settings.API_JSON_MAX_BYTES = 1000
    big = json.dumps({"username": "x" * 2000, "password": "y"})
    response = Client().post("/api/v1/auth/token/", big, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    # Under the cap: the ordinary answer (a bad login is 400 with field messages).
    response = Client().post("/api/v1/auth/token/", {"username": "x", "password": "y"}, content_type="application/json")
    assert response.status_code == 400


def test_malformed_json_is_400(db):
    cache.clear()
    response = Client().post("/api/v1/auth/token/", '{"username": ', content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_authenticated_endpoints_deep_json_is_400(users, api):
    for user, path in (("dispatcher", "/api/v1/events/"), ("bureau", "/api/v1/subjects/"),
                       ("bureau", "/api/v1/command/dispatch-rules/"), ("bureau", "/api/v1/credit/policies/")):
        response = api(users[user]).post(path, DEEP, content_type="application/json")
        assert response.status_code == 400, (path, response.status_code, response.content[:200])
        assert response.json()["code"] == "too_deep"


def test_nested_within_the_cap_still_parses(users, api):
    body = {"source": "citizen", "problem_type": "X", "description": "d", "lat": 30.2, "lng": 120.2,
            "reporter_name": json.loads("[" * 60 + "]" * 60)}
    response = api(users["dispatcher"]).post("/api/v1/events/", body, format="json")
    assert response.status_code == 400 and "too_deep" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/ws/link/", "/ws/command/"])
async def test_websocket_survives_bad_frames(path, users):
    from channels.db import database_sync_to_async
    from django.db import connections

    from config.routing import websocket_urlpatterns

    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    comm.scope["user"] = users["dispatcher"]
    try:
        connected, _ = await comm.connect(timeout=3)
        assert connected
        assert (await comm.receive_json_from(timeout=3))["type"] == "hello"
        for frame, code in ((DEEP, "too_deep"), ("x" * 70_000, "too_large"), ("{nope", "invalid"),
                            ("[1, 2]", None)):
            await comm.send_to(text_data=frame)
            if code:
                assert await comm.receive_json_from(timeout=3) == {"type": "error", "code": code}
        await comm.send_to(bytes_data=b"\x00")
        assert (await comm.receive_json_from(timeout=3))["code"] == "invalid"
        await comm.send_json_to({"type": "ping", "seq": 1})
        assert (await comm.receive_json_from(timeout=3))["type"] == "pong"  # still alive
    finally:
        await comm.disconnect()
        await database_sync_to_async(connections.close_all)()


def test_no_api_view_parses_json_with_drfs_uncapped_parser():
    """Every view reachable by URL parses JSON with core.api.parsers (a view naming DRF's own parser, as
    DRF's token view does, would bring the RecursionError back)."""
    from django.urls import get_resolver
    from rest_framework import parsers
    from rest_framework.views import APIView

    from core.api.parsers import JSONParser

    def views(patterns):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from views(p.url_patterns)
            else:
                cls = getattr(p.callback, "cls", None)
                if cls and issubclass(cls, APIView):
                    actions = getattr(p.callback, "actions", None) or {}
                    yield cls, [getattr(cls, a) for a in actions.values() if hasattr(cls, a)]

    seen = 0
    for cls, handlers in views(get_resolver().url_patterns):
        for parser_list in [cls.parser_classes] + [h.kwargs.get("parser_classes", []) for h in handlers
                                                   if hasattr(h, "kwargs")]:
            uncapped = [p for p in parser_list if p is parsers.JSONParser]
            assert not uncapped, cls
            seen += any(p is JSONParser for p in parser_list)
    assert seen > 20
