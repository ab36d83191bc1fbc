"""Token auth, refusals for anonymous clients, the JSON error shape and the pagination shape."""
import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from core.api.errors import exception_handler
from core.exceptions import Conflict, Forbidden, NotFound, PreconditionFailed, Unprocessable, ValidationFailed

from grids.testing import *  # noqa: E402,F403  (the shared district, built once per module)

pytestmark = pytest.mark.django_db

# Every list/detail endpoint of the API; anonymous clients are refused on each.
API_GETS = [
    "/api/v1/areas/",
    "/api/v1/areas/1/",
    "/api/v1/areas/1/notices/",
    "/api/v1/areas/geojson/?kind=street",
    "/api/v1/grids/locate/?lat=30.2&lng=120.2",
    "/api/v1/subjects/",
    "/api/v1/subjects/1/",
    "/api/v1/subjects/points/",
    "/api/v1/subject-categories/",
    "/api/v1/departments/",
    "/api/v1/teams/",
    "/api/v1/officers/",
    "/api/v1/officers/1/",
]
API_POSTS = [
    ("/api/v1/subjects/", {"name": "x"}),
    ("/api/v1/areas/1/notices/", {"title": "t", "body": "b"}),
    ("/api/v1/officers/1/position/", {"lat": 30.2, "lng": 120.2, "recorded_at": "2026-01-01T08:00:00+08:00"}),
]


@pytest.fixture(autouse=True)
def _no_throttle_history():
    cache.clear()  # the token endpoint is throttled per address; tests must not inherit each other's count
    yield
    cache.clear()


def test_token_for_good_password(users):
    r = APIClient().post("/api/v1/auth/token/", {"username": "dispatcher", "password": "pass-word-1"}, format="json")
    assert r.status_code == 200, r.content
    assert set(r.json()) == {"token"} and len(r.json()["token"]) == 40
    # The same token again for the same user.
    again = APIClient().post("/api/v1/auth/token/", {"username": "dispatcher", "password": "pass-word-1"})
    assert again.json()["token"] == r.json()["token"]


@pytest.mark.parametrize("payload", [
    {"username": "dispatcher", "password": "wrong"},
    {"username": "no-such-user", "password": "pass-word-1"},
    {"username": "dispatcher"},
    {},
])
def test_token_refused_with_json_400(users, payload):
    r = APIClient().post("/api/v1/auth/token/", payload, format="json")
    assert r.status_code == 400
    assert r["Content-Type"].startswith("application/json")
    assert "token" not in r.json()


def test_token_authenticates_requests(users, district):
    token = APIClient().post("/api/v1/auth/token/", {"username": "platform", "password": "pass-word-1"}).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    r = client.get("/api/v1/areas/")
    assert r.status_code == 200
    assert r.json()["count"] == 17  # the district-bound platform sees every area

    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    r = bad.get("/api/v1/areas/")
    assert r.status_code in (401, 403)
    assert "detail" in r.json()


def test_inactive_user_gets_no_token(users):
    users["dispatcher"].is_active = False
    users["dispatcher"].save()
    r = APIClient().post("/api/v1/auth/token/", {"username": "dispatcher", "password": "pass-word-1"})
    assert r.status_code == 400


@pytest.mark.parametrize("url", API_GETS)
def test_anonymous_get_refused(url, district):
    r = APIClient().get(url)
    assert r.status_code in (401, 403), (url, r.status_code)
    assert r["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("url,payload", API_POSTS)
def test_anonymous_post_refused(url, payload, district):
    r = APIClient().post(url, payload, format="json")
    assert r.status_code in (401, 403), (url, r.status_code)


def test_anonymous_subject_update_refused(district):
    assert APIClient().patch("/api/v1/subjects/1/", {"name": "x"}, format="json").status_code in (401, 403)


def test_user_with_no_role_sees_nothing(district, api, django_user_model):
    stranger = django_user_model.objects.create_user("stranger", password="pass-word-1")
    client = api(stranger)
    assert client.get("/api/v1/areas/").json()["count"] == 0
    assert client.get("/api/v1/subjects/").json()["count"] == 0
    assert client.get("/api/v1/officers/").json()["count"] == 0
    assert client.post("/api/v1/subjects/", {}, format="json").status_code == 403


@pytest.mark.parametrize("url", [u for u in API_GETS if "/1/" not in u and "locate" not in u and "geojson" not in u
                                 and "points" not in u])
def test_lists_are_paginated(url, users, api):
    r = api(users["bureau"]).get(url)
    assert r.status_code == 200, (url, r.content)
    body = r.json()
    assert set(body) == {"count", "next", "previous", "results"}, url


def test_page_size_and_links(users, api):
    client = api(users["bureau"])
    first = client.get("/api/v1/areas/", {"page_size": 4}).json()
    assert first["count"] == 17 and len(first["results"]) == 4
    assert first["previous"] is None and "page=2" in first["next"]
    last = client.get("/api/v1/areas/", {"page_size": 4, "page": 5}).json()
    assert len(last["results"]) == 1 and last["next"] is None and last["previous"]
    assert client.get("/api/v1/areas/", {"page": 99}).status_code == 404
    assert client.get("/api/v1/areas/", {"page_size": 100000}).json()["count"] == 17


def test_domain_errors_map_to_json():
    cases = [
        (ValidationFailed(fields={"lat": ["bad"]}), 400, {"lat": ["bad"]}),
        (ValidationFailed(fields={"lat": "bad"}), 400, {"lat": ["bad"]}),
        (NotFound("gone"), 404, {"detail": "gone", "code": "not_found"}),
        (Forbidden(), 403, {"detail": "You may not do this.", "code": "permission_denied"}),
        (Conflict(), 409, {"detail": "This conflicts with the current state.", "code": "conflict"}),
        (PreconditionFailed(), 412, {"detail": "The record changed since you read it.", "code": "precondition_failed"}),
        (Unprocessable("no", code="too_late"), 422, {"detail": "no", "code": "too_late"}),
    ]
    for exc, status, body in cases:
        r = exception_handler(exc, {})
        assert (r.status_code, r.data) == (status, body)


def test_integrity_and_django_validation_errors_map_to_json():
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError

    assert exception_handler(IntegrityError("dup"), {}).status_code == 409
    r = exception_handler(ValidationError({"name": ["too long"]}), {})
    assert (r.status_code, r.data) == (400, {"name": ["too long"]})
    r = exception_handler(ValidationError("bad"), {})
    assert r.status_code == 400 and r.data["detail"] == "bad"


@pytest.mark.parametrize("url", [
    "/api/v1/areas/99999999999999999999999/", "/api/v1/areas/-1/", "/api/v1/areas/1.5/", "/api/v1/subjects/abc/",
    "/api/v1/officers/1e308/", "/api/v1/no-such-thing/", "/api/v1/areas/?parent=-1.7976931348623157e%2B308",
    "/api/v1/subjects/?area=99999999999999999999999", "/api/v1/officers/?team=1e400",
])
def test_out_of_range_and_unknown_urls_are_json_4xx(users, api, url):
    r = api(users["bureau"]).get(url)
    assert r.status_code in (400, 404), (url, r.status_code)
    assert r["Content-Type"].startswith("application/json"), url


def test_unknown_page_outside_the_api_is_html(client, db):
    r = client.get("/no-such-page/")
    assert r.status_code == 404 and not r["Content-Type"].startswith("application/json")


def test_data_errors_are_400():
    from django.db import DataError

    assert exception_handler(DataError("value too long"), {}).status_code == 400
    assert exception_handler(OverflowError("int too large"), {}).status_code == 400
