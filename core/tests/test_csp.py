"""The pages send a strict Content Security Policy (only this site's files; inline page scripts by nonce),
and no template holds what that policy would refuse: inline handlers, style attributes, <style> blocks,
or a <script> without the nonce. The browser tests count any CSP refusal as a console error."""
import re
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


def directives(response) -> dict:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split("; ")}


@pytest.mark.django_db
def test_pages_send_a_strict_policy(users):
    client = Client()
    client.force_login(users["dispatcher"])
    r = client.get("/map/")
    assert r.status_code == 200
    policy = directives(r)
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["style-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]  # its configuration is data (json_script): no inline script, no nonce
    assert "'unsafe-inline'" not in r["Content-Security-Policy"]
    assert "ws://127.0.0.1:*" in policy["connect-src"]  # the live push
    assert directives(Client().get("/login/"))["script-src"] == ["'self'"]  # no inline script, no nonce
    # The supermarket's script is a file too (static/js/supermarket.js): no page carries an inline script.
    client.force_login(users["bureau"])
    r = client.get("/catalog/supermarket/")
    assert r.status_code == 200
    assert "<script nonce" not in r.content.decode() and "/static/js/supermarket.js" in r.content.decode()
    assert directives(r)["script-src"] == ["'self'"]


@pytest.mark.django_db
def test_api_docs_allow_inline_styles_only_and_serve_their_script_as_a_file(users):
    client = Client()
    client.force_login(users["dispatcher"])
    page = client.get("/api/docs/")
    assert page.status_code == 200
    policy = directives(page)
    assert "'unsafe-inline'" in policy["style-src"] and policy["script-src"] == ["'self'"]
    html = page.content.decode()
    assert "<script>" not in html and "?script=" in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_templates_hold_nothing_the_policy_refuses(path):
    html = path.read_text()
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler: use a listener (static/js/page.js)"
    assert not re.search(r"\sstyle\s*=", html), "style attribute: use a class"
    assert "<style" not in html, "inline <style>: use a file under static/css/"
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'nonce="{{ request.csp_nonce }}"' in tag or "application/json" in tag, tag
