"""Login/logout, the home page, the language switch, the OpenAPI schema and its docs page."""
import json
import re

import pytest
import yaml
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from drf_spectacular.validation import validate_schema

from grids.testing import *  # noqa: E402,F403  (the shared district, built once per module)

pytestmark = pytest.mark.django_db


def test_login_page_and_login(client, users):
    r = client.get("/login/")
    assert r.status_code == 200 and 'name="username"' in r.content.decode()
    r = client.post("/login/", {"username": "dispatcher", "password": "pass-word-1"})
    assert r.status_code == 302 and r["Location"] == "/"
    r = client.get("/")
    assert r.status_code == 200 and "dispatcher" in r.content.decode()


def test_login_redirects_to_next(client, users):
    r = client.post("/login/", {"username": "dispatcher", "password": "pass-word-1", "next": "/map/"})
    assert r["Location"] == "/map/"
    # …but never off-site.
    client.logout()
    r = client.post("/login/", {"username": "dispatcher", "password": "pass-word-1", "next": "https://evil.example/"})
    assert r["Location"] == "/"


def test_wrong_password_shows_error(client, users):
    r = client.post("/login/", {"username": "dispatcher", "password": "nope"})
    assert r.status_code == 200 and "用户名或密码不正确" in r.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout(client, users):
    client.force_login(users["dispatcher"])
    r = client.post("/logout/")
    assert r.status_code == 302 and r["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_home_requires_login_and_shows_role_links(client, users):
    assert client.get("/")["Location"] == "/login/?next=/"
    client.force_login(users["bureau"])
    html = client.get("/").content.decode()
    assert "/subjects/import/" in html and "/audit/" in html
    assert 'href="/subjects/"' in html and 'href="/api/v1/subjects/"' not in html  # the page, not the API
    client.force_login(users["officer_s1"])
    html = client.get("/").content.decode()
    assert "/subjects/import/" not in html and "/audit/" not in html and "执法队员" in html


def test_chinese_by_default_and_english_by_the_switch(client, users):
    client.force_login(users["dispatcher"])
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in html
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/map/"})
    assert r.status_code == 302 and r["Location"] == "/map/"
    assert client.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "en"
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    # The switch back.
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans">' in client.get("/").content.decode()


def test_language_switch_on_the_login_page(client, db):
    html = client.get("/login/").content.decode()
    assert 'action="/i18n/setlang/"' in html and 'value="en"' in html


def test_times_in_shanghai(settings):
    assert settings.TIME_ZONE == "Asia/Shanghai" and settings.LANGUAGE_CODE == "zh-hans"


# --- OpenAPI ----------------------------------------------------------------------------------

def test_schema_is_valid_openapi_3(client, users):
    client.force_login(users["dispatcher"])
    r = client.get("/api/schema/")
    assert r.status_code == 200
    schema = yaml.safe_load(r.content)
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)
    paths = schema["paths"]
    for path in ("/api/v1/areas/", "/api/v1/areas/{id}/", "/api/v1/areas/{id}/notices/", "/api/v1/grids/locate/",
                 "/api/v1/subjects/", "/api/v1/subjects/{id}/", "/api/v1/officers/", "/api/v1/officers/{id}/position/",
                 "/api/v1/auth/token/"):
        assert path in paths, path
    params = {p["name"] for p in paths["/api/v1/subjects/"]["get"]["parameters"]}
    assert {"area", "area_code", "category", "status", "tag", "q", "ordering", "page", "page_size"} <= params
    locate = {p["name"] for p in paths["/api/v1/grids/locate/"]["get"]["parameters"]}
    assert locate == {"lat", "lng"}
    assert "Token" in json.dumps(schema["components"]["securitySchemes"]) or "tokenAuth" in schema["components"]["securitySchemes"]
    assert "PaginatedNoticeList" in json.dumps(paths["/api/v1/areas/{id}/notices/"]["get"]["responses"])


def test_schema_as_json(client, users):
    client.force_login(users["dispatcher"])
    r = client.get("/api/schema/", {"format": "json"})
    assert r.status_code == 200 and json.loads(r.content)["openapi"].startswith("3.")


def test_docs_page_uses_vendored_assets(client, users):
    client.force_login(users["dispatcher"])
    r = client.get("/api/docs/")
    assert r.status_code == 200
    html = r.content.decode()
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert assets, html
    assert not [a for a in assets if re.match(r"(https?:)?//", a)], assets
    assert not re.search(r"https?://(?!localhost|testserver)", html), "no external URL in the docs page"
    static = [a for a in assets if a.startswith("/static/")]
    assert any("swagger-ui" in a for a in static)
    for asset in static:
        assert finders.find(asset.removeprefix("/static/").split("?")[0]), asset
    # Swagger UI would otherwise fetch a badge from validator.swagger.io. Its set-up script is a file of
    # its own (no inline script: the Content Security Policy).
    script = client.get("/api/docs/", {"script": ""}).content.decode()
    assert '"validatorUrl": null' in script


def test_english_browser_still_gets_chinese_by_default(client, db):
    r = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert r.status_code == 200
    assert 'lang="zh-hans"' in r.content.decode()


@pytest.mark.parametrize("who", ["dispatcher", "leader_s1", "bureau", "officer_s1", "platform"])
def test_home_tiles_lead_only_to_pages_the_user_may_open(client, users, who):
    client.force_login(users[who])
    html = client.get("/").content.decode()
    tiles = re.search(r'<ul class="tiles">(.*?)</ul>', html, re.S).group(1)
    links = re.findall(r'href="([^"]+)"', tiles)
    assert links
    for link in links:
        assert client.get(link).status_code == 200, (who, link)
    command = who in ("dispatcher", "leader_s1", "bureau")
    assert ("/command/" in links and "/command/screen/" in links) is command
    assert ("/m/" in links) is (who == "officer_s1")
    assert ("/credit/ranking/" in links) is (who != "platform")
